/**
 * Fixtures of the PostgreSQL partitioning tests: an event store on a fresh schema, converted to a partitioned
 * table or not, and raw SQL on its pool.
 *
 * @module
 */
import type pg from 'pg';
import { EventStore } from '../../src/events/event-store.js';
import {
  convertToPartitioned,
  type PartitioningOptions,
} from '../../src/events/stores/postgres-partitioning.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import type { Clock } from '../../src/kernel/clock.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';

/** A started store on its own schema. */
export interface PgEvents {
  readonly schema: TestSchema;
  readonly storage: Storage;
  readonly events: EventStore;
  readonly pool: pg.Pool;
  /** Another store (own storage and pool) on the same schema, as a second process would open it. */
  another(): Promise<EventStore>;
  close(): Promise<void>;
}

/** Opens a started store on `schema` (the events migrations run at start). */
async function openOn(
  url: string,
  clock: Clock | undefined,
): Promise<{ storage: Storage; events: EventStore }> {
  const storage = new Storage(url);
  await storage.open();
  const events = new EventStore(new PostgresEventStore(storage), clock === undefined ? {} : { clock });
  await events.start();
  return { storage, events };
}

/** A store on a fresh schema; converted first when `partitioning` is given (at `clock.now()`). */
export async function openPgEvents(
  options: { readonly clock?: Clock; readonly partitioning?: PartitioningOptions } = {},
): Promise<PgEvents> {
  const schema = await createTestSchema();
  const opened = [await openOn(schema.url, options.clock)];
  const first = opened[0] as { storage: Storage; events: EventStore };
  const handle = first.storage.handle();
  if (handle.kind !== 'postgres') throw new Error('not postgres');
  if (options.partitioning !== undefined) {
    await convertToPartitioned(
      handle.pool,
      handle.schema,
      options.partitioning,
      options.clock?.now() ?? Date.now(),
    );
  }
  return {
    schema,
    storage: first.storage,
    events: first.events,
    pool: handle.pool,
    async another() {
      const next = await openOn(schema.url, options.clock);
      opened.push(next);
      return next.events;
    },
    async close() {
      for (const { storage, events } of opened) {
        await events.stop();
        await storage.close();
      }
      await schema.drop();
    },
  };
}

/** Rows of a query on the pool. */
export async function rows<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  return (await pool.query<R>(sql, values)).rows;
}

/** Every event row as stored (all columns, `tx` as text), by position. */
export async function rawEvents(pool: pg.Pool): Promise<Record<string, unknown>[]> {
  return rows(pool, 'SELECT *, tx::text AS tx FROM foundation_events ORDER BY position');
}

/** The partition holding each event id. */
export async function partitionOf(pool: pg.Pool, id: string): Promise<string | undefined> {
  const r = await rows<{ p: string }>(
    pool,
    'SELECT tableoid::regclass::text AS p FROM foundation_events WHERE id = $1',
    [id],
  );
  return r[0]?.p.replace(/^.*\./, '');
}
