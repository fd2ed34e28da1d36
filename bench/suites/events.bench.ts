/**
 * Event store appends, ours against peers in the same run (issue 3, section Performance):
 *
 * - single appends, one writer, SQLite (a file in a temp dir, WAL, `synchronous=NORMAL`): ours vs a raw
 *   better-sqlite3 loop doing the same work (same tables and indexes; per event an id, times,
 *   `JSON.stringify`, and one transaction with a stream-version read, the insert and the stream upsert).
 *   A new stream per append, and one hot stream. Target: ours ≥ 0.8× raw (our ns/op ≤ 1.25× raw);
 * - single appends, one writer, PostgreSQL: ours vs `@event-driven-io/emmett-postgresql`. Target ≥ 1.5×;
 * - 16 concurrent single-event appenders on PostgreSQL (16 in flight at all times): ours (group commit)
 *   vs emmett vs a naive one-transaction-per-append baseline. Targets ≥ 4× emmett, ≥ 3× naive;
 * - batches of 100 events in one call on PostgreSQL: ours vs emmett. Target ≥ 2×.
 *
 * Every PostgreSQL implementation gets a fresh schema (emmett: a fresh database), dropped after the case,
 * and a pool of 16 connections. ns/op is per append call (per 100 events in the batch case).
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmmettPg, type EmmettPg } from '../events/emmett-pg.js';
import { ORDER_CREATED, orderData, streamName, type OrderData } from '../events/inputs.js';
import { openNaivePg, type NaivePgStore } from '../events/naive-pg.js';
import { openOursPg, openOursSqlite, type Ours } from '../events/ours.js';
import { pgUnavailable } from '../events/pg-env.js';
import { openRawSqlite, type RawSqliteStore } from '../events/raw-sqlite.js';
import { asyncCase, asyncImpl, defineSuite } from '../suite.js';

/** Connections per pool for every PostgreSQL implementation. */
const POOL_SIZE = 16;
/** Appenders in flight in the concurrent case. */
const CONCURRENCY = 16;
/** Events per append call in the batch case. */
const BATCH = 100;

/** Precomputed payloads, cycled over, so no side builds objects in its timed loop. */
const PAYLOADS: readonly OrderData[] = Array.from({ length: 1024 }, (_, i) => orderData(i));
const payload = (i: number): OrderData => PAYLOADS[i % PAYLOADS.length]!;

/** A temp directory for a SQLite case, removed after it. */
interface TempDir {
  readonly dir: string;
}

const tempDir = {
  setup: async (): Promise<TempDir> => ({ dir: await mkdtemp(join(tmpdir(), 'bench-events-')) }),
  teardown: async ({ dir }: TempDir): Promise<void> => rm(dir, { recursive: true, force: true }),
};

/** One SQLite single-append case: `stream(i)` names the stream of the i-th append. */
function sqliteCase(name: string, stream: (prefix: string, i: number) => string) {
  return asyncCase<TempDir>({
    name,
    ...tempDir,
    impls: [
      asyncImpl<Ours, TempDir>({
        impl: 'ours',
        role: 'ours',
        setup: ({ dir }) => openOursSqlite(join(dir, 'ours.db')),
        fn: (ours, i) =>
          ours.events.append({ type: ORDER_CREATED, stream: stream('o', i), data: payload(i) }),
        teardown: (ours) => ours.close(),
      }),
      asyncImpl<RawSqliteStore, TempDir>({
        impl: 'raw-better-sqlite3',
        role: 'baseline',
        setup: ({ dir }) => openRawSqlite(join(dir, 'raw.db')),
        fn: (raw, i) => raw.append(ORDER_CREATED, stream('r', i), payload(i)),
        teardown: (raw) => {
          raw.close();
        },
      }),
    ],
  });
}

const oursPg = (fn: (ours: Ours, i: number) => Promise<unknown>) =>
  asyncImpl<Ours>({
    impl: 'ours',
    role: 'ours',
    setup: () => openOursPg(POOL_SIZE),
    fn,
    teardown: (ours) => ours.close(),
  });

const emmettPg = (fn: (emmett: EmmettPg, i: number) => Promise<unknown>) =>
  asyncImpl<EmmettPg>({
    impl: 'emmett-postgresql',
    role: 'peer',
    setup: () => openEmmettPg(POOL_SIZE),
    fn,
    teardown: (emmett) => emmett.close(),
  });

const naivePg = asyncImpl<NaivePgStore>({
  impl: 'naive-pg',
  role: 'baseline',
  setup: () => openNaivePg(POOL_SIZE),
  fn: (naive, i) => naive.append(ORDER_CREATED, streamName('n', i), payload(i)),
  teardown: (naive) => naive.close(),
});

/** Our single-event append to a new stream. */
const oursAppendOne = (ours: Ours, i: number) =>
  ours.events.append({ type: ORDER_CREATED, stream: streamName('o', i), data: payload(i) });

/** Emmett's single-event append to a new stream. */
const emmettAppendOne = (emmett: EmmettPg, i: number) =>
  emmett.append(streamName('e', i), 1, () => payload(i));

export default defineSuite({
  name: 'events',
  cases: [
    sqliteCase('append 1, 1 writer, SQLite, new stream each', streamName),
    sqliteCase('append 1, 1 writer, SQLite, one hot stream', (prefix) => `${prefix}-hot`),
    asyncCase({
      name: 'append 1, 1 writer, PostgreSQL, new stream each',
      unavailable: pgUnavailable,
      impls: [oursPg(oursAppendOne), emmettPg(emmettAppendOne)],
    }),
    asyncCase({
      name: `append 1, ${CONCURRENCY} in flight, PostgreSQL, new stream each`,
      concurrency: CONCURRENCY,
      unavailable: pgUnavailable,
      impls: [oursPg(oursAppendOne), emmettPg(emmettAppendOne), naivePg],
    }),
    asyncCase({
      name: `append ${BATCH} in one call, 1 writer, PostgreSQL`,
      unavailable: pgUnavailable,
      impls: [
        oursPg((ours, i) =>
          ours.events.append(
            Array.from({ length: BATCH }, (_, k) => ({
              type: ORDER_CREATED,
              stream: streamName('o', i),
              data: payload(i * BATCH + k),
            })),
          ),
        ),
        emmettPg((emmett, i) => emmett.append(streamName('e', i), BATCH, (k) => payload(i * BATCH + k))),
      ],
    }),
  ],
});
