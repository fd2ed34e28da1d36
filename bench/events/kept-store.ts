/**
 * The large event log kept between benchmark runs (`bench/results/events-query-<n>.db`, the PostgreSQL
 * schema `bench_events_query_<n>`), shared by the `events-query` and `events-live` suites. It is loaded once
 * (see `query-data.ts`) and reloaded when it does not hold exactly `n` events.
 *
 * @module
 */
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isFoundationError } from '../../src/errors/index.js';
import { dropSchema, openOursPgSchema, openOursSqlite, type Ours } from './ours.js';
import { countEvents, loadEvents } from './query-data.js';

const RESULTS_DIR = new URL('../results/', import.meta.url);

/**
 * Opens the kept store for `n` events, (re)loading it when it does not hold exactly `n`, or when its
 * schema was made by other migrations than the code's (an edited, unreleased migration: the store refuses
 * to open). `label` prefixes the progress lines on stderr.
 */
export async function openKeptStore(kind: 'sqlite' | 'postgres', n: number, label: string): Promise<Ours> {
  const file = fileURLToPath(new URL(`events-query-${n}.db`, RESULTS_DIR));
  const schema = `bench_events_query_${n}`;
  const open = (): Promise<Ours> => (kind === 'sqlite' ? openOursSqlite(file) : openOursPgSchema(schema));
  const wipe = async (): Promise<void> => {
    if (kind === 'sqlite') {
      for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });
    } else await dropSchema(schema);
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  let ours: Ours;
  try {
    ours = await open();
  } catch (error) {
    if (!isFoundationError(error) || !error.code.startsWith('FND_STORAGE_MIGRATION')) throw error;
    process.stderr.write(`${label}: ${kind} store made by other migrations (${error.code}), recreating it\n`);
    await wipe();
    ours = await open();
  }
  const count = await countEvents(ours.storage);
  if (count !== n) {
    process.stderr.write(`${label}: ${kind} store holds ${count} events, loading ${n}…\n`);
    if (count > 0) {
      await ours.close();
      await wipe();
      ours = await open();
    }
    const started = performance.now();
    await loadEvents(ours.storage, n);
    process.stderr.write(`${label}: loaded in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return ours;
}
