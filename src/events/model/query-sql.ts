/**
 * The query DSL compiled to parameterized SQL on the `foundation_events` columns, for SQLite and PostgreSQL,
 * with exactly the semantics of `query-memory.ts` (the reference). Values and JSON paths are always
 * parameters; the SQL text only holds fixed fragments.
 *
 * SQLite: `json_type(col, ?)` / `json_extract(col, ?)` with JSON paths such as `$."items"[0]."sku"`
 * (`json_type` tells `true`/`false`/`null`/`integer`/`real`/`text`/`array`/`object` apart, so booleans are
 * never confused with 1/0). PostgreSQL: `col #> $n::text[]` (JSONB), `jsonb_typeof`, numbers compared as
 * `numeric`, strings as `COLLATE "C"` (code point order), scalar equality as JSONB equality. A numeric path
 * segment only indexes arrays on every store (PostgreSQL's `#>` would also read an object key "0": each
 * numeric segment adds a check that its parent is an array).
 *
 * @module
 */
import { decodeCursor } from './cursor.js';
import { parsePredicatePath, type PredicatePath } from './query-path.js';
import { DEFAULT_BUCKET_MS } from './query-validate.js';
import {
  DEFAULT_QUERY_LIMIT,
  type AggregateQuery,
  type EventQuery,
  type QueryPredicate,
  type QueryScalar,
} from './types.js';

/** The SQL dialects the compiler targets. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A compiled query: `SELECT … FROM foundation_events WHERE ${where} ORDER BY ${orderBy} LIMIT ${limit}`. */
export interface CompiledQuery {
  /** Condition without the word WHERE (`TRUE` when there is no filter). */
  readonly where: string;
  /** Values of the placeholders, in order (`?` for SQLite, `$n` for PostgreSQL). */
  readonly params: unknown[];
  /** `position ASC` or `position DESC`. */
  readonly orderBy: string;
  /** Page size + 1: fetch this many, then `nextPage` detects whether there is a next page. */
  readonly limit: number;
}

/**
 * A compiled aggregation:
 * `SELECT ${select} FROM foundation_events WHERE ${where} GROUP BY ${groupBy}` with `params` in that order
 * (the select's placeholders come first). `groupBy` includes the `ORDER BY`. Columns `key` and `count`;
 * PostgreSQL returns both time keys and counts as bigint (strings with `pg`): convert with `Number`.
 */
export interface CompiledAggregate {
  /** The select list (with its placeholders). */
  readonly select: string;
  /** The WHERE condition. */
  readonly where: string;
  /** The parameters of the placeholders, select's first. */
  readonly params: unknown[];
  /** The GROUP BY expression and its ORDER BY. */
  readonly groupBy: string;
}

/** Options of the compilers. */
export interface CompileOptions {
  /** PostgreSQL only: number of placeholders already used before this fragment (`$1` becomes `$n+1`). */
  readonly paramOffset?: number;
}

type Filter = Omit<EventQuery, 'order' | 'limit' | 'cursor'>;

class Params {
  readonly values: unknown[] = [];
  readonly dialect: SqlDialect;
  readonly offset: number;
  constructor(dialect: SqlDialect, offset: number) {
    this.dialect = dialect;
    this.offset = offset;
  }
  /** Adds a value, returns its placeholder (with `cast` appended on PostgreSQL). */
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return this.dialect === 'sqlite' ? '?' : `$${this.offset + this.values.length}${cast}`;
  }
}

function sqlitePath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : `."${s}"`;
  return out;
}

// ── SQLite ─────────────────────────────────────────────────────────────────────────────────────────

function sqliteEq(col: string, path: string, v: QueryScalar, p: Params): string {
  if (v === null) return `json_type(${col}, ${p.add(path)}) = 'null'`;
  if (typeof v === 'boolean') return `json_type(${col}, ${p.add(path)}) = '${v ? 'true' : 'false'}'`;
  if (typeof v === 'number') {
    return `(json_type(${col}, ${p.add(path)}) IN ('integer', 'real') AND json_extract(${col}, ${p.add(path)}) = ${p.add(v)})`;
  }
  return `(json_type(${col}, ${p.add(path)}) = 'text' AND json_extract(${col}, ${p.add(path)}) = ${p.add(v)})`;
}

function sqliteElementEq(v: QueryScalar, p: Params): string {
  if (v === null) return `j.type = 'null'`;
  if (typeof v === 'boolean') return `j.type = '${v ? 'true' : 'false'}'`;
  if (typeof v === 'number') return `j.type IN ('integer', 'real') AND j.value = ${p.add(v)}`;
  return `j.type = 'text' AND j.value = ${p.add(v)}`;
}

function sqliteOrdered(col: string, path: string, v: QueryScalar, cmp: string, p: Params): string {
  const types = typeof v === 'number' ? `IN ('integer', 'real')` : `= 'text'`;
  return `(json_type(${col}, ${p.add(path)}) ${types} AND json_extract(${col}, ${p.add(path)}) ${cmp} ${p.add(v)})`;
}

function sqlitePredicate(pred: QueryPredicate, path: PredicatePath, p: Params): string {
  const col = path.column;
  const jp = sqlitePath(path.segments);
  const v = pred.value as QueryScalar;
  switch (pred.op) {
    case 'eq':
      return sqliteEq(col, jp, v, p);
    case 'ne':
      return `NOT COALESCE(${sqliteEq(col, jp, v, p)}, FALSE)`;
    case 'gt':
      return sqliteOrdered(col, jp, v, '>', p);
    case 'gte':
      return sqliteOrdered(col, jp, v, '>=', p);
    case 'lt':
      return sqliteOrdered(col, jp, v, '<', p);
    case 'lte':
      return sqliteOrdered(col, jp, v, '<=', p);
    case 'in':
      return `(${(pred.value as readonly QueryScalar[]).map((x) => sqliteEq(col, jp, x, p)).join(' OR ')})`;
    case 'contains': {
      const inArray = `(json_type(${col}, ${p.add(jp)}) = 'array' AND EXISTS (SELECT 1 FROM json_each(${col}, ${p.add(jp)}) AS j WHERE ${sqliteElementEq(v, p)}))`;
      if (typeof v !== 'string') return inArray;
      const inString = `(json_type(${col}, ${p.add(jp)}) = 'text' AND instr(json_extract(${col}, ${p.add(jp)}), ${p.add(v)}) > 0)`;
      return `(${inString} OR ${inArray})`;
    }
    case 'exists':
      return `json_type(${col}, ${p.add(jp)}) IS ${pred.value === false ? '' : 'NOT '}NULL`;
    default:
      return 'FALSE';
  }
}

// ── PostgreSQL ─────────────────────────────────────────────────────────────────────────────────────

/** The JSONB value at the path (SQL NULL when missing), with numeric segments reaching into arrays only. */
function pgValue(path: PredicatePath, p: Params): string {
  const col = path.column;
  const segs = path.segments.map(String);
  const value = `${col} #> ${p.add(segs, '::text[]')}`;
  const checks: string[] = [];
  path.segments.forEach((s, i) => {
    if (typeof s !== 'number') return;
    const parent = i === 0 ? col : `${col} #> ${p.add(segs.slice(0, i), '::text[]')}`;
    checks.push(`jsonb_typeof(${parent}) = 'array'`);
  });
  return checks.length === 0 ? `(${value})` : `(CASE WHEN ${checks.join(' AND ')} THEN ${value} END)`;
}

function pgOrdered(path: PredicatePath, v: QueryScalar, cmp: string, p: Params): string {
  const val = pgValue(path, p);
  if (typeof v === 'number') {
    return `COALESCE(CASE WHEN jsonb_typeof(${val}) = 'number' THEN (${val} #>> '{}')::numeric ${cmp} ${p.add(v, '::numeric')} END, FALSE)`;
  }
  return `COALESCE(CASE WHEN jsonb_typeof(${val}) = 'string' THEN (${val} #>> '{}') COLLATE "C" ${cmp} ${p.add(v, '::text')} END, FALSE)`;
}

function pgPredicate(pred: QueryPredicate, path: PredicatePath, p: Params): string {
  const v = pred.value as QueryScalar;
  switch (pred.op) {
    case 'eq':
      return `COALESCE(${pgValue(path, p)} = ${p.add(JSON.stringify(v), '::jsonb')}, FALSE)`;
    case 'ne':
      return `NOT COALESCE(${pgValue(path, p)} = ${p.add(JSON.stringify(v), '::jsonb')}, FALSE)`;
    case 'gt':
      return pgOrdered(path, v, '>', p);
    case 'gte':
      return pgOrdered(path, v, '>=', p);
    case 'lt':
      return pgOrdered(path, v, '<', p);
    case 'lte':
      return pgOrdered(path, v, '<=', p);
    case 'in': {
      const values = (pred.value as readonly QueryScalar[]).map((x) => JSON.stringify(x));
      return `COALESCE(${pgValue(path, p)} = ANY(${p.add(values, '::jsonb[]')}), FALSE)`;
    }
    case 'contains': {
      const val = pgValue(path, p);
      const inArray = `(jsonb_typeof(${val}) = 'array' AND ${val} @> jsonb_build_array(${p.add(JSON.stringify(v), '::jsonb')}))`;
      if (typeof v !== 'string') return `COALESCE(${inArray}, FALSE)`;
      const inString = `(jsonb_typeof(${val}) = 'string' AND strpos(${val} #>> '{}', ${p.add(v, '::text')}) > 0)`;
      return `COALESCE(${inString} OR ${inArray}, FALSE)`;
    }
    case 'exists':
      return `${pgValue(path, p)} IS ${pred.value === false ? '' : 'NOT '}NULL`;
    default:
      return 'FALSE';
  }
}

// ── shared ─────────────────────────────────────────────────────────────────────────────────────────

function typeCondition(patterns: readonly string[], p: Params): string | undefined {
  if (patterns.includes('*')) return undefined;
  const col = p.dialect === 'postgres' ? 'type COLLATE "C"' : 'type';
  const parts = patterns.map((pattern) => {
    if (!pattern.endsWith('.*')) return `type = ${p.add(pattern, '::text')}`;
    const prefix = pattern.slice(0, -1); // 'order.'
    const upper = `${prefix.slice(0, -1)}/`; // '/' follows '.' in code point order
    return `(${col} >= ${p.add(prefix, '::text')} AND ${col} < ${p.add(upper, '::text')})`;
  });
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

function filterConditions(query: Filter, p: Params): string[] {
  const conds: string[] = [];
  if (query.types !== undefined) {
    const c = typeCondition(query.types, p);
    if (c !== undefined) conds.push(c);
  }
  if (query.stream !== undefined) conds.push(`stream = ${p.add(query.stream, '::text')}`);
  if (query.correlationId !== undefined)
    conds.push(`correlation_id = ${p.add(query.correlationId, '::text')}`);
  if (query.from !== undefined) conds.push(`time >= ${p.add(query.from, '::bigint')}`);
  if (query.to !== undefined) conds.push(`time < ${p.add(query.to, '::bigint')}`);
  for (const pred of query.where ?? []) {
    const path = parsePredicatePath(pred.path);
    if (path === undefined) {
      conds.push('FALSE');
      continue;
    }
    conds.push(p.dialect === 'sqlite' ? sqlitePredicate(pred, path, p) : pgPredicate(pred, path, p));
  }
  return conds;
}

/**
 * Compiles a validated query (see `validateQuery`) to a WHERE condition, ORDER BY and LIMIT (page size +
 * 1) on `foundation_events`. The cursor becomes `position > ?` (asc) / `position < ?` (desc).
 */
export function compileQuery(
  query: EventQuery,
  dialect: SqlDialect,
  options: CompileOptions = {},
): CompiledQuery {
  const p = new Params(dialect, options.paramOffset ?? 0);
  const conds = filterConditions(query, p);
  const desc = query.order === 'desc';
  if (query.cursor !== undefined) {
    const { position } = decodeCursor(query.cursor);
    conds.push(`position ${desc ? '<' : '>'} ${p.add(position, '::bigint')}`);
  }
  return {
    where: conds.length === 0 ? 'TRUE' : conds.join(' AND '),
    params: p.values,
    orderBy: desc ? 'position DESC' : 'position ASC',
    limit: (query.limit ?? DEFAULT_QUERY_LIMIT) + 1,
  };
}

/**
 * Compiles a validated aggregation (see `validateAggregate`): count by type (`GROUP BY type ORDER BY type`,
 * code point order) or by time bucket (`(time / bucketMs) * bucketMs`, integer arithmetic).
 */
export function compileAggregate(
  query: AggregateQuery,
  dialect: SqlDialect,
  options: CompileOptions = {},
): CompiledAggregate {
  const p = new Params(dialect, options.paramOffset ?? 0);
  let select: string;
  let groupBy: string;
  if (query.groupBy === 'type') {
    select = 'type AS key, COUNT(*) AS count';
    groupBy = dialect === 'postgres' ? 'type ORDER BY type COLLATE "C"' : 'type ORDER BY type';
  } else {
    const bucket = query.bucketMs ?? DEFAULT_BUCKET_MS;
    const b1 = p.add(bucket, '::bigint');
    const b2 = dialect === 'postgres' ? b1 : p.add(bucket);
    select =
      dialect === 'postgres'
        ? `(time / ${b1}) * ${b2} AS key, COUNT(*) AS count`
        : `(time / CAST(${b1} AS INTEGER)) * CAST(${b2} AS INTEGER) AS key, COUNT(*) AS count`;
    groupBy = 'key ORDER BY key';
  }
  const conds = filterConditions(query.filter ?? {}, p);
  return { select, where: conds.length === 0 ? 'TRUE' : conds.join(' AND '), params: p.values, groupBy };
}
