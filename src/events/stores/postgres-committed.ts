/**
 * Commit-order reads of live subscriptions on PostgreSQL.
 *
 * Positions come from an identity column at insert time, not at commit, so a transaction that commits late
 * can hold lower positions than events already visible. Each row records its writing transaction (`tx xid8`,
 * events migration 3). A read delivers rows by `(tx, position)` and only below the snapshot's xmin — the
 * oldest transaction still running: every transaction with a lower id has ended, so no event can appear
 * later before the read's place, and every later event has `tx ≥ xmin`. Committed rows at or above xmin
 * wait (`held`) until the older transactions end.
 *
 * The order comes from `foundation_event_txs` (events migration 5): one row per INSERT statement, its
 * transaction and its lowest and highest position, written by a statement-level trigger. A read walks those
 * rows by `(tx, lo)` and takes each one's events by position within `lo … hi` (the primary key), keeping the
 * rows of that transaction only: another transaction's positions may interleave. Two statements of one
 * transaction have disjoint ranges in `lo` order (positions only grow), so `(tx, lo, position)` is
 * `(tx, position)`. No index entry per event: a batch of 100 writes one row here instead of 100 entries of a
 * `(tx, position)` index.
 *
 * Page, head, `held` and the last position come from one statement: one snapshot.
 *
 * @module
 */
import type pg from 'pg';
import { compileQuery } from '../model/query-sql.js';
import type { CommittedPage } from '../model/port.js';
import type { StoredEvent } from '../model/types.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';
import { pgRowToEvent, type PgEventRow } from './postgres-rows.js';

/** Most rows one read looks at (matching or not): a selective filter advances by such windows. */
const MIN_SCAN = 1000;
const MAX_SCAN = 10_000;

const CHECKPOINT =
  /^(0|[1-9][0-9]{0,19})\.(0|[1-9][0-9]{0,15})(?:~([0-9]{1,20}:[0-9]{1,20}:[0-9,]{0,100000}))?$/;
const MAX_XID8 = (1n << 64n) - 1n;

/** A parsed checkpoint: after `(tx, position)`, skipping transactions visible in `snapshot` when given. */
export interface TxCheckpoint {
  readonly tx: string;
  readonly position: number;
  /**
   * `pg_snapshot` text of a subscription started at `end`: events of transactions visible in it were
   * committed before the subscription started and are skipped. Dropped once reads pass its xmax.
   */
  readonly snapshot: string | undefined;
}

/** The checkpoint `<tx>.<position>` (with `~<snapshot>` while one applies). */
export function txCheckpoint(tx: string, position: number, snapshot?: string): string {
  return snapshot === undefined ? `${tx}.${position}` : `${tx}.${position}~${snapshot}`;
}

/** A checkpoint of this store, or `undefined` when `checkpoint` is not one. */
export function parseTxCheckpoint(checkpoint: string): TxCheckpoint | undefined {
  if (typeof checkpoint !== 'string') return undefined;
  const match = CHECKPOINT.exec(checkpoint);
  if (match === null) return undefined;
  const tx = match[1] as string;
  const position = Number(match[2]);
  if (BigInt(tx) > MAX_XID8 || !Number.isSafeInteger(position)) return undefined;
  return { tx, position, snapshot: match[3] };
}

/** The xmax of a `pg_snapshot` text (`xmin:xmax:xip,…`). */
function snapshotXmax(snapshot: string): bigint {
  return BigInt(snapshot.split(':')[1] ?? '0');
}

/** `end`: the current snapshot (events of the transactions it sees are not delivered). */
export const RESOLVE_END = 'SELECT pg_current_snapshot()::text AS snapshot';

/** A position: the transaction of the event at that position, or of the closest one before it. */
export const RESOLVE_POSITION =
  'SELECT tx::text AS tx FROM foundation_events WHERE position <= $1 ORDER BY position DESC LIMIT 1';

/** A row of the read: the page's rows (data and metadata only when matching) and, on each, the meta. */
export interface CommittedRow extends Omit<PgEventRow, 'position' | 'data' | 'metadata' | 'id'> {
  readonly held: boolean;
  readonly last: number | string;
  /** NULL on the single row of an empty window; else the statement row's transaction. */
  readonly tx: string | null;
  /** The statement row's highest position (NULL on the row of an empty window). */
  readonly range_hi: number | string | null;
  readonly hit: boolean | null;
  readonly id: string | null;
  /** NULL on a statement row whose events are gone. */
  readonly position: number | string | null;
  readonly data: PgEventRow['data'] | null;
  readonly metadata: PgEventRow['metadata'] | null;
}

/** A compiled read: SQL (`$1` tx, `$2` position, `$3` snapshot or null, then `params`) and the mapping of its rows. */
export interface CommittedStatement {
  readonly text: string;
  readonly params: readonly unknown[];
  page(rows: readonly CommittedRow[], after: string, snapshot: string | undefined): CommittedPage;
}

const COLUMNS =
  'e.position, e.id, e.type, e.stream, e.stream_version, e.time, e.monotonic, e.correlation_id, e.causation_id, e.parent_id, e.node, e.data, e.metadata';

/**
 * The read of up to `limit` matching events (filter compiled as the query DSL's, same semantics).
 *
 * The plan is fixed by the statement's shape: the statement rows in `(tx, lo)` order (an index scan of the
 * primary key, at most the window), each joined to its events by a bounded, ordered range scan of the
 * events' primary key, then an incremental sort that only orders within each statement row and stops at the
 * window. A plain join of the two tables let the planner sort the whole join (150–180 ms a page on 150 000
 * events, against < 1 ms). A statement row whose events are gone (retention) comes out once with NULL event
 * columns, so the read moves past it (`head` at its `hi`) instead of finding it again on every read.
 *
 * Which rows make the page is decided inside `w` (its ORDER BY and LIMIT); the outer join that adds the
 * horizon and last position has no ORDER BY: re-sorting the page's wide rows there cost ≈ 1.5 ms of a 1000-row
 * page. The rows come out in `w`'s order in the plans PostgreSQL makes for it, and {@link commitOrdered} puts
 * them back in order should a plan ever not keep it.
 */
export function readCommittedStatement(filter: SubscriptionFilter, limit: number): CommittedStatement {
  const compiled = compileQuery(filter, 'postgres', { paramOffset: 4 });
  const scan = Math.min(MAX_SCAN, Math.max(MIN_SCAN, limit));
  const text = `
WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
w AS (
  SELECT t.tx, t.lo, t.hi, e.*
  FROM (
    SELECT t.tx, t.lo, t.hi FROM foundation_event_txs t
    WHERE t.tx >= $1::xid8 AND t.tx < (SELECT xmin FROM h) AND (t.tx > $1::xid8 OR t.hi > $2::bigint)
      AND ($3::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(t.tx, $3::pg_snapshot))
    ORDER BY t.tx, t.lo
    LIMIT $4
  ) t
  LEFT JOIN LATERAL (
    SELECT ${COLUMNS}, (${compiled.where}) AS hit
    FROM foundation_events e
    WHERE e.position BETWEEN t.lo AND t.hi AND e.tx = t.tx AND (e.tx > $1::xid8 OR e.position > $2::bigint)
    ORDER BY e.position
    LIMIT $4
  ) e ON true
  ORDER BY t.tx, t.lo, e.position
  LIMIT $4
)
SELECT m.held, m.last, w.tx::text AS tx, w.hi AS range_hi, w.hit, w.position, w.id, w.type, w.stream,
  w.stream_version, w.time, w.monotonic, w.correlation_id, w.causation_id, w.parent_id, w.node,
  CASE WHEN w.hit THEN w.data END AS data, CASE WHEN w.hit THEN w.metadata END AS metadata
FROM (
  -- held: the newest tx (one backward index probe) is not below the horizon. An EXISTS (tx >= xmin) made the
  -- planner scan the whole table when nothing matched: 580 ms a page on 1M events.
  SELECT COALESCE((SELECT f.tx FROM foundation_event_txs f ORDER BY f.tx DESC LIMIT 1) >= (SELECT xmin FROM h), false) AS held,
    COALESCE((SELECT max(position) FROM foundation_events), 0) AS last
) m
LEFT JOIN w ON true`;
  return {
    text,
    params: [scan, ...compiled.params],
    page(rows, after, snapshot) {
      const xmax = snapshot === undefined ? 0n : snapshotXmax(snapshot);
      const first = rows[0];
      const held = first?.held === true;
      const lastPosition = first === undefined ? 0 : Number(first.last);
      const events: StoredEvent[] = [];
      const checkpoints: string[] = [];
      let head = after;
      let scanned = 0;
      let more = false;
      for (const row of commitOrdered(rows)) {
        if (row.tx === null) continue;
        if (events.length >= limit) {
          more = true;
          break;
        }
        scanned++;
        // A statement row whose events are gone: move past its range.
        const position = Number(row.position ?? row.range_hi);
        head = txCheckpoint(row.tx, position, BigInt(row.tx) < xmax ? snapshot : undefined);
        if (row.hit === true) {
          events.push(pgRowToEvent(row as unknown as PgEventRow));
          checkpoints.push(txCheckpoint(row.tx, position));
        }
      }
      if (scanned >= scan) more = true;
      return { events, checkpoints, head, more, held, lastPosition };
    },
  };
}

/** `a` before `b` in commit order: transaction ids (decimal texts, compared by length, then text), then position. */
function commitCompare(a: CommittedRow, b: CommittedRow): number {
  const ta = a.tx ?? '';
  const tb = b.tx ?? '';
  if (ta.length !== tb.length) return ta.length - tb.length;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return Number(a.position ?? a.range_hi) - Number(b.position ?? b.range_hi);
}

/**
 * The read's rows in commit order: `rows` itself when already in order (one pass, the usual case), else a
 * sorted copy. Ordering by position (or by `hi` for an emptied statement row) within a transaction is the
 * `(tx, lo, position)` order: a transaction's statement rows have disjoint ranges.
 */
export function commitOrdered(rows: readonly CommittedRow[]): readonly CommittedRow[] {
  for (let i = 1; i < rows.length; i++) {
    if (commitCompare(rows[i - 1] as CommittedRow, rows[i] as CommittedRow) > 0) {
      return [...rows].sort(commitCompare);
    }
  }
  return rows;
}

/**
 * One batch of commit-order upkeep: deletes up to `$1` rows of `foundation_event_txs` whose events are all
 * gone (retention deleted them or dropped their partition). A row is stale when its whole range lies below
 * the lowest stored position; only rows of transactions older than the one holding that position are looked
 * at (the primary key's prefix), so a tick reads the few rows it may delete, not the table. A stale row that
 * escapes this bound (an older position written by a younger transaction) is only a leftover: a read finds
 * no event in it and goes on. Rows of running transactions are not visible here, so none is deleted early.
 */
export const PRUNE_COMMIT_ORDER = `
WITH low AS MATERIALIZED (
  SELECT e.tx, e.position FROM foundation_events e ORDER BY e.position LIMIT 1
), doomed AS (
  SELECT t.tx, t.lo FROM foundation_event_txs t, low
  WHERE t.tx < low.tx AND t.hi < low.position
  ORDER BY t.tx, t.lo
  LIMIT $1
)
DELETE FROM foundation_event_txs t USING doomed d WHERE t.tx = d.tx AND t.lo = d.lo`;

/**
 * Deletes the stale rows of `foundation_event_txs` ({@link PRUNE_COMMIT_ORDER}) in batches of `batchSize`;
 * returns how many. Called by retention's maintenance, after the previous tick's deletes.
 */
export async function pruneCommitOrder(pool: pg.Pool, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = (await pool.query(PRUNE_COMMIT_ORDER, [batchSize])).rowCount ?? 0;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
