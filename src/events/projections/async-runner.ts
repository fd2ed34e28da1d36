/**
 * The runner of one async projection: a subscription from the projection's stored checkpoint, consumed in
 * batches (the first event, then whatever the subscription already buffered, up to `batchSize`); each batch's
 * row changes and the batch's checkpoint commit in one transaction, so after a crash or a stop the runner
 * resumes right after the last committed batch and no event is applied twice.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { QueryPage, StoredEvent } from '../model/types.js';
import type { SubscribeOptions, Subscription, SubscriptionFilter } from '../subscriptions/types.js';
import { foldBatch, routeEvents } from './fold.js';
import type { ProjectionRecord, ProjectionStore } from './projection-store.js';
import type { ValidDefinition } from './validate-definition.js';

/** What projections need from the event store: live subscriptions and queries (`EventStore` has both). */
export interface ProjectionSource {
  /** Subscribes to the events a projection folds (`EventStore.subscribe`). */
  subscribe(filter: SubscriptionFilter, options?: SubscribeOptions): Subscription;
  /** Reads a page of the log (used to find the rebuild target). */
  query(query: unknown): Promise<QueryPage>;
}

const batchCommitted = telemetryEvent('events:projection_batch');
const rebuildProgress = telemetryEvent('events:projection_rebuild_progress');
const rebuilt = telemetryEvent('events:projection_rebuilt');
const projectionFailedEvent = telemetryEvent('events:projection_failed');
const runnerRetry = telemetryEvent('events:projection_retry');

/** Runner settings. */
export interface RunnerOptions {
  readonly batchSize: number;
  readonly clock: Clock;
  /** First delay before restarting after a store failure, ms (doubles up to 30 s). */
  readonly retryMs: number;
}

/** Where a runner is. */
export type RunnerState = 'running' | 'failed' | 'stopped';

interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Follows the log for one async projection. Created and owned by `Projections`. */
export class AsyncProjectionRunner {
  readonly #def: ValidDefinition;
  readonly #source: ProjectionSource;
  readonly #store: ProjectionStore;
  readonly #options: RunnerOptions;
  #state: RunnerState = 'stopped';
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #record: ProjectionRecord | undefined;
  #lastError: FoundationError | undefined;
  #retry: TimerHandle | undefined;
  #retryDelay: number;
  #waiters: Waiter[] = [];

  constructor(
    def: ValidDefinition,
    source: ProjectionSource,
    store: ProjectionStore,
    options: RunnerOptions,
  ) {
    this.#def = def;
    this.#source = source;
    this.#store = store;
    this.#options = options;
    this.#retryDelay = options.retryMs;
  }

  /** Runner state (`failed`: stopped by a throwing `evolve`, waiting for `restart`). */
  get state(): RunnerState {
    return this.#state;
  }

  /** The record as of the last commit. */
  get record(): ProjectionRecord | undefined {
    return this.#record;
  }

  /** The last store failure (retried) or projection failure. */
  get lastError(): FoundationError | undefined {
    return this.#lastError;
  }

  /** Starts following from the stored checkpoint. The record must exist (`ensure`). */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    const record = await this.#store.record(this.#def.name);
    if (record === undefined) {
      throw new FoundationError('FND_DATA_NOT_FOUND', {
        message: `Projection ${this.#def.name} has no record`,
        context: { projection: this.#def.name },
      });
    }
    this.#record = record;
    if (record.status === 'failed') {
      this.#state = 'failed';
      return;
    }
    this.#state = 'running';
    this.#open(record);
  }

  /** Stops after the batch in flight commits (or is abandoned); the checkpoint stays where it was. */
  async stop(): Promise<void> {
    if (this.#state === 'running') this.#state = 'stopped';
    this.#retry?.cancel();
    this.#retry = undefined;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await subscription?.close();
    await this.#loop;
    this.#rejectWaiters(
      new FoundationError('FND_SYSTEM_ABORTED', {
        message: `Projection ${this.#def.name} stopped`,
        context: { projection: this.#def.name },
      }),
    );
  }

  /**
   * Resolves once a committed batch reached `position` (any event at or after it), rejects when the
   * projection fails or stops first.
   */
  waitFor(position: number): Promise<void> {
    if ((this.#record?.position ?? 0) >= position) return Promise.resolve();
    if (this.#state === 'failed') return Promise.reject(this.#failure());
    return new Promise((resolve, reject) => this.#waiters.push({ position, resolve, reject }));
  }

  #open(record: ProjectionRecord): void {
    const subscription = this.#source.subscribe(this.#def.filter, {
      from: record.checkpoint ?? 'start',
      batchSize: Math.min(this.#options.batchSize, 10_000),
      bufferSize: Math.max(this.#options.batchSize * 2, 256),
      name: `projection:${this.#def.name}`,
    });
    this.#subscription = subscription;
    this.#loop = this.#consume(subscription, record.checkpoint).catch((error: unknown) =>
      this.#onError(subscription, error),
    );
  }

  async #consume(subscription: Subscription, resumedFrom: string | null): Promise<void> {
    const iterator = subscription[Symbol.asyncIterator]();
    let expected = resumedFrom;
    for (;;) {
      const first = await iterator.next();
      if (this.#subscription !== subscription) return;
      if (first.done === true) {
        // Ended without being closed here: the subscription failed (its `done` rejects) — retried by #onError.
        await subscription.done;
        throw new FoundationError('FND_EVENTS_SUBSCRIPTION_FAILED', {
          message: `The subscription of projection ${this.#def.name} ended`,
          context: { projection: this.#def.name },
        });
      }
      const batch: StoredEvent[] = [first.value];
      while (batch.length < this.#options.batchSize && subscription.status().buffered > 0) {
        const next = await iterator.next();
        if (next.done === true) break;
        batch.push(next.value);
      }
      const checkpoint = subscription.checkpoint as string;
      expected = await this.#commit(batch, expected, checkpoint);
      // One macrotask between batches: on memory and SQLite every read resolves at once, so a rebuild would
      // otherwise hold the event loop until done (no request served, no progress visible).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #commit(batch: readonly StoredEvent[], expected: string | null, checkpoint: string): Promise<string> {
    const started = this.#options.clock.monotonic();
    const def = this.#def;
    const routed = routeEvents(def, batch);
    let position = 0;
    for (const event of batch) position = Math.max(position, event.position);
    const target = this.#record?.status === 'rebuilding' ? (this.#record.target ?? 0) : undefined;
    const record = await this.#store.commitBatch({
      name: def.name,
      expected,
      checkpoint,
      position,
      keys: routed.keys,
      plan: (current) => foldBatch(def, routed, current),
      finishRebuild: target !== undefined && position >= target,
      now: this.#options.clock.now(),
    });
    this.#record = record;
    this.#retryDelay = this.#options.retryMs;
    if (batchCommitted.hasSubscribers) {
      batchCommitted.emit(
        {
          events: batch.length,
          rows: routed.keys.length,
          position,
          duration: this.#options.clock.monotonic() - started,
        },
        { projection: def.name },
      );
    }
    if (target !== undefined) {
      rebuildProgress.emit(
        {
          position: record.position,
          target,
          ratio: target === 0 ? 1 : Math.min(1, record.position / target),
        },
        { projection: def.name },
      );
      if (record.status === 'running')
        rebuilt.emit({ position: record.position, target }, { projection: def.name });
    }
    this.#resolveWaiters(record.position);
    return checkpoint;
  }

  async #onError(subscription: Subscription, error: unknown): Promise<void> {
    await subscription.close().catch(() => undefined);
    if (this.#subscription !== subscription) return;
    this.#subscription = undefined;
    const failure =
      error instanceof FoundationError
        ? error
        : new FoundationError('FND_EVENTS_PROJECTION_FAILED', {
            message: `Projection ${this.#def.name} failed`,
            context: { projection: this.#def.name },
            cause: error,
          });
    this.#lastError = failure;
    if (failure.code === 'FND_EVENTS_PROJECTION_FAILED') {
      this.#state = 'failed';
      const eventId = failure.context.eventId;
      await this.#store
        .fail(
          this.#def.name,
          {
            code: failure.code,
            message: failure.message,
            ...(typeof eventId === 'string' ? { eventId } : {}),
          },
          this.#options.clock.now(),
        )
        .catch(() => undefined);
      this.#record = (await this.#store.record(this.#def.name).catch(() => undefined)) ?? this.#record;
      projectionFailedEvent.emit(
        { position: this.#record?.position ?? 0 },
        { projection: this.#def.name, code: failure.code },
      );
      this.#rejectWaiters(failure);
      return;
    }
    // A store failure or a checkpoint moved by another runner: start again from the stored checkpoint later.
    this.#scheduleRetry(failure.code);
  }

  #scheduleRetry(code: string): void {
    if (this.#state !== 'running') return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, 30_000);
    runnerRetry.emit({ delay }, { projection: this.#def.name, code });
    this.#retry = this.#options.clock.setTimeout(() => {
      this.#retry = undefined;
      this.#loop = this.#reopen();
    }, delay);
  }

  async #reopen(): Promise<void> {
    if (this.#state !== 'running') return;
    let record: ProjectionRecord | undefined;
    try {
      record = await this.#store.record(this.#def.name);
    } catch (error) {
      this.#lastError = error instanceof FoundationError ? error : undefined;
      this.#scheduleRetry(error instanceof FoundationError ? error.code : 'unknown');
      return;
    }
    if (!this.#running() || record === undefined) return;
    this.#record = record;
    this.#resolveWaiters(record.position);
    if (record.status === 'failed') {
      this.#state = 'failed';
      return;
    }
    this.#open(record);
  }

  /** Read through a method: the state changes across awaits, which narrowing cannot see. */
  #running(): boolean {
    return this.#state === 'running';
  }

  #failure(): FoundationError {
    return (
      this.#lastError ??
      new FoundationError('FND_EVENTS_PROJECTION_FAILED', {
        message: `Projection ${this.#def.name} failed`,
        context: { projection: this.#def.name },
      })
    );
  }

  #resolveWaiters(position: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (position >= waiter.position) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  #rejectWaiters(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
