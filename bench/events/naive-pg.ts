/**
 * The naive PostgreSQL baseline of the concurrent-append case: one transaction per append on a `pg.Pool`
 * (BEGIN; SELECT the stream's version FOR UPDATE; INSERT the event; UPSERT the stream; COMMIT), in its own
 * schema with the foundation's tables (the `events` migration's PostgreSQL text). What an event store
 * without group commit does: every append pays its own commit (and WAL flush).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { EVENTS_MIGRATIONS } from '../../src/events/stores/migrations.js';
import type { OrderData } from './inputs.js';
import { createScratchSchema, pgBenchUrl, type Scratch } from './pg-env.js';

const SELECT_VERSION = 'SELECT version FROM foundation_streams WHERE stream = $1 FOR UPDATE';
const INSERT_EVENT = `INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic,
  correlation_id, causation_id, parent_id, data, metadata, node)
  VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL, $7, $8, $9) RETURNING position`;
const UPSERT_STREAM = `INSERT INTO foundation_streams (stream, version) VALUES ($1, $2)
  ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version`;

/** An open baseline store: `append` writes one event in its own transaction and returns its position. */
export interface NaivePgStore {
  /** The schema holding its tables (dropped at close). */
  readonly schema: string;
  append(type: string, stream: string, data: OrderData): Promise<number>;
  close(): Promise<void>;
}

/** Creates a schema with the foundation's tables and a pool of `poolSize` connections to it. */
export async function openNaivePg(poolSize: number): Promise<NaivePgStore> {
  const scratch: Scratch = await createScratchSchema('bench_naive');
  const pool = new pg.Pool({
    connectionString: pgBenchUrl(),
    max: poolSize,
    options: `-c search_path=${scratch.name}`,
  });
  pool.on('error', () => undefined);
  try {
    await pool.query(EVENTS_MIGRATIONS[0]!.postgres);
  } catch (error) {
    await pool.end();
    await scratch.drop();
    throw error;
  }
  const node = hostname();

  return {
    schema: scratch.name,
    async append(type, stream, data) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const current = await client.query<{ version: string }>({
          name: 'naive-select-version',
          text: SELECT_VERSION,
          values: [stream],
        });
        const version = Number(current.rows[0]?.version ?? 0) + 1;
        const inserted = await client.query<{ position: string }>({
          name: 'naive-insert-event',
          text: INSERT_EVENT,
          values: [
            randomUUID(),
            type,
            stream,
            version,
            Date.now(),
            performance.now(),
            JSON.stringify(data),
            '{}',
            node,
          ],
        });
        await client.query({ name: 'naive-upsert-stream', text: UPSERT_STREAM, values: [stream, version] });
        await client.query('COMMIT');
        return Number(inserted.rows[0]!.position);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
      await scratch.drop();
    },
  };
}
