/**
 * Our side of the event benchmarks: `createEventStore(new Storage(url))`, opened and started before timing,
 * stopped and closed after.
 *
 * @module
 */
import { createEventStore, type EventStore, type EventStoreOptions } from '../../src/events/index.js';
import { Storage } from '../../src/storage/index.js';
import { createScratchSchema, pgBenchUrl, pgRun, withParams } from './pg-env.js';

/** An open and started event store and how to dispose of it. */
export interface Ours {
  readonly events: EventStore;
  readonly storage: Storage;
  close(): Promise<void>;
}

/** Opens the storage at `url` and starts an event store on it; `dispose` runs after both are closed. */
export async function openOurs(
  url: string,
  options: EventStoreOptions = {},
  dispose: () => Promise<void> = async () => undefined,
): Promise<Ours> {
  const storage = new Storage(url);
  await storage.open();
  const events = createEventStore(storage, options);
  try {
    await events.start();
  } catch (error) {
    await storage.close();
    await dispose();
    throw error;
  }
  return {
    events,
    storage,
    async close() {
      try {
        await events.stop();
        await storage.close();
      } finally {
        await dispose();
      }
    },
  };
}

/** Ours on SQLite: a database file at `path` (WAL, `synchronous=NORMAL`, the defaults). */
export function openOursSqlite(path: string, options: EventStoreOptions = {}): Promise<Ours> {
  return openOurs(`sqlite:${path}`, options);
}

/** Ours on PostgreSQL, in a fresh schema dropped at close, with a pool of `poolSize` connections. */
export async function openOursPg(poolSize: number, options: EventStoreOptions = {}): Promise<Ours> {
  const scratch = await createScratchSchema('bench_ours');
  const url = withParams(pgBenchUrl(), { schema: scratch.name, poolSize: String(poolSize) });
  return openOurs(url, options, () => scratch.drop());
}

/** Ours on PostgreSQL in a named schema that is kept (the query benchmark's loaded data). */
export function openOursPgSchema(schema: string, options: EventStoreOptions = {}): Promise<Ours> {
  return openOurs(withParams(pgBenchUrl(), { schema, poolSize: '4' }), options);
}

/** Drops a kept schema (used when its data is incomplete and must be reloaded). */
export async function dropSchema(schema: string): Promise<void> {
  await pgRun(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
