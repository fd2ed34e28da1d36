/**
 * Upkeep of a partitioned `foundation_events` (see `postgres-partitioning.ts`), run by retention on every
 * tick: create the current and next partitions before they are needed, and drop whole partitions whose
 * every event is past the retention limit.
 *
 * Dropping: `DETACH PARTITION` then `DROP TABLE`, never a DELETE of the events. `DETACH … CONCURRENTLY` is
 * not possible here: PostgreSQL refuses it on a table with a DEFAULT partition (kept so an append never
 * fails for lack of a partition). The plain DETACH takes an ACCESS EXCLUSIVE lock on the parent for a
 * catalog change only; it runs with `lock_timeout` so it never queues appends behind it for long (a
 * partition it could not lock is left for the next tick). The detached table is renamed
 * `foundation_events_detached_*` in the same transaction, its ids are removed from `foundation_event_ids` in
 * batches, then it is dropped; a crash in between is finished by the next tick.
 *
 * @module
 */
import type pg from 'pg';
import { withPgClient } from '../../storage/index.js';
import { pgTransaction, sqlState } from './postgres-client.js';
import {
  DEFAULT_PARTITION,
  DETACHED_PREFIX,
  intervalStart,
  listPartitions,
  nextIntervalStart,
  partitionName,
  validatePartitioning,
  type PartitioningOptions,
  type PartitionInfo,
} from './postgres-partitioning.js';

/** Longest wait for a partition DDL's lock, ms: beyond it the work is left for the next tick. */
export const PARTITION_LOCK_TIMEOUT_MS = 2000;

/** SQLSTATE of `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

/** A partition made or dropped. `events`: rows moved in from DEFAULT (made) or whose ids were removed (dropped). */
export interface PartitionWork {
  readonly name: string;
  readonly from: number;
  readonly to: number;
  readonly events: number;
}

function overlaps(p: PartitionInfo, from: number, to: number): boolean {
  if (p.isDefault) return false;
  return (p.from === null || p.from < to) && (p.to === null || p.to > from);
}

/**
 * Creates the partitions of the interval holding `now` and the `premake` next ones when missing (an interval
 * overlapping an existing partition is skipped). Rows the DEFAULT partition already holds for a new range are
 * moved into it in the same transaction (detach DEFAULT, create, move, re-attach).
 */
export async function premakePartitions(
  pool: pg.Pool,
  options: PartitioningOptions,
  now: number,
): Promise<PartitionWork[]> {
  const { interval, premake } = validatePartitioning(options);
  const existing = await listPartitions(pool);
  const made: PartitionWork[] = [];
  let from = intervalStart(interval, now);
  for (let i = 0; i <= premake; i++, from = nextIntervalStart(interval, from)) {
    const to = nextIntervalStart(interval, from);
    if (existing.some((p) => overlaps(p, from, to))) continue;
    const name = partitionName(from);
    const moved = await createPartition(
      pool,
      name,
      from,
      to,
      existing.some((p) => p.isDefault),
    );
    if (moved !== undefined) made.push({ name, from, to, events: moved });
  }
  return made;
}

async function createPartition(
  pool: pg.Pool,
  name: string,
  from: number,
  to: number,
  hasDefault: boolean,
): Promise<number | undefined> {
  try {
    return await pgTransaction(pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
      const strays = hasDefault
        ? (
            await client.query<{ n: string }>(
              `SELECT count(*) AS n FROM ${DEFAULT_PARTITION} WHERE time >= $1 AND time < $2`,
              [from, to],
            )
          ).rows[0]?.n
        : '0';
      if (strays === '0' || strays === undefined) {
        await client.query(
          `CREATE TABLE ${name} PARTITION OF foundation_events FOR VALUES FROM (${from}) TO (${to})`,
        );
        return { value: 0, commit: true };
      }
      // Rows already in DEFAULT for this range: move them (direct partition DML fires no id-guard trigger).
      await client.query(`ALTER TABLE foundation_events DETACH PARTITION ${DEFAULT_PARTITION}`);
      await client.query(
        `CREATE TABLE ${name} PARTITION OF foundation_events FOR VALUES FROM (${from}) TO (${to})`,
      );
      const moved = await client.query(
        `WITH gone AS (DELETE FROM ${DEFAULT_PARTITION} WHERE time >= $1 AND time < $2 RETURNING *)
         INSERT INTO ${name} SELECT * FROM gone`,
        [from, to],
      );
      await client.query(`ALTER TABLE foundation_events ATTACH PARTITION ${DEFAULT_PARTITION} DEFAULT`);
      return { value: moved.rowCount ?? 0, commit: true };
    });
  } catch (error) {
    if (sqlState(error) === LOCK_NOT_AVAILABLE) return undefined;
    throw error;
  }
}

/**
 * Detaches and drops every partition (not DEFAULT) whose upper bound is ≤ `before` (all its events are
 * older), and finishes partitions a previous tick detached. Ids go from `foundation_event_ids` in batches
 * of `batchSize`.
 */
export async function dropPartitionsBefore(
  pool: pg.Pool,
  before: number,
  batchSize: number,
): Promise<PartitionWork[]> {
  const doomed = (await listPartitions(pool)).filter((p) => !p.isDefault && p.to !== null && p.to <= before);
  const dropped: PartitionWork[] = [];
  for (const p of doomed) {
    const detached = await detach(pool, p.name);
    if (detached) dropped.push({ name: p.name, from: p.from ?? 0, to: p.to ?? 0, events: 0 });
  }
  const leftovers = (
    await pool.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace
       AND relkind = 'r' AND starts_with(relname, $1) ORDER BY relname`,
      [DETACHED_PREFIX],
    )
  ).rows;
  const out: PartitionWork[] = [];
  for (const { name } of leftovers) {
    const events = await forgetIds(pool, name, batchSize);
    await pool.query(`DROP TABLE IF EXISTS ${name}`);
    const original = `foundation_events_${name.slice(DETACHED_PREFIX.length)}`;
    const known = dropped.find((d) => d.name === original);
    out.push({ name: original, from: known?.from ?? 0, to: known?.to ?? 0, events });
  }
  return out;
}

async function detach(pool: pg.Pool, name: string): Promise<boolean> {
  try {
    await pgTransaction(pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${PARTITION_LOCK_TIMEOUT_MS}`);
      await client.query(`ALTER TABLE foundation_events DETACH PARTITION ${name}`);
      await client.query(
        `ALTER TABLE ${name} RENAME TO ${DETACHED_PREFIX}${name.slice('foundation_events_'.length)}`,
      );
      return { value: undefined, commit: true };
    });
    return true;
  } catch (error) {
    if (sqlState(error) === LOCK_NOT_AVAILABLE) return false;
    throw error;
  }
}

/** Removes the ids of a detached partition from `foundation_event_ids`, `batchSize` at a time; resolves the count. */
async function forgetIds(pool: pg.Pool, table: string, batchSize: number): Promise<number> {
  let total = 0;
  for (let after = '-9223372036854775808'; ;) {
    const row = await withPgClient(pool, async (client) => {
      const result = await client.query<{ last: string | null; n: string }>(
        `WITH batch AS (SELECT id, position FROM ${table} WHERE position > $1 ORDER BY position LIMIT $2),
              gone AS (DELETE FROM foundation_event_ids i USING batch b WHERE i.id = b.id)
         SELECT max(position)::text AS last, count(*) AS n FROM batch`,
        [after, batchSize],
      );
      return result.rows[0];
    });
    const n = Number(row?.n ?? 0);
    total += n;
    if (n < batchSize || row?.last === null || row?.last === undefined) return total;
    after = row.last;
  }
}
