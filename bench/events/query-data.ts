/**
 * The data set of the query benchmark, generated deterministically and bulk-loaded once (through the
 * storage's own connection, with raw multi-row inserts: far faster than appends) into a store that is kept
 * between runs: `bench/results/events-query-<n>.db` and the PostgreSQL schema `bench_events_query_<n>`.
 *
 * Shape: order flows of 10 events (`order.created`, `order.paid`, … one of each of 10 types), each flow a
 * stream `order-<k>` (versions 1–10) and a correlation id `corr-<k>`, each event caused by the previous one
 * of its flow; times 50 ms apart. So with n events: n / 10 streams and correlation ids, n / 10 events per
 * type, 10 events per correlation id.
 *
 * @module
 */
import { createEventIdGenerator } from '../../src/events/model/ids.js';
import type { Storage } from '../../src/storage/index.js';

/** The 10 types of an order flow, in flow order. */
export const FLOW_TYPES = [
  'order.created',
  'order.paid',
  'inventory.reserved',
  'payment.captured',
  'order.packed',
  'order.shipped',
  'order.delivered',
  'customer.notified',
  'review.requested',
  'order.closed',
] as const;

/** Events per flow (= per stream, per correlation id). */
export const FLOW_LENGTH = FLOW_TYPES.length;

/** The correlation id of flow `k`. */
export function correlationOf(k: number): string {
  return `corr-${k}`;
}

/** Wall time of the first event (2026-01-01T00:00:00Z). */
const START_MS = Date.UTC(2026, 0, 1);

/** One generated row, in `foundation_events` column order (without `position`). */
type Row = [
  id: string,
  type: string,
  stream: string,
  streamVersion: number,
  time: number,
  monotonic: number,
  correlationId: string,
  causationId: string | null,
  parentId: null,
  data: string,
  metadata: string,
  node: string,
];

/** Rows `from` (inclusive) to `to` (exclusive) of the data set; ids come from `newId` in order. */
function rows(from: number, to: number, newId: () => string, previous: { id: string | null }): Row[] {
  const out: Row[] = [];
  for (let i = from; i < to; i++) {
    const k = Math.floor(i / FLOW_LENGTH);
    const step = i % FLOW_LENGTH;
    const id = newId();
    const data = JSON.stringify({ orderId: k, step, amount: 10 + (k % 97) * 1.25, currency: 'EUR' });
    out.push([
      id,
      FLOW_TYPES[step]!,
      `order-${k}`,
      step + 1,
      START_MS + i * 50,
      i * 50,
      correlationOf(k),
      step === 0 ? null : previous.id,
      null,
      data,
      '{}',
      'bench',
    ]);
    previous.id = id;
  }
  return out;
}

const COLUMNS =
  'id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node';

/** Rows per transaction (SQLite) or per statement (PostgreSQL). */
const CHUNK = 10_000;

function progress(loaded: number, total: number): void {
  if (loaded % 100_000 === 0 || loaded === total) process.stderr.write(`  loaded ${loaded} / ${total}\n`);
}

/** How many events the store holds. */
export async function countEvents(storage: Storage): Promise<number> {
  const handle = storage.handle();
  if (handle.kind === 'sqlite') {
    return Number(handle.db.prepare('SELECT count(*) FROM foundation_events').pluck().get());
  }
  if (handle.kind === 'postgres') {
    const result = await handle.pool.query<{ n: string }>('SELECT count(*) AS n FROM foundation_events');
    return Number(result.rows[0]!.n);
  }
  throw new TypeError('the query benchmark needs a SQLite or PostgreSQL storage');
}

/** Loads the `n` events (and their streams) into an empty, migrated store, then ANALYZEs it. */
export async function loadEvents(storage: Storage, n: number): Promise<void> {
  const handle = storage.handle();
  const newId = createEventIdGenerator();
  const previous = { id: null as string | null };
  if (handle.kind === 'sqlite') {
    const db = handle.db;
    const insert = db.prepare(
      `INSERT INTO foundation_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const stream = db.prepare('INSERT INTO foundation_streams (stream, version) VALUES (?, ?)');
    const chunk = db.transaction((batch: Row[]) => {
      for (const row of batch) {
        insert.run(...row);
        if (row[3] === FLOW_LENGTH) stream.run(row[2], FLOW_LENGTH);
      }
    });
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK);
      chunk(rows(from, to, newId, previous));
      progress(to, n);
    }
    db.exec('ANALYZE');
    return;
  }
  if (handle.kind !== 'postgres')
    throw new TypeError('the query benchmark needs a SQLite or PostgreSQL storage');
  const sql = `INSERT INTO foundation_events (${COLUMNS})
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[],
      $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::jsonb[], $12::text[])`;
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK);
    const batch = rows(from, to, newId, previous);
    const columns = Array.from({ length: 12 }, (_, c) => batch.map((row) => row[c]));
    await handle.pool.query(sql, columns);
    const ends = batch.filter((row) => row[3] === FLOW_LENGTH).map((row) => row[2]);
    await handle.pool.query(
      'INSERT INTO foundation_streams (stream, version) SELECT s, $2 FROM unnest($1::text[]) AS s',
      [ends, FLOW_LENGTH],
    );
    progress(to, n);
  }
  await handle.pool.query('ANALYZE foundation_events');
  await handle.pool.query('ANALYZE foundation_streams');
}
