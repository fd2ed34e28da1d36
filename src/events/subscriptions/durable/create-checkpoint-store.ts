/**
 * Picks the checkpoint store of durable subscriptions for a storage: memory, SQLite, or PostgreSQL (its
 * module, and `pg`, loaded on first use).
 *
 * @module
 */
import type { Clock } from '../../../kernel/clock.js';
import type { Storage } from '../../../storage/index.js';
import type { CheckpointStore, GroupView, PartitionRow, SubscriptionRecord } from './checkpoint-store.js';
import { MemoryCheckpointStore } from './memory-checkpoint-store.js';
import { SqliteCheckpointStore } from './sqlite-checkpoint-store.js';

/** Options of {@link createCheckpointStore}. */
export interface CheckpointStoreOptions {
  /** Time source of leases on memory and SQLite (PostgreSQL uses the server's clock). Default: system. */
  readonly clock?: Clock;
}

/**
 * The checkpoint store for `storage`'s kind: `memory` → {@link MemoryCheckpointStore} (a new, empty one: share
 * the instance between handles that should coordinate), `sqlite` → {@link SqliteCheckpointStore}, `postgres`
 * → `PostgresCheckpointStore`. The storage must be open before the first call.
 *
 * @example
 * ```ts
 * const checkpoints = createCheckpointStore(storage);
 * const sub = durableSubscription(events, checkpoints, { name: 'mailer', filter: {}, handler });
 * ```
 */
export function createCheckpointStore(
  storage: Storage,
  options: CheckpointStoreOptions = {},
): CheckpointStore {
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  switch (storage.kind) {
    case 'memory':
      return new MemoryCheckpointStore(clock);
    case 'sqlite':
      return new SqliteCheckpointStore(storage, clock);
    case 'postgres':
      return new LazyCheckpointStore('postgres', async () => {
        const { PostgresCheckpointStore } = await import('./postgres-checkpoint-store.js');
        return new PostgresCheckpointStore(storage);
      });
  }
}

/** Imports the adapter's module on first use. */
class LazyCheckpointStore implements CheckpointStore {
  readonly kind: string;
  readonly #load: () => Promise<CheckpointStore>;
  #store: Promise<CheckpointStore> | undefined;

  constructor(kind: string, load: () => Promise<CheckpointStore>) {
    this.kind = kind;
    this.#load = load;
  }

  async open(): Promise<void> {
    await (await this.#target()).open();
  }
  async ensure(name: string, partitions: number, startPosition: number): Promise<SubscriptionRecord> {
    return (await this.#target()).ensure(name, partitions, startPosition);
  }
  async read(name: string): Promise<{ record: SubscriptionRecord; partitions: PartitionRow[] } | undefined> {
    return (await this.#target()).read(name);
  }
  async heartbeat(name: string, member: string, leaseMs: number): Promise<GroupView> {
    return (await this.#target()).heartbeat(name, member, leaseMs);
  }
  async acquire(
    name: string,
    member: string,
    partitions: readonly number[],
    leaseMs: number,
  ): Promise<number[]> {
    return (await this.#target()).acquire(name, member, partitions, leaseMs);
  }
  async release(name: string, member: string, partitions: readonly number[]): Promise<void> {
    await (await this.#target()).release(name, member, partitions);
  }
  async leave(name: string, member: string): Promise<void> {
    await (await this.#target()).leave(name, member);
  }
  async commit(
    name: string,
    partition: number,
    member: string,
    checkpoint: string,
    position: number,
  ): Promise<void> {
    await (await this.#target()).commit(name, partition, member, checkpoint, position);
  }

  #target(): Promise<CheckpointStore> {
    this.#store ??= this.#load().catch((error: unknown) => {
      this.#store = undefined;
      throw error;
    });
    return this.#store;
  }
}
