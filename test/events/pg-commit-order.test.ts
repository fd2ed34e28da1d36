/**
 * Commit order on PostgreSQL without a `(tx, position)` index (events migration 5): every INSERT statement
 * into `foundation_events` leaves one row in `foundation_event_txs` (its transaction and position range),
 * written by a statement-level trigger, and commit-order reads walk those rows.
 *
 * - A writer that knows nothing of the table (an older release during a rolling deploy, a raw client) still
 *   gets its rows: two statements of one transaction, two rows, and its events are read in commit order.
 * - Migration 5 on a database that already holds events (written under migrations 1–4, transactions
 *   interleaved) backfills one row per transaction, drops the index, and reads keep commit order.
 * - A range whose events retention deleted is passed over by reads, and retention's upkeep deletes its row;
 *   the row of a transaction still running is never deleted, and its event is read once it commits.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedEvent } from '../../src/events/model/port.js';
import { PostgresRetentionTarget } from '../../src/events/retention/postgres-retention.js';
import { EVENTS_MIGRATIONS } from '../../src/events/stores/migrations.js';
import type { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, schemaClient, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

const T = 60_000;

/** A plain INSERT of one event of `type`, the way migrations 1–4 knew the table; returns its position. */
async function rawInsert(client: pg.Client, type: string): Promise<number> {
  const result = await client.query<{ position: string }>(
    `INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic, data, metadata, node)
     VALUES ($1, $2, NULL, NULL, $3, 0, '{}', '{}', 'raw') RETURNING position`,
    [randomUUID(), type, Date.now()],
  );
  return Number(result.rows[0]?.position);
}

/** The statement rows, in order. */
async function statementRows(client: pg.Client): Promise<{ tx: string; lo: number; hi: number }[]> {
  const result = await client.query<{ tx: string; lo: string; hi: string }>(
    'SELECT tx::text AS tx, lo, hi FROM foundation_event_txs ORDER BY tx, lo',
  );
  return result.rows.map((r) => ({ tx: r.tx, lo: Number(r.lo), hi: Number(r.hi) }));
}

/** Every event from the start in commit order, as (type, position) pairs, reading pages of `limit` (≤ 100 pages). */
async function readAllCommitted(store: PostgresEventStore, limit = 1000): Promise<[string, number][]> {
  const out: [string, number][] = [];
  let after = await store.resolveFrom('start');
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.readCommitted({}, after, limit);
    for (const e of page.events) out.push([e.type, e.position]);
    after = page.head;
    if (!page.more) return out;
  }
  throw new Error(`still more after 100 pages: ${JSON.stringify(out.slice(0, 20))}`);
}

describePg('PostgreSQL commit order by statement rows', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema();
  });

  afterAll(async () => {
    await schema.drop();
  });

  it(
    'records the statements of a writer that knows nothing of them, and reads them in commit order',
    { timeout: T },
    async () => {
      const opened = await openPgStore(schema.url);
      const client = await schemaClient(schema.schema);
      try {
        await client.query('BEGIN');
        const first = await rawInsert(client, 'old.first');
        const second = await rawInsert(client, 'old.second');
        const tx = (await client.query<{ tx: string }>('SELECT pg_current_xact_id()::text AS tx')).rows[0]
          ?.tx;
        await client.query('COMMIT');
        const rows = await statementRows(client);
        expect(rows).toEqual([
          { tx, lo: first, hi: first },
          { tx, lo: second, hi: second },
        ]);
        const appended = storedEvents(
          (
            await opened.store.append([appendRequest([preparedEvent('s-new', 1), preparedEvent('s-new', 2)])])
          )[0],
        );
        const positions = appended.map((e) => e.position);
        expect(await statementRows(client)).toHaveLength(3);
        expect(await readAllCommitted(opened.store)).toEqual([
          ['old.first', first],
          ['old.second', second],
          ['test.appended', positions[0]],
          ['test.appended', positions[1]],
        ]);
      } finally {
        await client.end();
        await opened.close();
      }
    },
  );

  it('backfills events stored before migration 5 and drops the per-event index', { timeout: T }, async () => {
    const other = await createTestSchema();
    const storage = new Storage(other.url);
    await storage.open();
    const a = await schemaClient(other.schema);
    const b = await schemaClient(other.schema);
    let opened: OpenStore | undefined;
    try {
      await storage.migrate('events', EVENTS_MIGRATIONS.slice(0, 4));
      // A writes first (the older transaction id), B writes between A's two rows and commits first.
      await a.query('BEGIN');
      const a1 = await rawInsert(a, 'a.one');
      await b.query('BEGIN');
      const b1 = await rawInsert(b, 'b.one');
      const a2 = await rawInsert(a, 'a.two');
      await b.query('COMMIT');
      await a.query('COMMIT');
      expect([a1 < b1, b1 < a2]).toEqual([true, true]);

      opened = await openPgStore(other.url); // runs migration 5
      const rows = await statementRows(a);
      expect(rows.map((r) => [r.lo, r.hi])).toEqual([
        [a1, a2],
        [b1, b1],
      ]);
      const index = await a.query(
        `SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'foundation_events_tx_position'`,
        [other.schema],
      );
      expect(index.rowCount).toBe(0);
      // A's range holds B's event too: the read keeps each transaction's own rows, in commit order.
      expect(await readAllCommitted(opened.store, 1)).toEqual([
        ['a.one', a1],
        ['a.two', a2],
        ['b.one', b1],
      ]);
    } finally {
      await a.end();
      await b.end();
      await opened?.close();
      await storage.close();
      await other.drop();
    }
  });

  describe('ranges whose events are gone', () => {
    it(
      'are passed over by reads and deleted by retention upkeep, never a running transaction’s row',
      { timeout: T },
      async () => {
        const other = await createTestSchema();
        const opened = await openPgStore(other.url);
        const client = await schemaClient(other.schema);
        const running = await schemaClient(other.schema);
        const batch = (stream: string): PreparedEvent[] => [1, 2, 3].map((n) => preparedEvent(stream, n));
        try {
          const gone = storedEvents((await opened.store.append([appendRequest(batch('gone'))]))[0]);
          const [goneRow] = await statementRows(client);
          expect(goneRow?.hi).toBe(gone[2]?.position);
          // A transaction that starts before the kept batches (older id, lower position) and stays open.
          await running.query('BEGIN');
          const late = await rawInsert(running, 'late.one');
          const kept = storedEvents((await opened.store.append([appendRequest(batch('kept'))]))[0]);
          const also = storedEvents((await opened.store.append([appendRequest(batch('also'))]))[0]);
          await client.query('DELETE FROM foundation_events WHERE stream = $1', ['gone']);

          // Only the emptied range is below the running transaction: it is read as a step past its range.
          const first = await opened.store.readCommitted({}, await opened.store.resolveFrom('start'), 10);
          expect(first.events).toEqual([]);
          expect(first.head).toBe(`${goneRow?.tx ?? ''}.${String(gone[2]?.position)}`);
          // The running transaction holds the horizon: nothing past it is delivered yet.
          expect(first.held).toBe(true);
          expect(first.more).toBe(false);

          const target = new PostgresRetentionTarget(opened.storage);
          await target.maintain({ now: Date.now(), dropBefore: undefined, batchSize: 1 });
          const after = await statementRows(client);
          // The emptied range's row is gone; the kept ones stay; the running one is not visible to delete.
          expect(after.map((r) => r.lo)).toEqual([kept[0]?.position, also[0]?.position]);

          await running.query('COMMIT');
          expect((await statementRows(client)).map((r) => r.lo)).toEqual([
            late,
            kept[0]?.position,
            also[0]?.position,
          ]);
          expect(await readAllCommitted(opened.store)).toEqual([
            ['late.one', late],
            ...[...kept, ...also].map((e): [string, number] => ['test.appended', e.position]),
          ]);
          expect(gone.every((e) => e.position < late)).toBe(true);
        } finally {
          await running.end();
          await client.end();
          await opened.close();
          await other.drop();
        }
      },
    );
  });
});
