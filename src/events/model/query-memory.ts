/**
 * The query DSL evaluated in memory: the reference semantics (see `QueryPredicate`) that the SQL compiler
 * reproduces on SQLite and PostgreSQL.
 *
 * @module
 */
import { decodeCursor } from './cursor.js';
import { parsePredicatePath } from './query-path.js';
import { nextPage } from './query-page.js';
import { DEFAULT_BUCKET_MS } from './query-validate.js';
import {
  DEFAULT_QUERY_LIMIT,
  type AggregateGroup,
  type AggregateQuery,
  type EventQuery,
  type QueryPage,
  type QueryPredicate,
  type QueryScalar,
  type StoredEvent,
} from './types.js';

/** A compiled filter over stored events. */
export type EventMatcher = (event: StoredEvent) => boolean;

type Filter = Omit<EventQuery, 'order' | 'limit' | 'cursor'>;

const MISSING: unique symbol = Symbol('missing');

/** Compares strings by Unicode code point (as UTF-8 bytes compare), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) encode code points above FFFF: they sort after E000–FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return xs - ys;
  }
  return a.length - b.length;
}

function resolve(root: unknown, segments: readonly (string | number)[]): unknown {
  let cur = root;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return MISSING;
      cur = cur[seg];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, seg))
        return MISSING;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur === undefined ? MISSING : cur;
}

function scalarEq(v: unknown, s: QueryScalar): boolean {
  return v === s;
}

function ordered(v: unknown, s: QueryScalar, test: (cmp: number) => boolean): boolean {
  if (typeof v === 'number' && typeof s === 'number') return test(v < s ? -1 : v > s ? 1 : 0);
  if (typeof v === 'string' && typeof s === 'string') return test(compareCodePoints(v, s));
  return false;
}

function predicateMatcher(p: QueryPredicate): (event: StoredEvent) => boolean {
  const path = parsePredicatePath(p.path);
  if (path === undefined) return () => false;
  const { column, segments } = path;
  const at = (e: StoredEvent): unknown => resolve(column === 'data' ? e.data : e.metadata, segments);
  const s = p.value as QueryScalar;
  switch (p.op) {
    case 'eq':
      return (e) => scalarEq(at(e), s);
    case 'ne':
      return (e) => !scalarEq(at(e), s);
    case 'gt':
      return (e) => ordered(at(e), s, (c) => c > 0);
    case 'gte':
      return (e) => ordered(at(e), s, (c) => c >= 0);
    case 'lt':
      return (e) => ordered(at(e), s, (c) => c < 0);
    case 'lte':
      return (e) => ordered(at(e), s, (c) => c <= 0);
    case 'in': {
      const values = p.value as readonly QueryScalar[];
      return (e) => {
        const v = at(e);
        return values.some((x) => scalarEq(v, x));
      };
    }
    case 'contains':
      return (e) => {
        const v = at(e);
        if (typeof v === 'string') return typeof s === 'string' && v.includes(s);
        if (Array.isArray(v)) return v.some((x) => scalarEq(x, s));
        return false;
      };
    case 'exists': {
      const want = p.value !== false;
      return (e) => (at(e) !== MISSING) === want;
    }
    default:
      return () => false;
  }
}

function typeMatcher(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('.*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return (type) => exact.has(type) || prefixes.some((prefix) => type.startsWith(prefix));
}

/**
 * Compiles the filters of a query (types, stream, correlation id, time range, predicates; not order, limit
 * or cursor) into a matcher. The query is expected validated (`validateQuery`).
 */
export function compileMatcher(query: Filter): EventMatcher {
  const tests: EventMatcher[] = [];
  if (query.types !== undefined) {
    const matchType = typeMatcher(query.types);
    tests.push((e) => matchType(e.type));
  }
  const { stream, correlationId, from, to } = query;
  if (stream !== undefined) tests.push((e) => e.stream === stream);
  if (correlationId !== undefined) tests.push((e) => e.correlationId === correlationId);
  if (from !== undefined) tests.push((e) => e.time >= from);
  if (to !== undefined) tests.push((e) => e.time < to);
  for (const p of query.where ?? []) tests.push(predicateMatcher(p));
  return (e) => {
    for (const test of tests) if (!test(e)) return false;
    return true;
  };
}

/** Whether `event` passes the query's filters (order, limit and cursor are not filters). */
export function matchesQuery(event: StoredEvent, query: EventQuery): boolean {
  return compileMatcher(query)(event);
}

/**
 * Runs a validated query over events: filters, orders by position, continues strictly after (asc) /
 * before (desc) the cursor's position, and returns one page with `nextCursor` when more may match.
 */
export function runQuery(events: Iterable<StoredEvent>, query: EventQuery): QueryPage {
  const match = compileMatcher(query);
  const desc = query.order === 'desc';
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor).position;
  const matched: StoredEvent[] = [];
  for (const e of events) {
    if (after !== undefined && (desc ? e.position >= after : e.position <= after)) continue;
    if (match(e)) matched.push(e);
  }
  matched.sort(desc ? (a, b) => b.position - a.position : (a, b) => a.position - b.position);
  const limit = query.limit ?? DEFAULT_QUERY_LIMIT;
  return nextPage(matched.length > limit + 1 ? matched.slice(0, limit + 1) : matched, query);
}

/**
 * Counts the events matching the aggregation's filter, grouped by type (key: the type) or by time bucket
 * (key: `floor(time / bucketMs) * bucketMs`), groups sorted by key ascending.
 */
export function runAggregate(events: Iterable<StoredEvent>, query: AggregateQuery): AggregateGroup[] {
  const match = compileMatcher(query.filter ?? {});
  const counts = new Map<string | number, number>();
  const bucketMs = query.bucketMs ?? DEFAULT_BUCKET_MS;
  for (const e of events) {
    if (!match(e)) continue;
    const key = query.groupBy === 'type' ? e.type : Math.floor(e.time / bucketMs) * bucketMs;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const groups = [...counts].map(([key, count]) => ({ key, count }));
  groups.sort((a, b) =>
    typeof a.key === 'number' && typeof b.key === 'number'
      ? a.key - b.key
      : compareCodePoints(String(a.key), String(b.key)),
  );
  return groups;
}
