/**
 * The public shapes of live subscriptions: what `EventStore.subscribe` takes and returns. Durable
 * subscriptions, consumer groups, projections, the control bus's SSE stream and the CLI's `events tail` are
 * all built on these.
 *
 * Order: a subscription delivers events in the store's **commit order**. On memory and SQLite (one writer at
 * a time) that is position order. On PostgreSQL positions are taken from a sequence when a row is inserted,
 * not when its transaction commits, so a transaction that commits late can hold lower positions than events
 * already visible; the store records each event's transaction id and delivers an event only once every
 * transaction that could precede it has finished, ordered by (transaction id, position). Every subscriber,
 * catch-up read and resumed subscription sees the same order, without gaps and without skipping a
 * late-committing transaction.
 *
 * @module
 */
import type { EventQuery, StoredEvent } from '../model/types.js';

/**
 * Which events a subscription delivers: the filters of the query DSL (types, stream, correlation id, JSON
 * predicates), evaluated by the store (server-side on SQLite and PostgreSQL). An empty filter matches every
 * event.
 */
export type SubscriptionFilter = Pick<EventQuery, 'types' | 'stream' | 'correlationId' | 'where'>;

/**
 * An opaque, store-specific checkpoint: the commit-order place of one event. Passing it as `from` resumes
 * right after that event. Memory/SQLite checkpoints encode a position, PostgreSQL ones a transaction id and a
 * position. At most 200 characters.
 */
export type SubscriptionCheckpoint = string;

/**
 * Where a subscription starts:
 * - `'start'`: from the first event of the log (catch-up, then live);
 * - `'end'` (default): only events committed after the subscription started;
 * - a number `n`: after the event at position `n` in commit order (0 is the same as `'start'`);
 * - a {@link SubscriptionCheckpoint}: right after the event it was taken from.
 */
export type SubscriptionFrom =
  | 'start'
  | 'end'
  | number
  // `string & {}` keeps the two literals visible to editors next to the checkpoint strings.
  | (SubscriptionCheckpoint & Record<never, never>);

/** Default events read from the store per page. */
export const DEFAULT_SUBSCRIPTION_BATCH = 256;
/** Default most events held in memory ahead of a slow consumer. */
export const DEFAULT_SUBSCRIPTION_BUFFER = 1024;

/** Options of `EventStore.subscribe`. */
export interface SubscribeOptions {
  /** Where to start. Default `'end'`. */
  readonly from?: SubscriptionFrom;
  /** Events read per page (1–10 000). Default {@link DEFAULT_SUBSCRIPTION_BATCH}. */
  readonly batchSize?: number;
  /**
   * Most events buffered ahead of the consumer (≥ batchSize). When the buffer is full the subscription stops
   * reading until the consumer catches up; the store never buffers without bound. Default
   * {@link DEFAULT_SUBSCRIPTION_BUFFER}.
   */
  readonly bufferSize?: number;
  /** Closes the subscription when aborted. */
  readonly signal?: AbortSignal;
  /** A label for telemetry, lag metrics and the control bus (1–200 chars). Default `subscription-<n>`. */
  readonly name?: string;
}

/** Lifecycle of a subscription. */
export type SubscriptionState = 'catching_up' | 'live' | 'closed' | 'failed';

/** What a subscription reports about itself (for metrics, health and the control bus). */
export interface SubscriptionStatus {
  /** The subscription's name (given, or generated). */
  readonly name: string;
  /** Where the subscription is in its lifecycle. */
  readonly state: SubscriptionState;
  /** Checkpoint of the last event the consumer received (iterator) or finished handling (callback). */
  readonly checkpoint: SubscriptionCheckpoint | undefined;
  /** Position of that event (0 before the first). */
  readonly position: number;
  /**
   * Events committed to the store (any type) after the last one the consumer took, as far as the subscription
   * knows: the store's last position minus `position` (0 when caught up).
   */
  readonly lag: number;
  /** Events read but not yet taken by the consumer. */
  readonly buffered: number;
  /** Events delivered so far. */
  readonly delivered: number;
}

/**
 * A running subscription: an async iterable of events (each event is yielded once, in commit order), with its
 * status. Breaking out of a `for await` loop closes it.
 */
export interface Subscription extends AsyncIterable<StoredEvent> {
  /** Current status. */
  status(): SubscriptionStatus;
  /** Checkpoint of the last event delivered (see {@link SubscriptionStatus.checkpoint}). */
  readonly checkpoint: SubscriptionCheckpoint | undefined;
  /** Stops reading, releases the buffer; pending iterator calls end. Idempotent. */
  close(): Promise<void>;
  /**
   * Settles when the subscription ends: resolves after `close()` (or abort), rejects with the error that
   * failed it (a callback handler that threw, the store failing for good).
   */
  readonly done: Promise<void>;
}

/**
 * The callback form's handler: called for one event at a time, in order; the next event waits for the
 * returned promise (backpressure). A throw or rejection fails the subscription (`done` rejects with it).
 */
export type SubscriptionHandler = (
  event: StoredEvent,
  checkpoint: SubscriptionCheckpoint,
) => void | Promise<void>;
