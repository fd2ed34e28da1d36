/**
 * Options and status of the event spool (appends kept on local disk while the event store is unreachable).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock } from '../../kernel/clock.js';
import { systemClock } from '../../kernel/clock.js';

/** Default most events the spool holds: 100 000. */
export const DEFAULT_SPOOL_MAX_EVENTS = 100_000;
/** Default most bytes (of the spooled events' JSON) the spool holds: 64 MiB. */
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** Default first delay before a replay attempt after the store failed: 500 ms. */
export const DEFAULT_SPOOL_RETRY_INITIAL_MS = 500;
/** Default longest delay between replay attempts (the backoff doubles up to it): 30 s. */
export const DEFAULT_SPOOL_RETRY_MAX_MS = 30_000;
/** Default most events replayed in one store call. */
export const DEFAULT_SPOOL_REPLAY_BATCH_EVENTS = 1000;
/** Default most append requests replayed in one store call. */
export const DEFAULT_SPOOL_REPLAY_BATCH_REQUESTS = 256;

/** Options of the event spool. */
export interface EventSpoolOptions {
  /** The spool file (SQLite), e.g. `./.foundation/events-spool.db`. One file per process: it is locked. */
  readonly path: string;
  /** Most events held (pending and rejected). Default {@link DEFAULT_SPOOL_MAX_EVENTS}. */
  readonly maxEvents?: number;
  /** Most bytes held (the events' JSON, pending and rejected). Default {@link DEFAULT_SPOOL_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** Delay before the first replay attempt. Default {@link DEFAULT_SPOOL_RETRY_INITIAL_MS}. */
  readonly retryInitialMs?: number;
  /** Longest delay between attempts (doubling from `retryInitialMs`). Default {@link DEFAULT_SPOOL_RETRY_MAX_MS}. */
  readonly retryMaxMs?: number;
  /** Most events per replay call. Default {@link DEFAULT_SPOOL_REPLAY_BATCH_EVENTS}. */
  readonly replayBatchEvents?: number;
  /** Most requests per replay call. Default {@link DEFAULT_SPOOL_REPLAY_BATCH_REQUESTS}. */
  readonly replayBatchRequests?: number;
  /** Time source for backoff timers and spool times. Default: the system clock. */
  readonly clock?: Clock;
}

/** The options with defaults applied. */
export interface ResolvedSpoolOptions {
  /** The spool file. */
  readonly path: string;
  /** Most events the spool holds. */
  readonly maxEvents: number;
  /** Most bytes of event JSON the spool holds. */
  readonly maxBytes: number;
  /** First delay before a replay attempt, ms. */
  readonly retryInitialMs: number;
  /** Longest delay between replay attempts, ms. */
  readonly retryMaxMs: number;
  /** Most events replayed per store append. */
  readonly replayBatchEvents: number;
  /** Most requests replayed per store append. */
  readonly replayBatchRequests: number;
  /** Time source for backoff timers and spool times. */
  readonly clock: Clock;
}

/**
 * Where the spool is:
 * - `closed`: not open (before `start()` or after `stop()` of the event store);
 * - `direct`: the spool is empty, appends go straight to the store;
 * - `spooling`: events wait in the spool; appends go to the spool; a replay attempt is scheduled;
 * - `replaying`: a replay pass is running (appends still go to the spool, behind the replayed ones).
 */
export type SpoolState = 'closed' | 'direct' | 'spooling' | 'replaying';

/** What the spool reports about itself (health, metrics, the control bus). */
export interface SpoolStatus {
  /** Where the spool is (see {@link SpoolState}). */
  readonly state: SpoolState;
  /** The spool file. */
  readonly path: string;
  /** Pending events (not yet in the store). */
  readonly events: number;
  /** Bytes of the pending events' JSON. */
  readonly bytes: number;
  /** Pending append requests. */
  readonly requests: number;
  /** Most events the spool holds. */
  readonly maxEvents: number;
  /** Most bytes of event JSON the spool holds. */
  readonly maxBytes: number;
  /** Requests the store refused at replay (kept in the file, counted against the limits). */
  readonly rejectedRequests: number;
  /** Events of the rejected requests. */
  readonly rejectedEvents: number;
  /** Bytes of the rejected requests' events. */
  readonly rejectedBytes: number;
  /** Wall ms of the oldest pending request. */
  readonly oldestSpooledAt: number | undefined;
  /** Wall ms of the next scheduled replay attempt. */
  readonly nextReplayAt: number | undefined;
  /** Replay attempts that failed in a row (0 after a successful batch). */
  readonly failedAttempts: number;
  /** The last replay failure, cleared when the spool drains. */
  readonly lastError: { readonly code: string; readonly message: string; readonly at: number } | undefined;
  /** Events spooled since the spool opened. */
  readonly spooledTotal: number;
  /** Events replayed into the store since the spool opened. */
  readonly replayedTotal: number;
  /** Appends refused because the spool was full since it opened (requests). */
  readonly refusedTotal: number;
}

function invalid(option: string, value: unknown, rule: string): FoundationError {
  return new FoundationError('FND_DATA_INVALID_INPUT', {
    message: `Event spool option ${option} must be ${rule}`,
    context: { option, value: typeof value === 'string' ? value.slice(0, 200) : value },
  });
}

function positive(value: number | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(option, value, 'a positive integer');
  return value;
}

/**
 * Validates the options and applies defaults.
 *
 * @throws FoundationError `FND_DATA_INVALID_INPUT` for a missing path or a bad number.
 */
export function resolveSpoolOptions(options: EventSpoolOptions, clock?: Clock): ResolvedSpoolOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw invalid('spool', options, 'an object { path, maxEvents?, maxBytes?, … }');
  }
  if (typeof options.path !== 'string' || options.path.trim() === '' || options.path === ':memory:') {
    throw invalid('path', options.path, 'the path of a file (the spool must survive a restart)');
  }
  const retryInitialMs = positive(options.retryInitialMs, 'retryInitialMs', DEFAULT_SPOOL_RETRY_INITIAL_MS);
  const retryMaxMs = positive(options.retryMaxMs, 'retryMaxMs', DEFAULT_SPOOL_RETRY_MAX_MS);
  if (retryMaxMs < retryInitialMs) throw invalid('retryMaxMs', retryMaxMs, '≥ retryInitialMs');
  return {
    path: options.path,
    maxEvents: positive(options.maxEvents, 'maxEvents', DEFAULT_SPOOL_MAX_EVENTS),
    maxBytes: positive(options.maxBytes, 'maxBytes', DEFAULT_SPOOL_MAX_BYTES),
    retryInitialMs,
    retryMaxMs,
    replayBatchEvents: positive(
      options.replayBatchEvents,
      'replayBatchEvents',
      DEFAULT_SPOOL_REPLAY_BATCH_EVENTS,
    ),
    replayBatchRequests: positive(
      options.replayBatchRequests,
      'replayBatchRequests',
      DEFAULT_SPOOL_REPLAY_BATCH_REQUESTS,
    ),
    clock: options.clock ?? clock ?? systemClock,
  };
}

/** The delay before replay attempt number `failures + 1`: doubling from `initial`, capped at `max`. */
export function replayDelay(failures: number, initial: number, max: number): number {
  if (failures <= 0) return initial;
  return Math.min(max, initial * 2 ** Math.min(failures, 30));
}
