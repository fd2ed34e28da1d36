/**
 * Query-string form of `GET /api/events/stream`: the subscription's filter and its start point.
 *
 * - `types=order.*,user.created`, `stream`, `correlationId`, `where` (URL-encoded JSON): the query DSL's
 *   filters, parsed and validated exactly as `GET /api/events` does (`FND_EVENTS_INVALID_QUERY`).
 * - `from`: `start`, `end` (default), a position (decimal integer ≥ 0) or a checkpoint taken from the `id` of
 *   an earlier message (`FND_EVENTS_INVALID_SUBSCRIPTION` when it is none of these).
 * - the `Last-Event-ID` request header (sent by `EventSource` when it reconnects) is a checkpoint and wins
 *   over `from`: the stream resumes right after the last event the client received.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { validateQuery } from '../events/index.js';
import type { SubscriptionFilter, SubscriptionFrom } from '../events/subscriptions/types.js';
import { eventQueryFromParams, singleParams } from './events-params.js';

/** Parameters of `GET /api/events/stream`. */
export const STREAM_PARAMS: readonly string[] = ['types', 'stream', 'correlationId', 'where', 'from'];

/** Longest accepted checkpoint (`from` or `Last-Event-ID`), in characters. */
export const MAX_CHECKPOINT_CHARS = 200;

/** What a stream request asks for. */
export interface EventStreamRequest {
  readonly filter: SubscriptionFilter;
  readonly from: SubscriptionFrom;
}

function invalidSubscription(message: string, correlationId: string, parameter: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
    message,
    context: { parameter },
    correlationId,
  });
}

/**
 * A `from` value (a keyword, a position or a checkpoint) or a `Last-Event-ID` (always a checkpoint: the id
 * of a message this route sent).
 */
export function parseStreamFrom(value: string, correlationId: string, parameter: string): SubscriptionFrom {
  if (parameter === 'from' && (value === 'start' || value === 'end')) return value;
  if (parameter === 'from' && /^\d{1,15}$/.test(value)) return Number(value);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused here
  if (value === '' || value.length > MAX_CHECKPOINT_CHARS || /[\s\u0000-\u001f\u007f]/.test(value)) {
    throw invalidSubscription(
      parameter === 'from'
        ? `from must be start, end, a position (an integer ≥ 0) or a checkpoint of at most ` +
            `${MAX_CHECKPOINT_CHARS} characters from an earlier message's id`
        : `${parameter} must be a checkpoint of at most ${MAX_CHECKPOINT_CHARS} characters from an earlier message's id`,
      correlationId,
      parameter,
    );
  }
  return value;
}

/**
 * The filter and start point of a stream request. The filter goes through the query DSL's validation (the
 * same errors as `GET /api/events`); `lastEventId` (the `Last-Event-ID` header), when present, replaces
 * `from`. Throws `FND_EVENTS_INVALID_QUERY` or `FND_EVENTS_INVALID_SUBSCRIPTION`.
 */
export function eventStreamFromParams(
  raw: unknown,
  lastEventId: string | undefined,
  correlationId: string,
): EventStreamRequest {
  const params = singleParams(raw, STREAM_PARAMS, correlationId);
  const fromParam = params.get('from');
  params.delete('from');
  const query = validateQuery(eventQueryFromParams(Object.fromEntries(params), correlationId));
  const filter: { -readonly [K in keyof SubscriptionFilter]: SubscriptionFilter[K] } = {};
  if (query.types !== undefined) filter.types = query.types;
  if (query.stream !== undefined) filter.stream = query.stream;
  if (query.correlationId !== undefined) filter.correlationId = query.correlationId;
  if (query.where !== undefined) filter.where = query.where;
  let from: SubscriptionFrom = 'end';
  if (fromParam !== undefined) from = parseStreamFrom(fromParam, correlationId, 'from');
  if (lastEventId !== undefined) from = parseStreamFrom(lastEventId, correlationId, 'Last-Event-ID');
  return { filter, from };
}
