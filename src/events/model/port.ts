/**
 * The port every event store adapter implements (memory, SQLite, PostgreSQL). The service
 * (`EventStore`) validates, stamps context, assigns ids and groups concurrent appends; an adapter only
 * persists and reads. One contract suite (`test/contracts/event-store.contract.ts`) runs against every
 * adapter.
 *
 * @module
 */
import type { FoundationError } from '../../errors/index.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventQuery,
  ExpectedVersion,
  JsonObject,
  JsonValue,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './types.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';
import type { InlineProjector } from '../projections/inline-hook.js';

/** An event validated and completed by the service, ready to persist. */
export interface PreparedEvent {
  /** The event id (given or generated). */
  readonly id: string;
  /** The event type. */
  readonly type: string;
  /** The stream, or `null`. */
  readonly stream: string | null;
  /** Wall-clock ms of the append. */
  readonly time: number;
  /** Monotonic ms (node-local) of the append. */
  readonly monotonic: number;
  /** The correlation id (given or from the current context), or `null`. */
  readonly correlationId: string | null;
  /** The causation id (given or from the current context), or `null`. */
  readonly causationId: string | null;
  /** The parent event's id, or `null`. */
  readonly parentId: string | null;
  /** The validated payload. */
  readonly data: JsonValue;
  /** The validated metadata. */
  readonly metadata: JsonObject;
  /** `JSON.stringify(data)`, computed once during validation. */
  readonly dataJson: string;
  /** `JSON.stringify(metadata)`. */
  readonly metadataJson: string;
  /** Name of the node that appends it. */
  readonly node: string;
  /**
   * True when `correlationId` was not given by the caller but taken from the current context: such an id
   * is not part of the event's content for idempotency (a retry from another context is still the same
   * event). Set by `prepareEvents`.
   */
  readonly correlationIdFromContext?: boolean;
  /** True when `causationId` was taken from the current context (see `correlationIdFromContext`). */
  readonly causationIdFromContext?: boolean;
}

/**
 * One caller's append: all-or-nothing on its own. `stream` is the single stream of a checked append
 * (`expectedVersion` other than `any`), else `null`.
 */
export interface AppendRequest {
  /** The events of the request, in order. */
  readonly events: readonly PreparedEvent[];
  /** The optimistic concurrency check of `stream` (`any` when unchecked). */
  readonly expectedVersion: ExpectedVersion;
  /** The single stream of a checked append, else `null`. */
  readonly stream: string | null;
}

/**
 * The outcome of one request within a group. A failed request wrote nothing; the others in the group are
 * unaffected by it. Errors: `FND_EVENTS_VERSION_CONFLICT` (context: stream, expected, actual),
 * `FND_EVENTS_ID_CONFLICT` (an id exists with other content, or only part of the batch exists).
 */
export type AppendOutcome =
  | {
      readonly ok: true;
      readonly events: readonly StoredEvent[];
      /** Every event already existed with identical content; nothing was written. */
      readonly idempotent: boolean;
      /**
       * True when the events were kept in a local spool because the store was unreachable (see
       * `SpoolingEventStorePort`): not stored yet, so their positions are 0 and stream versions `null`.
       */
      readonly spooled?: boolean;
    }
  | { readonly ok: false; readonly error: FoundationError };

/**
 * A page of the log in the store's commit order, read by a live subscription
 * ({@link EventStorePort.readCommitted}). Everything in it comes from one consistent snapshot.
 */
export interface CommittedPage {
  /** The matching events after the `after` checkpoint, in commit order (at most `limit`). */
  readonly events: readonly StoredEvent[];
  /** The checkpoint of each event of {@link CommittedPage.events}, same index. */
  readonly checkpoints: readonly string[];
  /**
   * Where the next read continues: the checkpoint of the last event this read got past (matching or not),
   * so a filtered subscription advances over events it does not want. `after` itself when nothing was read.
   */
  readonly head: string;
  /** True when the read stopped at a limit: more committed events may follow right away. */
  readonly more: boolean;
  /**
   * True when committed events exist beyond the safe horizon: an older transaction is still open, and
   * those events wait until it ends (PostgreSQL only; always false on memory and SQLite).
   */
  readonly held: boolean;
  /** The store's last position (any event, committed as of the snapshot), for lag; 0 when empty. */
  readonly lastPosition: number;
}

/** What a store adapter implements. */
export interface EventStorePort {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /**
   * Most append groups the service may have in flight on this store at once (default 1). More than one only
   * helps a store whose `append` waits on I/O and can run concurrently (PostgreSQL: the next group executes
   * while the previous one waits for its commit's WAL flush). The service only overlaps groups that share no
   * stream and no event id, so each stream's appends still commit in call order; a store allowing this must
   * keep concurrent groups correct (locks taken in a deterministic order, no lost versions).
   */
  readonly maxConcurrentGroups?: number;
  /** Connects / runs migrations. Called once by the service's `start()`. */
  open(): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
  /**
   * Persists a group of independent requests in as few transactions as possible (ideally one), in order.
   * Each request succeeds or fails on its own (expected version, id conflicts checked against the state
   * left by the earlier requests of the group). Resolves only after the group's commit. Rejects only when
   * the store itself fails (connection lost…), which fails every request of the group.
   */
  append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]>;
  /** The event with this id, or `undefined`. */
  get(id: string): Promise<StoredEvent | undefined>;
  /** The stream's current version (0 when it has no events). */
  streamVersion(stream: string): Promise<number>;
  /** Options arrive validated and with defaults applied. */
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]>;
  /** Events of the whole log after `afterPosition`, by position. */
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]>;
  /** The query arrives validated (see `validateQuery`), limit applied, cursor decoded by the compiler. */
  query(query: EventQuery): Promise<QueryPage>;
  /** Counts of the matching events, grouped by type or time bucket. */
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]>;
  /** Every event with this correlation id, by position (bounded by `limit`). */
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]>;

  // ── live subscriptions (optional: a port without them cannot be subscribed to) ──

  /**
   * Up to `limit` events matching `filter` strictly after the checkpoint `after`, in commit order, with the
   * checkpoint the next read continues from (see {@link CommittedPage}). The filter arrives validated;
   * `after` is a checkpoint this store made or accepted ({@link EventStorePort.checkpointPosition}).
   */
  readCommitted?(filter: SubscriptionFilter, after: string, limit: number): Promise<CommittedPage>;
  /**
   * The position encoded in one of this store's checkpoints, or `undefined` when `checkpoint` is not one
   * (garbage, another store's format). Synchronous: used to validate `from`.
   */
  checkpointPosition?(checkpoint: string): number | undefined;
  /**
   * The checkpoint a subscription starting at `from` continues after: `start` (before the first event),
   * `end` (after every event committed so far), or a position `n` (after the event at position `n`).
   */
  resolveFrom?(from: 'start' | 'end' | number): Promise<string>;
  /**
   * Calls `listener` when events may have been committed by another process (PostgreSQL: LISTEN/NOTIFY;
   * also after the listening connection came back, so commits made meanwhile are not missed). Returns the
   * function that stops it. Stores without cross-process notifications leave it out.
   */
  watch?(listener: () => void): () => void;

  // ── inline projections (optional) ──

  /**
   * Installs (or, with `undefined`, removes) the projector of inline projections, called inside each append
   * transaction; see {@link InlineProjector} for when and how. Stores without it cannot run inline
   * projections.
   */
  setInlineProjector?(projector: InlineProjector | undefined): void;
}
