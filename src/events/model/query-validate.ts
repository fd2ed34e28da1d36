/**
 * Validation of queries and aggregations from callers (library, HTTP, CLI). Strict: unknown keys, bad
 * patterns, paths, operators or values throw `FND_EVENTS_INVALID_QUERY` (context: field, reason); a cursor
 * that does not decode, or was made for the other order, throws `FND_EVENTS_INVALID_CURSOR`.
 *
 * Accepted shapes: see `EventQuery` / `AggregateQuery`. Conveniences: `types` may be a single string;
 * `from` / `to` may be `Date`s, ISO-8601 date strings or decimal strings; `limit` may be a decimal string. The
 * result has `order` and `limit` filled in.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { decodeCursor } from './cursor.js';
import { isEventId } from './ids.js';
import { textProblem } from './json-check.js';
import { parsePredicatePath } from './query-path.js';
import { isEventType, isStreamName } from './validate-event.js';
import {
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  type AggregateQuery,
  type EventQuery,
  type PredicateOp,
  type QueryPredicate,
  type QueryScalar,
} from './types.js';

/** Most type patterns in a query. */
export const MAX_TYPE_PATTERNS = 20;
/** Most predicates in a query. */
export const MAX_PREDICATES = 20;
/** Most operands of an `in` predicate. */
export const MAX_IN_VALUES = 100;
/** Longest string operand. */
export const MAX_OPERAND_LENGTH = 1000;
/** Smallest time bucket of an aggregation, ms. */
export const MIN_BUCKET_MS = 1000;
/** Bucket of a time aggregation without `bucketMs`, ms. */
export const DEFAULT_BUCKET_MS = 60_000;
/** Most buckets a time aggregation over a bounded range may have. */
export const MAX_BUCKETS = 10_000;

/** The filter fields of a query (also the filter of an aggregation). */
export const QUERY_FILTER_FIELDS = ['types', 'stream', 'correlationId', 'from', 'to', 'where'] as const;
/** Every field of an {@link EventQuery}. */
export const QUERY_FIELDS = [...QUERY_FILTER_FIELDS, 'order', 'limit', 'cursor'] as const;

const QUERY_KEYS: ReadonlySet<string> = new Set(QUERY_FIELDS);
const FILTER_KEYS: ReadonlySet<string> = new Set(QUERY_FILTER_FIELDS);
const AGGREGATE_KEYS: ReadonlySet<string> = new Set(['filter', 'groupBy', 'bucketMs']);
const PREDICATE_KEYS: ReadonlySet<string> = new Set(['path', 'op', 'value']);
const OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists']);
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

type Filter = Omit<EventQuery, 'order' | 'limit' | 'cursor'>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function invalid(field: string, reason: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_QUERY', {
    message: `Invalid query: ${field} ${reason}`,
    context: { field, reason },
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) throw invalid(field === '' ? key : `${field}.${key}`, 'is not a known field');
  }
}

function typePattern(p: unknown, i: number): string {
  if (p === '*') return p;
  if (typeof p === 'string') {
    const base = p.endsWith('.*') ? p.slice(0, -2) : p;
    if (isEventType(base)) return p;
  }
  throw invalid(`types[${i}]`, 'must be an event type, a prefix pattern like order.*, or *');
}

function time(v: unknown, field: string): number {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isSafeInteger(ms) && ms >= 0) return ms;
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
  } else if (typeof v === 'string') {
    if (DECIMAL.test(v)) return Number(v);
    if (ISO_DATE.test(v)) {
      const ms = Date.parse(v);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  throw invalid(field, 'must be an integer ≥ 0 (ms since the epoch) or an ISO-8601 date');
}

function scalar(v: unknown, field: string): QueryScalar {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    throw invalid(field, 'must be a finite number');
  }
  if (typeof v === 'string') {
    if (v.length > MAX_OPERAND_LENGTH)
      throw invalid(field, `must be at most ${MAX_OPERAND_LENGTH} characters`);
    const problem = textProblem(v);
    if (problem !== undefined) throw invalid(field, problem);
    return v;
  }
  throw invalid(field, 'must be a string, a number, a boolean or null');
}

function predicate(p: unknown, i: number): QueryPredicate {
  const field = `where[${i}]`;
  if (!isPlainObject(p)) throw invalid(field, 'must be an object { path, op, value }');
  checkKeys(p, PREDICATE_KEYS, field);
  const { path, op, value } = p;
  if (parsePredicatePath(path) === undefined) {
    throw invalid(`${field}.path`, 'must be data.<a>… or metadata.<a>… with 1–16 segments of [A-Za-z0-9_-]');
  }
  if (typeof op !== 'string' || !OPS.has(op)) {
    throw invalid(`${field}.op`, 'must be one of eq, ne, gt, gte, lt, lte, in, contains, exists');
  }
  const vField = `${field}.value`;
  const base = { path: path as string, op: op as PredicateOp };
  switch (op) {
    case 'exists':
      if (value === undefined) return { ...base, value: true };
      if (typeof value !== 'boolean') throw invalid(vField, 'must be a boolean for exists');
      return { ...base, value };
    case 'in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) {
        throw invalid(vField, `must be an array of 1–${MAX_IN_VALUES} scalars for in`);
      }
      return { ...base, value: value.map((v: unknown, j) => scalar(v, `${vField}[${j}]`)) };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value !== 'number' && typeof value !== 'string') {
        throw invalid(vField, `must be a number or a string for ${op}`);
      }
      return { ...base, value: scalar(value, vField) };
    default:
      if (value === undefined) throw invalid(vField, `is required for ${op}`);
      return { ...base, value: scalar(value, vField) };
  }
}

function filter(input: Record<string, unknown>, into: Mutable<Filter>): void {
  const { types, stream, correlationId, from, to, where } = input;
  if (types !== undefined) {
    const list: unknown = typeof types === 'string' ? [types] : types;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TYPE_PATTERNS) {
      throw invalid('types', `must be an array of 1–${MAX_TYPE_PATTERNS} type patterns`);
    }
    into.types = list.map((p: unknown, i) => typePattern(p, i));
  }
  if (stream !== undefined) {
    if (!isStreamName(stream)) throw invalid('stream', 'must be 1–200 characters without control characters');
    into.stream = stream;
  }
  if (correlationId !== undefined) {
    if (!isEventId(correlationId))
      throw invalid('correlationId', 'must be 1–128 characters of [A-Za-z0-9._:-]');
    into.correlationId = correlationId;
  }
  if (from !== undefined) into.from = time(from, 'from');
  if (to !== undefined) into.to = time(to, 'to');
  if (into.from !== undefined && into.to !== undefined && into.from >= into.to) {
    throw invalid('to', 'must be after from');
  }
  if (where !== undefined) {
    if (!Array.isArray(where) || where.length > MAX_PREDICATES) {
      throw invalid('where', `must be an array of at most ${MAX_PREDICATES} predicates`);
    }
    into.where = where.map((p: unknown, i) => predicate(p, i));
  }
}

/**
 * Validates a query from a caller and fills in `order` (`asc`) and `limit` ({@link DEFAULT_QUERY_LIMIT}).
 * Throws `FND_EVENTS_INVALID_QUERY` or `FND_EVENTS_INVALID_CURSOR`.
 */
export function validateQuery(input: unknown): EventQuery {
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) throw invalid('query', 'must be an object');
  checkKeys(input, QUERY_KEYS, '');
  const out: Mutable<EventQuery> = {};
  filter(input, out);
  const { order, limit, cursor } = input;
  if (order !== undefined && order !== 'asc' && order !== 'desc')
    throw invalid('order', 'must be asc or desc');
  out.order = order ?? 'asc';
  let n: unknown = limit ?? DEFAULT_QUERY_LIMIT;
  if (typeof n === 'string' && DECIMAL.test(n)) n = Number(n);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_QUERY_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  out.limit = n;
  if (cursor !== undefined) {
    const state = decodeCursor(cursor);
    if (state.order !== out.order) {
      throw new FoundationError('FND_EVENTS_INVALID_CURSOR', {
        message: `Invalid cursor: made for order ${state.order}, the query is ${out.order}`,
        context: { reason: 'order mismatch' },
      });
    }
    out.cursor = cursor as string;
  }
  return out;
}

/**
 * Validates an aggregation: `groupBy` `type` or `time`; `bucketMs` (time only, integer ≥ 1000, default
 * {@link DEFAULT_BUCKET_MS}, at most {@link MAX_BUCKETS} buckets when the filter bounds `from` and `to`);
 * `filter` as in a query without order, limit and cursor. Throws `FND_EVENTS_INVALID_QUERY`.
 */
export function validateAggregate(input: unknown): AggregateQuery {
  if (!isPlainObject(input)) throw invalid('aggregate', 'must be an object');
  checkKeys(input, AGGREGATE_KEYS, '');
  const { filter: rawFilter, groupBy, bucketMs } = input;
  if (groupBy !== 'type' && groupBy !== 'time') throw invalid('groupBy', 'must be type or time');
  const f: Mutable<Filter> = {};
  if (rawFilter !== undefined) {
    if (!isPlainObject(rawFilter)) throw invalid('filter', 'must be an object');
    checkKeys(rawFilter, FILTER_KEYS, 'filter');
    filter(rawFilter, f);
  }
  const out: Mutable<AggregateQuery> = { groupBy };
  if (rawFilter !== undefined) out.filter = f;
  if (groupBy === 'type') {
    if (bucketMs !== undefined) throw invalid('bucketMs', 'applies only to groupBy time');
    return out;
  }
  let bucket: unknown = bucketMs ?? DEFAULT_BUCKET_MS;
  if (typeof bucket === 'string' && DECIMAL.test(bucket)) bucket = Number(bucket);
  if (typeof bucket !== 'number' || !Number.isSafeInteger(bucket) || bucket < MIN_BUCKET_MS) {
    throw invalid('bucketMs', `must be an integer ≥ ${MIN_BUCKET_MS}`);
  }
  if (f.from !== undefined && f.to !== undefined && (f.to - f.from) / bucket > MAX_BUCKETS) {
    throw invalid('bucketMs', `makes more than ${MAX_BUCKETS} buckets over the range`);
  }
  out.bucketMs = bucket;
  return out;
}
