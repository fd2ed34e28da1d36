/**
 * Query-string forms of the event store's reads for the control bus: `GET /api/events`,
 * `GET /api/events/aggregate` and `GET /api/streams/:stream`. Parameters are turned into the plain objects
 * the event store validates (`validateQuery` and friends run inside the store); only what a query string
 * cannot express directly is decided here:
 *
 * - `types=order.*,user.created`: a comma-separated list.
 * - `from` / `to`: ms since the epoch, or an ISO 8601 date (`2025-01-31` or `2025-01-31T12:00:00Z`).
 * - `where`: the predicates as URL-encoded JSON, an array of `{ "path", "op", "value" }`
 *   (at most {@link MAX_WHERE_CHARS} characters).
 * - numbers (`limit`, `bucketMs`, `from` of a stream read) as decimal integers.
 *
 * Every parameter may appear once; unknown parameters are refused. Errors are `FND_EVENTS_INVALID_QUERY`.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { QUERY_FIELDS, QUERY_FILTER_FIELDS } from '../events/index.js';

/** Longest accepted `where` parameter, in characters (after URL decoding). */
export const MAX_WHERE_CHARS = 4096;

/** Parameters of `GET /api/events`: the query's fields. */
export const QUERY_PARAMS: readonly string[] = QUERY_FIELDS;

/** Parameters of `GET /api/events/aggregate`: the grouping and the query's filter fields. */
export const AGGREGATE_PARAMS: readonly string[] = ['groupBy', 'bucketMs', ...QUERY_FILTER_FIELDS];

/** Parameters of `GET /api/streams/:stream`. */
export const STREAM_READ_PARAMS: readonly string[] = ['from', 'direction', 'limit'];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function invalid(
  message: string,
  correlationId: string,
  context: Record<string, unknown> = {},
): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_QUERY', { message, context, correlationId });
}

function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * The parameters of `raw` (fastify's parsed query string) as single strings, refusing unknown names and
 * repeated parameters.
 */
export function singleParams(
  raw: unknown,
  accepted: readonly string[],
  correlationId: string,
): Map<string, string> {
  const params = new Map<string, string>();
  const record = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (!accepted.includes(key)) {
      throw invalid(
        `Unknown query parameter ${shown(key)}; accepted: ${accepted.join(', ')}`,
        correlationId,
        {
          parameter: key.slice(0, 60),
        },
      );
    }
    if (typeof value !== 'string') {
      throw invalid(`Query parameter ${key} may be given only once`, correlationId, { parameter: key });
    }
    params.set(key, value);
  }
  return params;
}

/** A decimal integer as a number; anything else is passed on as the string for the store to refuse. */
function integerOrRaw(value: string): number | string {
  return /^-?\d{1,16}$/.test(value) ? Number(value) : value;
}

/** `from` / `to`: ms since the epoch or an ISO 8601 date. */
function parseTime(value: string, name: string, correlationId: string): number {
  if (/^-?\d{1,16}$/.test(value)) return Number(value);
  const ms = ISO_DATE.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw invalid(
      `${name} must be ms since the epoch or an ISO 8601 date such as 2025-01-31T12:00:00Z, got ${shown(value)}`,
      correlationId,
      { parameter: name },
    );
  }
  return ms;
}

/** The `where` parameter: URL-decoded JSON, size-limited. */
function parseWhere(value: string, correlationId: string): unknown {
  if (value.length > MAX_WHERE_CHARS) {
    throw invalid(`where is longer than ${MAX_WHERE_CHARS} characters`, correlationId, {
      parameter: 'where',
      length: value.length,
      limit: MAX_WHERE_CHARS,
    });
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw invalid(
      'where must be a JSON array of predicates such as [{"path":"data.total","op":"gt","value":10}]',
      correlationId,
      { parameter: 'where' },
    );
  }
}

/** The filter part shared by queries and aggregations. */
function filterOf(params: Map<string, string>, correlationId: string): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const types = params.get('types');
  if (types !== undefined) filter.types = types.split(',').map((t) => t.trim());
  const stream = params.get('stream');
  if (stream !== undefined) filter.stream = stream;
  const correlation = params.get('correlationId');
  if (correlation !== undefined) filter.correlationId = correlation;
  const from = params.get('from');
  if (from !== undefined) filter.from = parseTime(from, 'from', correlationId);
  const to = params.get('to');
  if (to !== undefined) filter.to = parseTime(to, 'to', correlationId);
  const where = params.get('where');
  if (where !== undefined) filter.where = parseWhere(where, correlationId);
  return filter;
}

/** The query of `GET /api/events` as the object `EventStore.query` validates. */
export function eventQueryFromParams(raw: unknown, correlationId: string): Record<string, unknown> {
  const params = singleParams(raw, QUERY_PARAMS, correlationId);
  const query = filterOf(params, correlationId);
  const order = params.get('order');
  if (order !== undefined) query.order = order;
  const limit = params.get('limit');
  if (limit !== undefined) query.limit = integerOrRaw(limit);
  const cursor = params.get('cursor');
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

/** The aggregation of `GET /api/events/aggregate` as the object `EventStore.aggregate` validates. */
export function aggregateFromParams(raw: unknown, correlationId: string): Record<string, unknown> {
  const params = singleParams(raw, AGGREGATE_PARAMS, correlationId);
  const aggregate: Record<string, unknown> = { filter: filterOf(params, correlationId) };
  const groupBy = params.get('groupBy');
  if (groupBy === undefined) {
    throw invalid('groupBy is required: type or time', correlationId, { parameter: 'groupBy' });
  }
  aggregate.groupBy = groupBy;
  const bucketMs = params.get('bucketMs');
  if (bucketMs !== undefined) aggregate.bucketMs = integerOrRaw(bucketMs);
  return aggregate;
}

/** The options of `GET /api/streams/:stream` as the object `EventStore.readStream` validates. */
export function streamReadFromParams(raw: unknown, correlationId: string): Record<string, unknown> {
  const params = singleParams(raw, STREAM_READ_PARAMS, correlationId);
  const options: Record<string, unknown> = {};
  const from = params.get('from');
  if (from !== undefined) options.from = integerOrRaw(from);
  const direction = params.get('direction');
  if (direction !== undefined) options.direction = direction;
  const limit = params.get('limit');
  if (limit !== undefined) options.limit = integerOrRaw(limit);
  return options;
}
