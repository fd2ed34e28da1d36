/**
 * Durable subscription state in memory: for tests and for foundations without persistence. Handles that
 * should coordinate (members of one group in one process) must share one instance.
 *
 * @module
 */
import { systemClock, type Clock } from '../../../kernel/clock.js';
import type {
  CheckpointStore,
  GroupView,
  MemberRow,
  PartitionRow,
  SubscriptionRecord,
} from './checkpoint-store.js';
import { checkpointConflict, MEMBER_FORGET_FACTOR } from './store-common.js';

interface Entry {
  readonly record: SubscriptionRecord;
  readonly partitions: PartitionRow[];
  readonly members: Map<string, MemberRow>;
}

/** Options of {@link MemoryCheckpointStore}. */
export interface MemoryCheckpointStoreOptions {
  /** Time source for leases and heartbeats (default: the system clock). */
  readonly clock?: Clock;
}

/** A {@link CheckpointStore} in process memory; nothing survives the process. */
export class MemoryCheckpointStore implements CheckpointStore {
  /** Always `memory`. */
  readonly kind = 'memory';
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  /** Creates an empty store. */
  constructor(options: MemoryCheckpointStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** Nothing to migrate. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** Creates the subscription and its partition rows if the name is new; returns the stored record. */
  ensure(name: string, partitions: number, startPosition: number): Promise<SubscriptionRecord> {
    const now = this.#clock.now();
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = {
        record: Object.freeze({ name, partitions, startPosition, createdAt: now }),
        partitions: Array.from({ length: partitions }, (_, partition) => ({
          partition,
          checkpoint: null,
          position: 0,
          owner: null,
          leaseExpiresAt: 0,
          updatedAt: now,
        })),
        members: new Map(),
      };
      this.#entries.set(name, entry);
    }
    return Promise.resolve(entry.record);
  }

  /** The record and partition rows of a name, or `undefined` when it was never created. */
  read(name: string): Promise<{ record: SubscriptionRecord; partitions: PartitionRow[] } | undefined> {
    const entry = this.#entries.get(name);
    return Promise.resolve(
      entry === undefined ? undefined : { record: entry.record, partitions: [...entry.partitions] },
    );
  }

  /** Records that `member` is alive, renews its leases, and returns the group view. */
  heartbeat(name: string, member: string, leaseMs: number): Promise<GroupView> {
    const entry = this.#entry(name);
    const now = this.#clock.now();
    entry.members.set(member, { member, heartbeatAt: now, expiresAt: now + leaseMs });
    for (const [id, row] of entry.members) {
      if (row.expiresAt + MEMBER_FORGET_FACTOR * leaseMs < now) entry.members.delete(id);
    }
    entry.partitions.forEach((row, i) => {
      if (row.owner === member) entry.partitions[i] = { ...row, leaseExpiresAt: now + leaseMs };
    });
    const members = [...entry.members.values()]
      .filter((m) => m.expiresAt > now)
      .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    return Promise.resolve({ now, members, partitions: [...entry.partitions] });
  }

  /** Takes the free, expired or own leases among `partitions`; returns the partitions now held. */
  acquire(name: string, member: string, partitions: readonly number[], leaseMs: number): Promise<number[]> {
    const entry = this.#entry(name);
    const now = this.#clock.now();
    const held: number[] = [];
    for (const partition of new Set(partitions)) {
      const row = entry.partitions[partition];
      if (row === undefined) continue;
      if (row.owner === null || row.owner === member || row.leaseExpiresAt <= now) {
        entry.partitions[partition] = {
          ...row,
          owner: member,
          leaseExpiresAt: now + leaseMs,
          updatedAt: now,
        };
        held.push(partition);
      }
    }
    return Promise.resolve(held.sort((a, b) => a - b));
  }

  /** Gives up the leases of `member` on `partitions`. */
  release(name: string, member: string, partitions: readonly number[]): Promise<void> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.resolve();
    const now = this.#clock.now();
    for (const partition of partitions) {
      const row = entry.partitions[partition];
      if (row?.owner === member) {
        entry.partitions[partition] = { ...row, owner: null, leaseExpiresAt: 0, updatedAt: now };
      }
    }
    return Promise.resolve();
  }

  /** Releases every lease of `member` and deletes its heartbeat row. */
  leave(name: string, member: string): Promise<void> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.resolve();
    entry.members.delete(member);
    return this.release(
      name,
      member,
      entry.partitions.map((row) => row.partition),
    );
  }

  /** Stores a partition checkpoint while `member` holds an unexpired lease on it. */
  commit(
    name: string,
    partition: number,
    member: string,
    checkpoint: string,
    position: number,
  ): Promise<void> {
    const entry = this.#entries.get(name);
    const row = entry?.partitions[partition];
    const now = this.#clock.now();
    if (entry === undefined || row === undefined || row.owner !== member || row.leaseExpiresAt <= now) {
      return Promise.reject(checkpointConflict(name, partition, member, row?.owner ?? null));
    }
    entry.partitions[partition] = { ...row, checkpoint, position, updatedAt: now };
    return Promise.resolve();
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw checkpointConflict(name, -1, '', null);
    return entry;
  }
}
