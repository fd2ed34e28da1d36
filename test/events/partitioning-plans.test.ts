/**
 * Query plans of the event store's own statements on a partitioned `foundation_events` (60 000 events over
 * three daily partitions, analyzed): the statements are captured as the store sends them (text and values)
 * and explained with those values. Every read is an index scan on every partition with events it touches
 * (the planner scans the empty DEFAULT partition sequentially), broad ordered reads merge the partitions'
 * index order (Merge Append, no sort), and a query with a time range reads only the partitions of that
 * range (pruning).
 *
 * `FND_PRINT_PLANS=1` prints the plans (pasted in docs/retention.md).
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convertToPartitioned } from '../../src/events/stores/postgres-partitioning.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { describePg } from '../helpers/postgres.js';
import { openPgEvents, type PgEvents } from './partitioning-fixtures.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1); // partitions 03-01, 03-02, 03-03
const ROWS = 60_000;

interface Captured {
  readonly text: string;
  readonly values: unknown[];
}

/** Records the statements the store sends through `pool.query` while `fn` runs. */
async function capture(pool: pg.Pool, fn: () => Promise<unknown>): Promise<Captured[]> {
  const seen: Captured[] = [];
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const spy = (...args: unknown[]): unknown => {
    const config = args[0];
    if (typeof config === 'object' && config !== null && 'text' in config) {
      const c = config as { text: string; values?: unknown[] };
      seen.push({ text: c.text, values: c.values ?? [] });
    }
    return original(...args);
  };
  (pool as unknown as { query: unknown }).query = spy;
  try {
    await fn();
  } finally {
    (pool as unknown as { query: unknown }).query = original;
  }
  return seen;
}

async function explain(pool: pg.Pool, statement: Captured): Promise<string> {
  const result = await pool.query<{ 'QUERY PLAN': string }>({
    text: `EXPLAIN (COSTS OFF) ${statement.text}`,
    values: statement.values,
  });
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** Partitions a plan reads. */
function partitionsIn(plan: string): string[] {
  return [...new Set([...plan.matchAll(/on (foundation_events_\w+)/g)].map((m) => m[1] as string))].sort();
}

describePg('plans on a partitioned foundation_events', () => {
  let t: PgEvents;
  const plans = new Map<string, string>();
  beforeAll(async () => {
    const clock = new FakeClock({ now: START + 2 * DAY });
    t = await openPgEvents({ clock });
    await t.pool.query(
      `INSERT INTO foundation_events
         (id, type, stream, stream_version, time, monotonic, correlation_id, data, metadata, node)
       SELECT 'bulk-' || g, (ARRAY['order.created','order.paid','audit.logged','cart.viewed'])[1 + g % 4],
         's-' || (g % 1000), g / 1000 + 1, $1::bigint + g::bigint * $2::bigint / $3::bigint, 0,
         'corr-' || (g % 5000), jsonb_build_object('n', g), '{}', 'bulk'
       FROM generate_series(0, $3::int - 1) g`,
      [START, 3 * DAY, ROWS],
    );
    // Converted with its data: one partition per day of events (03-01 … 03-03) and DEFAULT.
    await convertToPartitioned(t.pool, t.schema.schema, { interval: 'day', premake: 0 }, clock.now());
    const explainAll = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      const statements = await capture(t.pool, fn);
      const last = statements[statements.length - 1];
      if (last === undefined) throw new Error(`${name}: no statement captured`);
      plans.set(name, await explain(t.pool, last));
    };
    await explainAll('readAll after a position', () =>
      t.events.readAll({ afterPosition: 30_000, limit: 100 }),
    );
    await explainAll('query by type', () => t.events.query({ types: ['order.paid'], limit: 100 }));
    await explainAll('query by type prefix', () => t.events.query({ types: ['order.*'], limit: 100 }));
    await explainAll('query by correlation', () => t.events.query({ correlationId: 'corr-7', limit: 100 }));
    await explainAll('correlation chain', () => t.events.correlationChain('corr-7'));
    await explainAll('readStream', () => t.events.readStream('s-7', { limit: 100 }));
    await explainAll('get by id', () => t.events.get('bulk-12345'));
    await explainAll('query by type and time range', () =>
      t.events.query({ types: ['order.paid'], from: START + DAY + 3_600_000, to: START + DAY + 7_200_000 }),
    );
    if (process.env.FND_PRINT_PLANS === '1') {
      for (const [name, plan] of plans) console.log(`-- ${name}\n${plan}\n`);
    }
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('reads every partition holding events through an index (a sequential scan only of the empty DEFAULT)', async () => {
    expect(plans.size).toBe(8);
    const inDefault = await t.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM foundation_events_default',
    );
    expect(inDefault.rows).toEqual([{ n: 0 }]);
    for (const [name, plan] of plans) {
      const seqScans = [...plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]);
      expect({ name, seqScans: seqScans.filter((p) => p !== 'foundation_events_default') }).toEqual({
        name,
        seqScans: [],
      });
      expect({ name, index: /Index( Only)? Scan|Bitmap Index Scan/.test(plan) }).toEqual({
        name,
        index: true,
      });
    }
  });

  it('keeps position order of a broad read by merging the partitions index order (no sort)', () => {
    for (const name of ['readAll after a position', 'query by type', 'query by type prefix']) {
      const plan = plans.get(name) ?? '';
      expect({ name, merge: plan.includes('Merge Append') }).toEqual({ name, merge: true });
    }
  });

  it('prunes to the partitions of a time range', () => {
    expect(partitionsIn(plans.get('query by type and time range') ?? '')).toEqual([
      'foundation_events_p20260302',
    ]);
    expect(partitionsIn(plans.get('readAll after a position') ?? '')).toEqual([
      'foundation_events_default',
      'foundation_events_p20260301',
      'foundation_events_p20260302',
      'foundation_events_p20260303',
    ]);
  });
});
