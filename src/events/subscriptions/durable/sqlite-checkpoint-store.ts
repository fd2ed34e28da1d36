/**
 * Durable subscription state in SQLite (the storage's connection). Each operation is one transaction;
 * SQLite serializes writers, so members in several processes on one file coordinate safely.
 *
 * @module
 */
import { SqliteCapability } from '../../../storage/index.js';
import type BetterSqlite3 from 'better-sqlite3';
import { systemClock, type Clock } from '../../../kernel/clock.js';
import type { Storage } from '../../../storage/index.js';
import { classifySqliteError } from '../../stores/sqlite-rows.js';
import type { CheckpointStore, GroupView, PartitionRow, SubscriptionRecord } from './checkpoint-store.js';
import { SUBSCRIPTIONS_MIGRATIONS } from './migrations.js';
import { checkpointConflict, MEMBER_FORGET_FACTOR } from './store-common.js';

interface RecordRow {
  name: string;
  partitions: number;
  start_position: number;
  created_at: number;
}
interface CheckpointRow {
  partition_id: number;
  checkpoint: string | null;
  position: number;
  owner: string | null;
  lease_expires_at: number;
  updated_at: number;
}
interface MemberDbRow {
  member: string;
  heartbeat_at: number;
  expires_at: number;
}

const SQL = {
  insertRecord: `INSERT INTO foundation_subscriptions (name, partitions, start_position, created_at)
VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
  insertPartition: `INSERT INTO foundation_subscription_checkpoints (name, partition_id, updated_at)
VALUES (?, ?, ?) ON CONFLICT (name, partition_id) DO NOTHING`,
  record: 'SELECT name, partitions, start_position, created_at FROM foundation_subscriptions WHERE name = ?',
  partitions: `SELECT partition_id, checkpoint, position, owner, lease_expires_at, updated_at
FROM foundation_subscription_checkpoints WHERE name = ? ORDER BY partition_id`,
  upsertMember: `INSERT INTO foundation_subscription_members (name, member, heartbeat_at, expires_at)
VALUES (?, ?, ?, ?) ON CONFLICT (name, member) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
expires_at = excluded.expires_at`,
  forgetMembers: 'DELETE FROM foundation_subscription_members WHERE name = ? AND expires_at < ?',
  renew: `UPDATE foundation_subscription_checkpoints SET lease_expires_at = ? WHERE name = ? AND owner = ?`,
  members: `SELECT member, heartbeat_at, expires_at FROM foundation_subscription_members
WHERE name = ? AND expires_at > ? ORDER BY member`,
  acquire: `UPDATE foundation_subscription_checkpoints SET owner = ?, lease_expires_at = ?, updated_at = ?
WHERE name = ? AND partition_id = ? AND (owner IS NULL OR owner = ? OR lease_expires_at <= ?)`,
  release: `UPDATE foundation_subscription_checkpoints SET owner = NULL, lease_expires_at = 0, updated_at = ?
WHERE name = ? AND partition_id = ? AND owner = ?`,
  releaseAll: `UPDATE foundation_subscription_checkpoints SET owner = NULL, lease_expires_at = 0, updated_at = ?
WHERE name = ? AND owner = ?`,
  deleteMember: 'DELETE FROM foundation_subscription_members WHERE name = ? AND member = ?',
  commit: `UPDATE foundation_subscription_checkpoints SET checkpoint = ?, position = ?, updated_at = ?
WHERE name = ? AND partition_id = ? AND owner = ? AND lease_expires_at > ?`,
  owner: 'SELECT owner FROM foundation_subscription_checkpoints WHERE name = ? AND partition_id = ?',
} as const;

type Statements = { readonly db: BetterSqlite3.Database } & {
  readonly [K in keyof typeof SQL]: BetterSqlite3.Statement;
};

/** Options of {@link SqliteCheckpointStore}. */
export interface SqliteCheckpointStoreOptions {
  /** Time source for leases and heartbeats (default: the system clock). */
  readonly clock?: Clock;
}

/** A {@link CheckpointStore} on SQLite. The storage must be open; migrations run at `open()` or first use. */
export class SqliteCheckpointStore implements CheckpointStore {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  readonly #clock: Clock;
  readonly #access: SqliteCapability<Statements>;

  /** @param storage - an opened SQLite storage. */
  constructor(storage: Storage, options: SqliteCheckpointStoreOptions = {}) {
    this.#access = new SqliteCapability(
      storage,
      'subscriptions',
      SUBSCRIPTIONS_MIGRATIONS,
      'SQLite checkpoint store',
      (db) =>
        ({
          db,
          ...Object.fromEntries(Object.entries(SQL).map(([key, sql]) => [key, db.prepare(sql)] as const)),
        }) as Statements,
    );
    this.#clock = options.clock ?? systemClock;
  }

  /** Runs the `subscriptions` migrations (idempotent). */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** Creates the subscription and its partition rows if the name is new; returns the stored record. */
  async ensure(name: string, partitions: number, startPosition: number): Promise<SubscriptionRecord> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    return this.#run(s, () => {
      s.insertRecord.run(name, partitions, startPosition, now);
      const record = toRecord(s.record.get(name) as RecordRow);
      for (let p = 0; p < record.partitions; p++) s.insertPartition.run(name, p, now);
      return record;
    });
  }

  /** The record and partition rows of a name, or `undefined` when it was never created. */
  async read(name: string): Promise<{ record: SubscriptionRecord; partitions: PartitionRow[] } | undefined> {
    const s = await this.#access.ready();
    return this.#run(s, () => {
      const row = s.record.get(name) as RecordRow | undefined;
      if (row === undefined) return undefined;
      return {
        record: toRecord(row),
        partitions: (s.partitions.all(name) as CheckpointRow[]).map(toPartition),
      };
    });
  }

  /** Records that `member` is alive, renews its leases, and returns the group view. */
  async heartbeat(name: string, member: string, leaseMs: number): Promise<GroupView> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    return this.#run(s, () => {
      s.upsertMember.run(name, member, now, now + leaseMs);
      s.forgetMembers.run(name, now - MEMBER_FORGET_FACTOR * leaseMs);
      s.renew.run(now + leaseMs, name, member);
      return {
        now,
        members: (s.members.all(name, now) as MemberDbRow[]).map((m) => ({
          member: m.member,
          heartbeatAt: m.heartbeat_at,
          expiresAt: m.expires_at,
        })),
        partitions: (s.partitions.all(name) as CheckpointRow[]).map(toPartition),
      };
    });
  }

  /** Takes the free, expired or own leases among `partitions`; returns the partitions now held. */
  async acquire(
    name: string,
    member: string,
    partitions: readonly number[],
    leaseMs: number,
  ): Promise<number[]> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    return this.#run(s, () => {
      const held: number[] = [];
      for (const p of new Set(partitions)) {
        if (s.acquire.run(member, now + leaseMs, now, name, p, member, now).changes === 1) held.push(p);
      }
      return held.sort((a, b) => a - b);
    });
  }

  /** Gives up the leases of `member` on `partitions`. */
  async release(name: string, member: string, partitions: readonly number[]): Promise<void> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    this.#run(s, () => {
      for (const p of partitions) s.release.run(now, name, p, member);
    });
  }

  /** Releases every lease of `member` and deletes its heartbeat row. */
  async leave(name: string, member: string): Promise<void> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    this.#run(s, () => {
      s.releaseAll.run(now, name, member);
      s.deleteMember.run(name, member);
    });
  }

  /** Stores a partition checkpoint while `member` holds an unexpired lease on it. */
  async commit(
    name: string,
    partition: number,
    member: string,
    checkpoint: string,
    position: number,
  ): Promise<void> {
    const s = await this.#access.ready();
    const now = this.#clock.now();
    const owner = this.#run(s, () => {
      if (s.commit.run(checkpoint, position, now, name, partition, member, now).changes === 1) return true;
      return (s.owner.get(name, partition) as { owner: string | null } | undefined)?.owner ?? null;
    });
    if (owner !== true) throw checkpointConflict(name, partition, member, owner);
  }

  #run<T>(s: Statements, fn: () => T): T {
    try {
      return s.db.transaction(fn).immediate();
    } catch (error) {
      throw classifySqliteError(error);
    }
  }
}

function toRecord(row: RecordRow): SubscriptionRecord {
  return {
    name: row.name,
    partitions: row.partitions,
    startPosition: row.start_position,
    createdAt: row.created_at,
  };
}

function toPartition(row: CheckpointRow): PartitionRow {
  return {
    partition: row.partition_id,
    checkpoint: row.checkpoint,
    position: row.position,
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at,
    updatedAt: row.updated_at,
  };
}
