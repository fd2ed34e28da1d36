/**
 * The spooling decorator of an event store port: when an append group fails because the store is
 * unreachable (`FND_STORAGE_UNAVAILABLE`), its `expectedVersion: 'any'` requests are written to a bounded
 * local spool file and answered as spooled; a background loop replays the spool into the store, in order,
 * once it answers again. While anything waits in the spool, new appends go behind it, so order is kept.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { HealthReport } from '../../kernel/service.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import { classifyStoreError } from '../group-commit.js';
import type { AppendOutcome, AppendRequest, EventStorePort } from '../model/port.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventQuery,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from '../model/types.js';
import { offlineCheckError, spoolHealth } from './spool-answers.js';
import type { RejectedSpoolEntry } from './spool-file.js';
import { Spool, type SpoolDepth } from './spool.js';
import {
  replayDelay,
  resolveSpoolOptions,
  type EventSpoolOptions,
  type ResolvedSpoolOptions,
  type SpoolState,
  type SpoolStatus,
} from './spool-options.js';

const spoolReplayFailed = telemetryEvent('events:spool_replay_failed');
const spoolDrained = telemetryEvent('events:spool_drained');

const CLOSED_DEPTH: SpoolDepth = Object.freeze({
  requests: 0,
  events: 0,
  bytes: 0,
  rejectedRequests: 0,
  rejectedEvents: 0,
  rejectedBytes: 0,
  oldestSpooledAt: undefined,
  spooledTotal: 0,
  replayedTotal: 0,
  refusedTotal: 0,
});

/**
 * An {@link EventStorePort} that keeps appends on local disk while the wrapped store is unreachable.
 *
 * - A group the store rejects with `FND_STORAGE_UNAVAILABLE`: its `expectedVersion: 'any'` requests are
 *   spooled (durably, before the call resolves) and answered `{ ok: true, spooled: true }` with events at
 *   position 0; requests with another expected version fail with `FND_STORAGE_UNAVAILABLE` (a version cannot
 *   be checked offline). Other failures pass through unchanged.
 * - While the spool holds anything, every new append goes to the spool (same rules), never to the store, so
 *   the store receives events in the order they were appended.
 * - A full spool (`maxEvents` / `maxBytes`, pending plus rejected) refuses the request with
 *   `FND_EVENTS_SPOOL_FULL`; nothing already spooled is dropped.
 * - Replay: a pass starts `retryInitialMs` after the first spooled append (at once on `open()` when the file
 *   holds requests from an earlier run), sends the oldest requests in batches, removes each batch once the
 *   store committed it, and backs off (doubling up to `retryMaxMs`) when the store fails. Events keep their
 *   ids and content, so a batch replayed twice (the answer lost, or a crash before the removal) is answered
 *   as an idempotent retry. A request the store refuses at replay (its id exists with other content) stays
 *   in the file as rejected (see {@link SpoolingEventStorePort.rejected}).
 * - Reads go to the store: spooled events are not visible to reads until replayed.
 *
 * Telemetry: `events:spooled` `{ events, bytes, depthEvents, depthBytes }`, `events:spool_full`
 * `{ events, bytes }`, `events:spool_depth` `{ events, bytes, requests }` (on every change: the depth
 * metric), `events:spool_replayed` `{ events, requests, duration, depthEvents, depthBytes }`,
 * `events:spool_replay_failed` `{ failedAttempts, delay }` with `{ code }`, `events:spool_rejected`
 * `{ events }` with `{ code, seq }`, `events:spool_drained` `{ replayed }`.
 *
 * @example
 * ```ts
 * const spooling = new SpoolingEventStorePort(createEventStorePort(storage), {
 *   path: './.foundation/events-spool.db',
 *   maxEvents: 100_000,
 * });
 * const events = new EventStore(spooling);
 * await events.start();
 * spooling.status(); // { state: 'direct', events: 0, … }
 * ```
 */
export class SpoolingEventStorePort implements EventStorePort {
  /** The wrapped store's kind. */
  readonly kind: string;
  /** The wrapped store's, when it has it. */
  readonly maxConcurrentGroups?: number;
  /** The wrapped store's, when it has it (live subscriptions). */
  readonly readCommitted?: NonNullable<EventStorePort['readCommitted']>;
  /** The wrapped store's, when it has it. */
  readonly checkpointPosition?: NonNullable<EventStorePort['checkpointPosition']>;
  /** The wrapped store's, when it has it. */
  readonly resolveFrom?: NonNullable<EventStorePort['resolveFrom']>;
  /** The wrapped store's, when it has it (PostgreSQL LISTEN/NOTIFY wake-ups). */
  readonly watch?: NonNullable<EventStorePort['watch']>;
  /** The wrapped store's, when it has it (inline projections, run when an event reaches the store). */
  readonly setInlineProjector?: NonNullable<EventStorePort['setInlineProjector']>;
  readonly #inner: EventStorePort;
  readonly #options: ResolvedSpoolOptions;
  readonly #clock: Clock;
  #spool: Spool | undefined;
  #opening: Promise<void> | undefined;
  #closing = false;
  #timer: TimerHandle | undefined;
  #nextReplayAt: number | undefined;
  #pass: Promise<void> | undefined;
  #failedAttempts = 0;
  #lastError: SpoolStatus['lastError'];
  /** The last depth seen while open, reported while closed. */
  #closedDepth: SpoolDepth = CLOSED_DEPTH;
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  /**
   * Wraps `inner`; opens nothing until {@link SpoolingEventStorePort.open}.
   *
   * @param clock - fallback clock when `options.clock` is absent (e.g. the event store's).
   * @throws FoundationError `FND_DATA_INVALID_INPUT` for bad options.
   */
  constructor(inner: EventStorePort, options: EventSpoolOptions, clock?: Clock) {
    this.#inner = inner;
    this.#options = resolveSpoolOptions(options, clock);
    this.#clock = this.#options.clock;
    this.kind = inner.kind;
    if (inner.maxConcurrentGroups !== undefined) this.maxConcurrentGroups = inner.maxConcurrentGroups;
    // Live subscriptions read committed events and watch for commits: they pass through as they are.
    if (inner.readCommitted !== undefined) this.readCommitted = inner.readCommitted.bind(inner);
    if (inner.checkpointPosition !== undefined) {
      this.checkpointPosition = inner.checkpointPosition.bind(inner);
    }
    if (inner.resolveFrom !== undefined) this.resolveFrom = inner.resolveFrom.bind(inner);
    if (inner.watch !== undefined) this.watch = inner.watch.bind(inner);
    // Inline projections run inside the store's append transaction: for a spooled event, at its replay.
    if (inner.setInlineProjector !== undefined) {
      this.setInlineProjector = inner.setInlineProjector.bind(inner);
    }
  }

  /** Opens the spool file, then the wrapped store; schedules a replay at once if the file holds requests. */
  async open(): Promise<void> {
    if (this.#spool !== undefined) return;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const spool = await Spool.open(this.#options);
    try {
      await this.#inner.open();
    } catch (error) {
      spool.close();
      throw error;
    }
    this.#spool = spool;
    this.#closing = false;
    if (spool.pending > 0) this.#schedule(0);
  }

  /**
   * Stops the replay loop (waiting for a batch in flight), closes the spool file and the wrapped store.
   * Whatever is still spooled stays in the file and is replayed after the next `open()`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#opening !== undefined) await this.#opening.catch(() => undefined);
    const spool = this.#spool;
    if (spool === undefined) return;
    this.#closing = true;
    this.#cancelTimer();
    await this.#pass?.catch(() => undefined);
    this.#closedDepth = spool.depth();
    const left = this.#closedDepth.events;
    spool.close();
    this.#spool = undefined;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    const closed = new FoundationError('FND_SYSTEM_ABORTED', {
      message: 'The event spool closed before it drained',
      context: { events: left },
    });
    for (const waiter of waiters) waiter.reject(closed);
    await this.#inner.close();
  }

  /**
   * Appends through the store, or to the spool while it holds anything or when the store is unreachable.
   * See the class documentation for the outcomes.
   */
  async append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    const spool = this.#openSpool();
    if (spool.pending > 0) return this.#divert(spool, requests, undefined);
    try {
      return await this.#inner.append(requests);
    } catch (error) {
      const classified = classifyStoreError(error);
      if (classified.code !== 'FND_STORAGE_UNAVAILABLE' || this.#spool === undefined) throw classified;
      return this.#divert(this.#spool, requests, classified);
    }
  }

  #openSpool(): Spool {
    if (this.#spool === undefined || this.#closing) {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: 'The event spool is not open',
        context: { path: this.#options.path },
        retryStrategy: 'no_retry',
      });
    }
    return this.#spool;
  }

  /** Spools the `any` requests (in order, one transaction) and refuses the checked ones. */
  #divert(
    spool: Spool,
    requests: readonly AppendRequest[],
    cause: FoundationError | undefined,
  ): AppendOutcome[] {
    const outcomes: AppendOutcome[] = new Array<AppendOutcome>(requests.length);
    const spoolable: AppendRequest[] = [];
    const indexes: number[] = [];
    const waiting = spool.depth().events;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i] as AppendRequest;
      if (request.expectedVersion === 'any') {
        spoolable.push(request);
        indexes.push(i);
      } else {
        outcomes[i] = { ok: false, error: offlineCheckError(request, cause, waiting) };
      }
    }
    if (spoolable.length === 0) return outcomes;
    const added = spool.add(spoolable, this.#clock.now());
    for (let k = 0; k < added.length; k++) outcomes[indexes[k] as number] = added[k] as AppendOutcome;
    if (spool.pending > 0) this.#schedule(this.#options.retryInitialMs);
    return outcomes;
  }

  // ── replay ─────────────────────────────────────────────────────────────────────────────────────────

  /** Schedules a replay pass in `delay` ms, unless one runs or an earlier one is scheduled. */
  #schedule(delay: number): void {
    if (this.#closing || this.#spool === undefined || this.#pass !== undefined) return;
    const at = this.#clock.now() + delay;
    if (this.#timer !== undefined) {
      if (this.#nextReplayAt !== undefined && this.#nextReplayAt <= at) return;
      this.#cancelTimer();
    }
    this.#nextReplayAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#nextReplayAt = undefined;
      void this.#startPass();
    }, delay);
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#nextReplayAt = undefined;
  }

  #startPass(): Promise<void> {
    if (this.#pass !== undefined) return this.#pass;
    if (this.#closing || this.#spool === undefined) return Promise.resolve();
    this.#cancelTimer();
    const pass: Promise<void> = this.#replay(this.#spool).finally(() => {
      if (this.#pass === pass) this.#pass = undefined;
    });
    this.#pass = pass;
    return pass;
  }

  /** Replays batches until the spool is empty, the store (or the file) fails (→ backoff) or the spool closes. */
  async #replay(spool: Spool): Promise<void> {
    const { replayBatchEvents, replayBatchRequests } = this.#options;
    let replayed = 0;
    try {
      for (;;) {
        if (this.#closing) return;
        const batch = spool.head(replayBatchRequests, replayBatchEvents);
        if (batch.length === 0) {
          this.#failedAttempts = 0;
          this.#lastError = undefined;
          spoolDrained.emit({ replayed }, { path: this.#options.path });
          this.#wakeDrained();
          return;
        }
        const started = this.#clock.monotonic();
        const outcomes = await this.#inner.append(batch.map((entry) => entry.request));
        if (outcomes.length !== batch.length) {
          throw new FoundationError('FND_STORAGE_QUERY_FAILED', {
            message: `The store answered ${outcomes.length} outcomes for ${batch.length} replayed requests`,
          });
        }
        // If this write fails after the commit, the batch stays and its repeat is an idempotent retry.
        replayed += spool.settle(batch, outcomes, this.#clock.now(), this.#clock.monotonic() - started);
        this.#failedAttempts = 0;
      }
    } catch (error) {
      this.#replayFailed(error);
    }
  }

  /** Records a failed attempt and schedules the next one with backoff. */
  #replayFailed(error: unknown): void {
    const failure =
      error instanceof Error && error.name === 'SqliteError'
        ? new FoundationError('FND_STORAGE_UNAVAILABLE', {
            message: `The event spool file ${this.#options.path} failed: ${error.message}`,
            context: { path: this.#options.path },
            cause: error,
          })
        : classifyStoreError(error);
    this.#failedAttempts++;
    this.#lastError = { code: failure.code, message: failure.message, at: this.#clock.now() };
    const delay = replayDelay(this.#failedAttempts, this.#options.retryInitialMs, this.#options.retryMaxMs);
    spoolReplayFailed.emit(
      { failedAttempts: this.#failedAttempts, delay },
      { code: failure.code, message: failure.message, path: this.#options.path },
    );
    // The pass is ending: clear it first so the retry can be scheduled.
    this.#pass = undefined;
    this.#schedule(delay);
  }

  #wakeDrained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  // ── operations ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs a replay pass now (cancelling a scheduled one) and resolves when it ends: drained, failed (then a
   * retry is scheduled with backoff) or closed. Harmless when the spool is empty.
   */
  replayNow(): Promise<void> {
    this.#openSpool();
    return this.#startPass();
  }

  /**
   * Resolves when nothing is pending in the spool (at once when it is empty). Rejects with
   * `FND_SYSTEM_ABORTED` when the spool is not open or closes first.
   */
  drained(): Promise<void> {
    if (this.#spool === undefined || this.#closing) {
      return Promise.reject(
        new FoundationError('FND_SYSTEM_ABORTED', { message: 'The event spool is not open' }),
      );
    }
    if (this.#spool.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ resolve, reject });
    });
  }

  /** The spool's state and depth. */
  status(): SpoolStatus {
    const spool = this.#spool;
    const depth = spool?.depth() ?? this.#closedDepth;
    let state: SpoolState;
    if (spool === undefined) state = 'closed';
    else if (this.#pass !== undefined) state = 'replaying';
    else if (depth.requests > 0) state = 'spooling';
    else state = 'direct';
    return {
      state,
      path: this.#options.path,
      maxEvents: this.#options.maxEvents,
      maxBytes: this.#options.maxBytes,
      ...depth,
      nextReplayAt: this.#nextReplayAt,
      failedAttempts: this.#failedAttempts,
      lastError: this.#lastError,
    };
  }

  /**
   * A health report for the app (see {@link spoolHealth}); `details` is the
   * {@link SpoolingEventStorePort.status}.
   */
  health(): HealthReport {
    return spoolHealth(this.status());
  }

  /** The requests the store refused at replay, oldest first (kept in the file until discarded). */
  rejected(limit = 100): RejectedSpoolEntry[] {
    return this.#openSpool().rejected(limit);
  }

  /** Deletes rejected requests (all, or those with the given `seq`s) after an operator dealt with them. */
  discardRejected(seqs?: readonly number[]): number {
    return this.#openSpool().discardRejected(seqs);
  }

  // ── reads: delegated ───────────────────────────────────────────────────────────────────────────────

  /** Delegated to the wrapped store. */
  get(id: string): Promise<StoredEvent | undefined> {
    return this.#inner.get(id);
  }
  /** Delegated to the wrapped store. */
  streamVersion(stream: string): Promise<number> {
    return this.#inner.streamVersion(stream);
  }
  /** Delegated to the wrapped store. */
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]> {
    return this.#inner.readStream(stream, options);
  }
  /** Delegated to the wrapped store. */
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]> {
    return this.#inner.readAll(options);
  }
  /** Delegated to the wrapped store. */
  query(query: EventQuery): Promise<QueryPage> {
    return this.#inner.query(query);
  }
  /** Delegated to the wrapped store. */
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]> {
    return this.#inner.aggregate(query);
  }
  /** Delegated to the wrapped store. */
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    return this.#inner.byCorrelation(correlationId, limit);
  }
}
