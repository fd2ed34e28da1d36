/**
 * Durable subscription state in PostgreSQL (the storage's schema). Leases and heartbeats use the database
 * server's clock, so members on different machines compare expiries with one clock; every lease change and
 * checkpoint write is one atomic statement (or one transaction), so members coordinate only through rows.
 *
 * @module
 */
import { PostgresCapability } from '../../../storage/index.js';
import type pg from 'pg';
import type { Storage } from '../../../storage/index.js';
import { classifyPgError } from '../../../storage/index.js';
import { pgRows, pgTransaction, statementConfig, type PgStatement } from '../../stores/postgres-client.js';
import type { CheckpointStore, GroupView, PartitionRow, SubscriptionRecord } from './checkpoint-store.js';
import { SUBSCRIPTIONS_MIGRATIONS } from './migrations.js';
import { checkpointConflict, MEMBER_FORGET_FACTOR } from './store-common.js';

/** The server's time in ms since the epoch. */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

const NOW: PgStatement = { name: 'fnd_events_sub_now', text: `SELECT ${NOW_MS} AS now` };
const INSERT_RECORD: PgStatement = {
  name: 'fnd_events_sub_insert_record',
  text: `INSERT INTO foundation_subscriptions (name, partitions, start_position, created_at)
VALUES ($1, $2, $3, ${NOW_MS}) ON CONFLICT (name) DO NOTHING`,
};
const INSERT_PARTITIONS: PgStatement = {
  name: 'fnd_events_sub_insert_partitions',
  text: `INSERT INTO foundation_subscription_checkpoints (name, partition_id, updated_at)
SELECT $1, p, ${NOW_MS} FROM generate_series(0, $2::int - 1) AS p ON CONFLICT (name, partition_id) DO NOTHING`,
};
const RECORD: PgStatement = {
  name: 'fnd_events_sub_record',
  text: 'SELECT name, partitions, start_position, created_at FROM foundation_subscriptions WHERE name = $1',
};
const PARTITIONS: PgStatement = {
  name: 'fnd_events_sub_partitions',
  text: `SELECT partition_id, checkpoint, position, owner, lease_expires_at, updated_at
FROM foundation_subscription_checkpoints WHERE name = $1 ORDER BY partition_id`,
};
const UPSERT_MEMBER: PgStatement = {
  name: 'fnd_events_sub_upsert_member',
  text: `INSERT INTO foundation_subscription_members (name, member, heartbeat_at, expires_at)
VALUES ($1, $2, $3::bigint, $3::bigint + $4::bigint) ON CONFLICT (name, member) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
expires_at = excluded.expires_at`,
};
const FORGET_MEMBERS: PgStatement = {
  name: 'fnd_events_sub_forget_members',
  text: 'DELETE FROM foundation_subscription_members WHERE name = $1 AND expires_at < $2',
};
const RENEW: PgStatement = {
  name: 'fnd_events_sub_renew',
  text: `UPDATE foundation_subscription_checkpoints SET lease_expires_at = $3 WHERE name = $1 AND owner = $2`,
};
const MEMBERS: PgStatement = {
  name: 'fnd_events_sub_members',
  text: `SELECT member, heartbeat_at, expires_at FROM foundation_subscription_members
WHERE name = $1 AND expires_at > $2 ORDER BY member COLLATE "C"`,
};
const ACQUIRE: PgStatement = {
  name: 'fnd_events_sub_acquire',
  text: `UPDATE foundation_subscription_checkpoints
SET owner = $2, lease_expires_at = ${NOW_MS} + $4::bigint, updated_at = ${NOW_MS}
WHERE name = $1 AND partition_id = ANY($3::int[])
  AND (owner IS NULL OR owner = $2 OR lease_expires_at <= ${NOW_MS})
RETURNING partition_id`,
};
const RELEASE: PgStatement = {
  name: 'fnd_events_sub_release',
  text: `UPDATE foundation_subscription_checkpoints SET owner = NULL, lease_expires_at = 0, updated_at = ${NOW_MS}
WHERE name = $1 AND owner = $2 AND partition_id = ANY($3::int[])`,
};
const RELEASE_ALL: PgStatement = {
  name: 'fnd_events_sub_release_all',
  text: `UPDATE foundation_subscription_checkpoints SET owner = NULL, lease_expires_at = 0, updated_at = ${NOW_MS}
WHERE name = $1 AND owner = $2`,
};
const DELETE_MEMBER: PgStatement = {
  name: 'fnd_events_sub_delete_member',
  text: 'DELETE FROM foundation_subscription_members WHERE name = $1 AND member = $2',
};
const COMMIT: PgStatement = {
  name: 'fnd_events_sub_commit',
  text: `UPDATE foundation_subscription_checkpoints SET checkpoint = $4, position = $5, updated_at = ${NOW_MS}
WHERE name = $1 AND partition_id = $2 AND owner = $3 AND lease_expires_at > ${NOW_MS}
RETURNING partition_id`,
};
const OWNER: PgStatement = {
  name: 'fnd_events_sub_owner',
  text: 'SELECT owner FROM foundation_subscription_checkpoints WHERE name = $1 AND partition_id = $2',
};

interface RecordRow {
  name: string;
  partitions: number;
  start_position: string;
  created_at: string;
}
interface CheckpointRow {
  partition_id: number;
  checkpoint: string | null;
  position: string;
  owner: string | null;
  lease_expires_at: string;
  updated_at: string;
}
interface MemberDbRow {
  member: string;
  heartbeat_at: string;
  expires_at: string;
}

/**
 * A {@link CheckpointStore} on PostgreSQL. The storage must be open; migrations run at `open()` or first use.
 * Failures are `FND_STORAGE_UNAVAILABLE` (server unreachable) or `FND_STORAGE_QUERY_FAILED`.
 */
export class PostgresCheckpointStore implements CheckpointStore {
  readonly kind = 'postgres';
  readonly #access: PostgresCapability;

  /** @param storage - an opened PostgreSQL storage. */
  constructor(storage: Storage) {
    this.#access = new PostgresCapability(
      storage,
      'subscriptions',
      SUBSCRIPTIONS_MIGRATIONS,
      'PostgreSQL checkpoint store',
    );
  }

  async open(): Promise<void> {
    await this.#access.ready();
  }

  async ensure(name: string, partitions: number, startPosition: number): Promise<SubscriptionRecord> {
    const pool = await this.#access.ready();
    return this.#transaction(pool, async (client) => {
      await client.query(statementConfig(INSERT_RECORD, [name, partitions, startPosition]));
      const row = (await client.query<RecordRow>(statementConfig(RECORD, [name]))).rows[0] as RecordRow;
      const record = toRecord(row);
      await client.query(statementConfig(INSERT_PARTITIONS, [name, record.partitions]));
      return record;
    });
  }

  async read(name: string): Promise<{ record: SubscriptionRecord; partitions: PartitionRow[] } | undefined> {
    const pool = await this.#access.ready();
    const row = (await pgRows<RecordRow>(pool, RECORD, [name]))[0];
    if (row === undefined) return undefined;
    const partitions = await pgRows<CheckpointRow>(pool, PARTITIONS, [name]);
    return { record: toRecord(row), partitions: partitions.map(toPartition) };
  }

  async heartbeat(name: string, member: string, leaseMs: number): Promise<GroupView> {
    const pool = await this.#access.ready();
    return this.#transaction(pool, async (client) => {
      const q = async <R extends pg.QueryResultRow>(s: PgStatement, values: unknown[]): Promise<R[]> =>
        (await client.query<R>(statementConfig(s, values))).rows;
      const now = Number((await q<{ now: string }>(NOW, []))[0]?.now);
      await q(UPSERT_MEMBER, [name, member, now, leaseMs]);
      await q(FORGET_MEMBERS, [name, now - MEMBER_FORGET_FACTOR * leaseMs]);
      await q(RENEW, [name, member, now + leaseMs]);
      const members = await q<MemberDbRow>(MEMBERS, [name, now]);
      const partitions = await q<CheckpointRow>(PARTITIONS, [name]);
      return {
        now,
        members: members.map((m) => ({
          member: m.member,
          heartbeatAt: Number(m.heartbeat_at),
          expiresAt: Number(m.expires_at),
        })),
        partitions: partitions.map(toPartition),
      };
    });
  }

  async acquire(
    name: string,
    member: string,
    partitions: readonly number[],
    leaseMs: number,
  ): Promise<number[]> {
    const pool = await this.#access.ready();
    const rows = await pgRows<{ partition_id: number }>(pool, ACQUIRE, [
      name,
      member,
      [...partitions],
      leaseMs,
    ]);
    return rows.map((r) => r.partition_id).sort((a, b) => a - b);
  }

  async release(name: string, member: string, partitions: readonly number[]): Promise<void> {
    const pool = await this.#access.ready();
    await pgRows(pool, RELEASE, [name, member, [...partitions]]);
  }

  async leave(name: string, member: string): Promise<void> {
    const pool = await this.#access.ready();
    await this.#transaction(pool, async (client) => {
      await client.query(statementConfig(RELEASE_ALL, [name, member]));
      await client.query(statementConfig(DELETE_MEMBER, [name, member]));
      return undefined;
    });
  }

  async commit(
    name: string,
    partition: number,
    member: string,
    checkpoint: string,
    position: number,
  ): Promise<void> {
    const pool = await this.#access.ready();
    const rows = await pgRows(pool, COMMIT, [name, partition, member, checkpoint, position]);
    if (rows.length === 1) return;
    const owner = (await pgRows<{ owner: string | null }>(pool, OWNER, [name, partition]))[0]?.owner ?? null;
    throw checkpointConflict(name, partition, member, owner);
  }

  async #transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await pgTransaction(pool, async (client) => ({ value: await body(client), commit: true }));
    } catch (error) {
      throw classifyPgError(error);
    }
  }
}

function toRecord(row: RecordRow): SubscriptionRecord {
  return {
    name: row.name,
    partitions: row.partitions,
    startPosition: Number(row.start_position),
    createdAt: Number(row.created_at),
  };
}

function toPartition(row: CheckpointRow): PartitionRow {
  return {
    partition: row.partition_id,
    checkpoint: row.checkpoint,
    position: Number(row.position),
    owner: row.owner,
    leaseExpiresAt: Number(row.lease_expires_at),
    updatedAt: Number(row.updated_at),
  };
}
