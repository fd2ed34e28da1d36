/**
 * What the spool answers: the stand-in for a spooled event, the refusals (full spool, an expected version
 * that cannot be checked offline) and the health report derived from the spool's status.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { HealthReport } from '../../kernel/service.js';
import type { AppendRequest, PreparedEvent } from '../model/port.js';
import type { AppendResult, StoredEvent } from '../model/types.js';
import type { ResolvedSpoolOptions, SpoolStatus } from './spool-options.js';

/**
 * Whether an append resolved as spooled (kept in the local spool, not yet in the store): its position is 0,
 * which no stored event has (positions start at 1). Its events carry position 0 and stream version `null`.
 *
 * @example
 * ```ts
 * const result = await events.append({ type: 'order.paid', stream: 'order-1' });
 * if (isSpooled(result)) log.warn('the event store is unreachable: order.paid waits in the local spool');
 * ```
 */
export function isSpooled(result: Pick<AppendResult, 'position' | 'spooled'>): boolean {
  return result.spooled === true || result.position === 0;
}

/** The answer for a spooled event: not stored yet, so position 0 and no stream version. */
export function spooledEvent(event: PreparedEvent): StoredEvent {
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    streamVersion: null,
    position: 0,
    time: event.time,
    monotonic: event.monotonic,
    correlationId: event.correlationId,
    causationId: event.causationId,
    parentId: event.parentId,
    data: event.data,
    metadata: event.metadata,
    node: event.node,
  };
}

/** `FND_EVENTS_SPOOL_FULL` for a request that does not fit (`held`: what the file holds now). */
export function spoolFullError(
  options: Pick<ResolvedSpoolOptions, 'path' | 'maxEvents' | 'maxBytes'>,
  held: { readonly events: number; readonly bytes: number },
  requestEvents: number,
  requestBytes: number,
): FoundationError {
  const { maxEvents, maxBytes, path } = options;
  return new FoundationError('FND_EVENTS_SPOOL_FULL', {
    message:
      `The event store is unreachable and the local spool is full (${held.events} of ${maxEvents} events,` +
      ` ${held.bytes} of ${maxBytes} bytes; this append: ${requestEvents} events, ${requestBytes} bytes):` +
      ' the append was refused and nothing was written. Retry once the store is back and the spool drained.',
    context: {
      path,
      maxEvents,
      maxBytes,
      spooledEvents: held.events,
      spooledBytes: held.bytes,
      requestEvents,
      requestBytes,
    },
  });
}

/**
 * `FND_STORAGE_UNAVAILABLE` for a request with an expected version other than `any`: it cannot be checked
 * while the store is unreachable (`cause`) or while earlier events wait in the spool (`cause` undefined).
 */
export function offlineCheckError(
  request: AppendRequest,
  cause: FoundationError | undefined,
  spooledEvents: number,
): FoundationError {
  const expected = String(request.expectedVersion);
  return new FoundationError('FND_STORAGE_UNAVAILABLE', {
    message:
      cause === undefined
        ? `${spooledEvents} events wait in the local spool for the event store: an append with expected` +
          ` version ${expected} cannot be checked until they are replayed (only 'any' appends are spooled)`
        : `The event store is unreachable: an append with expected version ${expected} cannot be checked` +
          " offline (only 'any' appends are spooled)",
    context: { stream: request.stream, expectedVersion: request.expectedVersion, spooledEvents },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The spool's health: `healthy` when it is empty (appends go straight to the store); `degraded` while events
 * wait in it, or while requests refused at replay are kept; `unhealthy` when it is full (appends are refused)
 * or closed. `details` is the status.
 */
export function spoolHealth(status: SpoolStatus): HealthReport {
  const details = { ...status };
  const heldEvents = status.events + status.rejectedEvents;
  const heldBytes = status.bytes + status.rejectedBytes;
  if (status.state === 'closed') return { status: 'unhealthy', message: 'event spool closed', details };
  if (heldEvents >= status.maxEvents || heldBytes >= status.maxBytes) {
    return {
      status: 'unhealthy',
      message: `event spool full (${heldEvents} events, ${heldBytes} bytes): appends are refused until it drains`,
      details,
    };
  }
  if (status.events > 0) {
    const why = status.lastError === undefined ? '' : ` (last replay: ${status.lastError.code})`;
    return {
      status: 'degraded',
      message: `${status.events} events spooled locally, waiting for the event store${why}`,
      details,
    };
  }
  if (status.rejectedRequests > 0) {
    return {
      status: 'degraded',
      message: `${status.rejectedRequests} spooled requests were refused by the store at replay (kept in ${status.path})`,
      details,
    };
  }
  return { status: 'healthy', details };
}
