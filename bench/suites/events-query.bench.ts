/**
 * Event queries over a large store (issue 3, section Performance: "query by correlation id and by type
 * over 1M stored events: index-backed (show the plan), reported in ms"). Run it on its own:
 * `npm run bench -- events-query` (1M events; `--quick`: 10k).
 *
 * The events are bulk-loaded once into a store kept between runs (`bench/results/events-query-<n>.db`, the
 * PostgreSQL schema `bench_events_query_<n>`; reloaded when the count is wrong; see `query-data.ts`). Cases,
 * on SQLite and on PostgreSQL:
 *
 * - `query({ correlationId })`: the 10 events of one flow, cycling over 1000 flows spread over the store;
 * - `query({ types: ['order.created'], limit: 100 })`: one page of a type that is 10 % of the store.
 *
 * Ours runs through the event store; the `raw-sql` baseline runs the same compiled SQL text with the same
 * parameters straight on the storage's connection, without validation or row mapping. Each case's notes
 * show the query plan (SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS)`); the type
 * case also shows the plan for a rare type (`order.refunded`, absent from the data).
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { compileQuery, validateQuery, type EventQuery } from '../../src/events/index.js';
import { PG_EVENT_COLUMNS } from '../../src/events/stores/postgres-rows.js';
import { EVENT_COLUMNS } from '../../src/events/stores/sqlite-rows.js';
import { openKeptStore } from '../events/kept-store.js';
import type { Ours } from '../events/ours.js';
import { pgUnavailable } from '../events/pg-env.js';
import { correlationOf, FLOW_LENGTH } from '../events/query-data.js';
import { asyncCase, asyncImpl, defineSuite, type AsyncBenchCase } from '../suite.js';

type Kind = 'sqlite' | 'postgres';

/** A loaded store, open. */
interface Loaded {
  readonly kind: Kind;
  readonly ours: Ours;
  /** The raw side's prepared SQLite statements, by SQL text (ours caches its statements too). */
  readonly statements: Map<string, BetterSqlite3.Statement>;
}

/**
 * Opens the kept store for `n` events (see `openKeptStore`), with a statement cache for the raw side.
 */
async function openLoaded(kind: Kind, n: number): Promise<Loaded> {
  return { kind, ours: await openKeptStore(kind, n, 'events-query'), statements: new Map() };
}

/** The SQL our adapter runs for `query`, and its parameters (the same text as the adapters build). */
function compiled(kind: Kind, query: EventQuery): { sql: string; params: unknown[] } {
  const c = compileQuery(query, kind);
  if (kind === 'sqlite') {
    const where = c.where === '' ? '' : ` WHERE ${c.where}`;
    return {
      sql: `SELECT ${EVENT_COLUMNS} FROM foundation_events${where} ORDER BY ${c.orderBy} LIMIT ?`,
      params: [...c.params, c.limit],
    };
  }
  return {
    sql: `SELECT ${PG_EVENT_COLUMNS} FROM foundation_events WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT $${c.params.length + 1}`,
    params: [...c.params, c.limit],
  };
}

/** Runs SQL on the store's own connection; returns the raw rows. */
async function rawRows(loaded: Loaded, sql: string, params: unknown[]): Promise<unknown[]> {
  const handle = loaded.ours.storage.handle();
  if (handle.kind === 'sqlite') {
    let statement = loaded.statements.get(sql);
    if (statement === undefined) {
      statement = handle.db.prepare(sql);
      loaded.statements.set(sql, statement);
    }
    return statement.all(...params);
  }
  if (handle.kind === 'postgres') return (await handle.pool.query<Record<string, unknown>>(sql, params)).rows;
  throw new TypeError('SQLite or PostgreSQL storage expected');
}

/** The query plan of `query` on the loaded store. */
async function plan(loaded: Loaded, query: EventQuery): Promise<string> {
  const { sql, params } = compiled(loaded.kind, query);
  if (loaded.kind === 'sqlite') {
    const rows = (await rawRows(loaded, `EXPLAIN QUERY PLAN ${sql}`, params)) as { detail: string }[];
    return [sql, ...rows.map((row) => `  ${row.detail}`)].join('\n');
  }
  const rows = (await rawRows(loaded, `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)) as Record<
    string,
    string
  >[];
  return [sql, ...rows.map((row) => `  ${row['QUERY PLAN'] ?? ''}`)].join('\n');
}

/** `count` flow numbers spread pseudo-randomly (deterministically) over `flows`. */
function sampleFlows(flows: number, count: number): number[] {
  const out: number[] = [];
  let seed = 12345;
  for (let k = 0; k < count; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out.push(seed % flows);
  }
  return out;
}

/**
 * A case querying the loaded store with `queries[i % length]`, ours and the raw SQL side by side. Its notes
 * hold the plan of the first query, then of each of `alsoExplain` (not measured).
 */
function queryCase(
  kind: Kind,
  n: number,
  label: string,
  queries: readonly EventQuery[],
  alsoExplain: readonly EventQuery[] = [],
): AsyncBenchCase {
  const store = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const size = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  const statements = queries.map((query) => compiled(kind, validateQuery(query)));
  return asyncCase<Loaded>({
    name: `${label}, ${store}, ${size} events`,
    ...(kind === 'postgres' ? { unavailable: pgUnavailable } : {}),
    setup: () => openLoaded(kind, n),
    teardown: (loaded) => loaded.ours.close(),
    notes: async (loaded) => {
      const plans: string[] = [];
      for (const query of [queries[0], ...alsoExplain]) plans.push(await plan(loaded, validateQuery(query)));
      return plans.join('\n\n');
    },
    impls: [
      asyncImpl<Loaded, Loaded>({
        impl: 'ours',
        role: 'ours',
        setup: (loaded) => loaded,
        fn: (loaded, i) => loaded.ours.events.query(queries[i % queries.length]),
      }),
      asyncImpl<Loaded, Loaded>({
        impl: 'raw-sql',
        role: 'baseline',
        setup: (loaded) => loaded,
        fn: (loaded, i) => {
          const { sql, params } = statements[i % statements.length]!;
          return rawRows(loaded, sql, params);
        },
      }),
    ],
  });
}

export default defineSuite(({ quick }) => {
  const n = quick ? 10_000 : 1_000_000;
  const byCorrelation = sampleFlows(n / FLOW_LENGTH, 1000).map((k) => ({ correlationId: correlationOf(k) }));
  const byType = [{ types: ['order.created'], limit: 100 }];
  const cases: AsyncBenchCase[] = [];
  for (const kind of ['sqlite', 'postgres'] as const) {
    cases.push(queryCase(kind, n, 'query by correlation id', byCorrelation));
    // A type absent from the data: the plan of a selective type filter (PostgreSQL scans the primary key
    // with a filter for a type that is 10 % of the rows, and the (type, position) index for a rare one).
    cases.push(
      queryCase(kind, n, "query by type 'order.created', limit 100", byType, [{ types: ['order.refunded'] }]),
    );
  }
  return { name: 'events-query', cases };
});
