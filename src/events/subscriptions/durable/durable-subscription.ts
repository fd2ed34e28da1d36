/**
 * Durable named subscriptions and consumer groups on top of `EventStore.subscribe`: checkpoints in the
 * foundation's store, at-least-once delivery, resume after restart right after the last acknowledged event,
 * and partitions leased to live members so each key is handled by one member at a time, in order.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../../../errors/index.js';
import { systemClock, type Clock, type TimerHandle } from '../../../kernel/clock.js';
import { telemetryEvent } from '../../../kernel/telemetry.js';
import { Storage } from '../../../storage/storage.js';
import type { SubscriptionFrom } from '../types.js';
import { planAssignment } from './assignment.js';
import type { CheckpointStore, PartitionRow, SubscriptionRecord } from './checkpoint-store.js';
import { createCheckpointStore } from './create-checkpoint-store.js';
import type { SubscribableEvents } from './events-port.js';
import { PartitionWorker, type WorkerDeps } from './partition-worker.js';
import type {
  DurableState,
  DurableStatus,
  DurableSubscription,
  DurableSubscriptionOptions,
} from './types.js';
import { invalidSubscription, validateDurableOptions, type DurableConfig } from './validate-options.js';

const started = telemetryEvent('events:durable_started');
const stopped = telemetryEvent('events:durable_stopped');
const failed = telemetryEvent('events:durable_failed');
const heartbeatDone = telemetryEvent('events:durable_heartbeat');
const heartbeatFailed = telemetryEvent('events:durable_heartbeat_failed');
const acquired = telemetryEvent('events:durable_partition_acquired');
const released = telemetryEvent('events:durable_partition_released');
const lost = telemetryEvent('events:durable_partition_lost');

/** Extra options that are not about the subscription itself. */
export interface DurableRuntimeOptions {
  /** Time source for heartbeats, backoff and checkpoint batching (and leases on memory/SQLite). */
  readonly clock?: Clock;
}

/**
 * Creates a durable subscription handle (nothing runs until `start()`).
 *
 * `checkpoints` is a {@link CheckpointStore} or an open `Storage` (a store is then created for it; on
 * `memory:` share one `MemoryCheckpointStore` between handles that should coordinate).
 *
 * @throws FoundationError `FND_EVENTS_INVALID_SUBSCRIPTION` for bad options (nothing is stored).
 *
 * @example
 * ```ts
 * const mailer = durableSubscription(events, storage, {
 *   name: 'mailer',
 *   filter: { types: ['order.placed'] },
 *   from: 'start',
 *   handler: async (event) => sendMail(event.data),
 * });
 * await mailer.start();
 * // …
 * await mailer.stop();
 * ```
 */
export function durableSubscription(
  events: SubscribableEvents,
  checkpoints: CheckpointStore | Storage,
  options: DurableSubscriptionOptions,
  runtime: DurableRuntimeOptions = {},
): DurableSubscription {
  const config = validateDurableOptions(options);
  const clock = runtime.clock ?? systemClock;
  const store = checkpoints instanceof Storage ? createCheckpointStore(checkpoints, { clock }) : checkpoints;
  return new DurableSubscriptionHandle(events, store, config, clock);
}

/** The handle behind {@link durableSubscription}. */
class DurableSubscriptionHandle implements DurableSubscription {
  readonly name: string;
  readonly member: string;
  readonly done: Promise<void>;
  readonly #events: SubscribableEvents;
  readonly #store: CheckpointStore;
  readonly #config: DurableConfig;
  readonly #clock: Clock;
  readonly #workers = new Map<number, PartitionWorker>();
  readonly #closing = new Map<number, Promise<void>>();
  readonly #deps: WorkerDeps;
  #state: DurableState = 'new';
  #error: FoundationError | undefined;
  #heartbeatError: FoundationError | undefined;
  #record: SubscriptionRecord | undefined;
  #members: readonly string[] = [];
  #handled = 0;
  #deadLettered = 0;
  #timer: TimerHandle | undefined;
  #tick: Promise<void> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #resolve: () => void = () => undefined;
  #reject: (error: unknown) => void = () => undefined;

  constructor(events: SubscribableEvents, store: CheckpointStore, config: DurableConfig, clock: Clock) {
    this.name = config.name;
    this.member = config.member;
    this.#events = events;
    this.#store = store;
    this.#config = config;
    this.#clock = clock;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => undefined);
    this.#deps = {
      config,
      events,
      store,
      clock,
      onFail: (error) => void this.#fail(error),
      onLost: (partition, reason) => void this.#lose(partition, reason),
      count: (kind) => {
        if (kind === 'handled') this.#handled++;
        else this.#deadLettered++;
      },
    };
  }

  start(): Promise<void> {
    if (this.#starting !== undefined) return this.#starting;
    if (this.#state !== 'new') {
      return Promise.reject(
        new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
          message: `Durable subscription "${this.name}" is ${this.#state}; a handle runs once, create a new one`,
          context: { name: this.name, state: this.#state },
        }),
      );
    }
    this.#state = 'starting';
    this.#starting = this.#start().catch((error: unknown) => {
      this.#state = 'stopped';
      this.#resolve();
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const config = this.#config;
    await this.#store.open();
    const existing = await this.#store.read(config.name);
    let record = existing?.record;
    if (record === undefined) {
      record = await this.#store.ensure(config.name, config.partitions, await this.#startPosition());
    }
    if (record.partitions !== config.partitions) {
      throw invalidSubscription(
        config.grouped ? 'group.partitions' : 'group',
        `"${config.name}" exists with ${record.partitions} partition(s), not ${config.partitions}; ` +
          'the count of an existing name cannot change',
      );
    }
    this.#record = record;
    if (this.#state !== 'starting') return;
    this.#state = 'running';
    started.emit({ partitions: record.partitions }, { name: this.name, member: this.member });
    this.#tick = this.#heartbeat();
    await this.#tick;
  }

  async #startPosition(): Promise<number> {
    const from = this.#config.from;
    if (from === 'start') return 0;
    if (typeof from === 'number') return from;
    const page = await this.#events.query({ order: 'desc', limit: 1 });
    return page.events[0]?.position ?? 0;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped';
      this.#resolve();
      return;
    }
    await this.#starting?.catch(() => undefined);
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#state = 'stopping';
    await this.#shutdown();
    this.#state = 'stopped';
    stopped.emit({ handled: this.#handled }, { name: this.name, member: this.member });
    this.#resolve();
  }

  /** Stops the timer, lets every worker finish and store its checkpoint, then leaves the group. */
  async #shutdown(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#tick.catch(() => undefined);
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    await Promise.all([...this.#closing.values()].map((c) => c.catch(() => undefined)));
    await this.#store.leave(this.name, this.member).catch(() => undefined);
  }

  async #fail(error: FoundationError): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    this.#error = error;
    this.#state = 'stopping';
    failed.emit({}, { name: this.name, member: this.member, code: error.code, ...error.context });
    await this.#shutdown();
    this.#state = 'failed';
    this.#reject(error);
  }

  async #lose(partition: number, reason: string): Promise<void> {
    const worker = this.#workers.get(partition);
    if (worker === undefined) return;
    this.#workers.delete(partition);
    lost.emit({ partition }, { name: this.name, member: this.member, reason });
    // Until its handler returns, the partition is not started again here (no two handlers on one key).
    const closing = worker.abandon();
    this.#closing.set(partition, closing);
    try {
      await closing;
    } finally {
      if (this.#closing.get(partition) === closing) this.#closing.delete(partition);
    }
  }

  #schedule(): void {
    if (!this.#isRunning()) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#tick = this.#heartbeat();
    }, this.#config.heartbeatMs);
  }

  /** One round: heartbeat, renew, drop what is lost, release surplus, take free partitions. */
  async #heartbeat(): Promise<void> {
    try {
      await this.#round();
      this.#heartbeatError = undefined;
    } catch (error) {
      this.#heartbeatError = isFoundationError(error)
        ? error
        : new FoundationError('FND_STORAGE_UNAVAILABLE', {
            message: `Heartbeat of "${this.name}" failed`,
            context: { name: this.name, member: this.member },
            cause: error,
          });
      heartbeatFailed.emit(
        {},
        { name: this.name, member: this.member, code: isFoundationError(error) ? error.code : 'error' },
      );
    } finally {
      this.#expireLapsed();
      this.#schedule();
    }
  }

  async #round(): Promise<void> {
    const config = this.#config;
    const record = this.#record as SubscriptionRecord;
    const renewedAt = this.#clock.monotonic();
    const view = await this.#store.heartbeat(config.name, config.member, config.leaseMs);
    if (!this.#isRunning()) return;
    this.#members = view.members.map((m) => m.member);
    const owned = new Map<number, PartitionRow>();
    for (const row of view.partitions) {
      if (row.owner === config.member && row.leaseExpiresAt > view.now) owned.set(row.partition, row);
    }
    for (const [partition, worker] of this.#workers) {
      if (owned.has(partition)) worker.validUntil = renewedAt + config.leaseMs;
      else void this.#lose(partition, 'lease taken or expired');
    }
    const plan = planAssignment(config.member, view, record.partitions);
    for (const partition of plan.release) {
      const worker = this.#workers.get(partition);
      this.#workers.delete(partition);
      await worker?.stop();
      await this.#store.release(config.name, config.member, [partition]);
      owned.delete(partition);
      released.emit({ partition }, { name: this.name, member: this.member, reason: 'rebalance' });
      if (!this.#isRunning()) return;
    }
    let rows: readonly PartitionRow[] = view.partitions;
    let validUntil = renewedAt + config.leaseMs;
    if (plan.acquire.length > 0) {
      const takenAt = this.#clock.monotonic();
      const got = await this.#store.acquire(config.name, config.member, plan.acquire, config.leaseMs);
      if (got.length > 0) {
        // Fresh checkpoints: the previous owner may have stored one since the heartbeat read them.
        rows = (await this.#store.read(config.name))?.partitions ?? rows;
        for (const partition of got) {
          const row = rows[partition];
          if (row !== undefined) owned.set(partition, row);
          acquired.emit({ partition }, { name: this.name, member: this.member });
        }
        validUntil = Math.min(validUntil, takenAt + config.leaseMs);
      }
    }
    if (!this.#isRunning()) return;
    for (const [partition, row] of owned) {
      if (this.#workers.has(partition) || this.#closing.has(partition)) continue;
      this.#workers.set(partition, this.#startWorker(row, record, validUntil));
    }
    heartbeatDone.emit(
      { members: view.members.length, held: this.#workers.size, lag: this.#lag() },
      { name: this.name, member: this.member },
    );
  }

  /** Read through a method: the state changes while a round awaits the store. */
  #isRunning(): boolean {
    return this.#state === 'running';
  }

  #startWorker(row: PartitionRow, record: SubscriptionRecord, validUntil: number): PartitionWorker {
    const from: SubscriptionFrom =
      row.checkpoint ?? (record.startPosition === 0 ? 'start' : record.startPosition);
    return new PartitionWorker(this.#deps, row.partition, from, row.position, validUntil);
  }

  /** Stops handling partitions whose lease could not be renewed in time. */
  #expireLapsed(): void {
    const now = this.#clock.monotonic();
    for (const [partition, worker] of this.#workers) {
      if (now >= worker.validUntil) void this.#lose(partition, 'lease not renewed in time');
    }
  }

  #lag(): number {
    let lag = 0;
    for (const worker of this.#workers.values()) lag = Math.max(lag, worker.status().lag);
    return lag;
  }

  status(): DurableStatus {
    const held = [...this.#workers.values()].map((w) => w.status()).sort((a, b) => a.partition - b.partition);
    return {
      name: this.name,
      member: this.member,
      state: this.#state,
      error: this.#error,
      heartbeatError: this.#heartbeatError,
      partitions: this.#record?.partitions ?? this.#config.partitions,
      held,
      members: this.#members,
      lag: held.reduce((max, p) => Math.max(max, p.lag), 0),
      handled: this.#handled,
      deadLettered: this.#deadLettered,
    };
  }
}
