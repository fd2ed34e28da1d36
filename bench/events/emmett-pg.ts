/**
 * The peer of the PostgreSQL append cases: `@event-driven-io/emmett-postgresql` (0.42), in a database of
 * its own (its tables and functions live in `public`, and it checks for its append function
 * database-wide, so a schema of its own is not enough), on a `pg.Pool` of the same size as ours, with its
 * schema migrated before timing.
 *
 * Its connection library (dumbo) replaces `pg`'s global type parsers when a store is created (int8 →
 * BigInt, json/jsonb through its own parser). `pg` is one module for the whole process, so that would
 * change the row types our own store sees in the same run: the parsers are put back right after the store
 * is created. Emmett converts positions with `BigInt(...)` itself, so appends behave the same.
 *
 * @module
 */
import { getPostgreSQLEventStore, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { ORDER_CREATED, type OrderData } from './inputs.js';
import { createScratchDatabase, type ScratchDatabase } from './pg-env.js';

/** The global `pg` type parsers emmett's connection library replaces: int8, jsonb, json. */
const PARSED_TYPES = [pg.types.builtins.INT8, pg.types.builtins.JSONB, pg.types.builtins.JSON] as const;

/** An emmett event store in its own database. */
export interface EmmettPg {
  readonly store: PostgresEventStore;
  /** Connection string of its database. */
  readonly url: string;
  /** Appends `count` `order.created` events (data from `data(k)`) to `stream`; returns the next version. */
  append(stream: string, count: number, data: (k: number) => OrderData): Promise<bigint>;
  close(): Promise<void>;
}

/** Creates the database, the store (migrated) and a pool of `poolSize` connections. */
export async function openEmmettPg(poolSize: number): Promise<EmmettPg> {
  const database: ScratchDatabase = await createScratchDatabase('bench_emmett');
  const pool = new pg.Pool({ connectionString: database.url, max: poolSize });
  pool.on('error', () => undefined);
  const saved = PARSED_TYPES.map(
    (type) => pg.types.getTypeParser(type, 'text') as (value: string) => unknown,
  );
  const store = getPostgreSQLEventStore(database.url, { connectionOptions: { pool } });
  PARSED_TYPES.forEach((type, k) => {
    pg.types.setTypeParser(type, 'text', saved[k]!);
  });
  const close = async (): Promise<void> => {
    await store.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await database.drop();
  };
  try {
    await store.schema.migrate();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    store,
    url: database.url,
    async append(stream, count, data) {
      const events = new Array<{ type: string; data: OrderData }>(count);
      for (let k = 0; k < count; k++) events[k] = { type: ORDER_CREATED, data: data(k) };
      const result = await store.appendToStream(stream, events);
      return result.nextExpectedStreamVersion;
    },
    close,
  };
}
