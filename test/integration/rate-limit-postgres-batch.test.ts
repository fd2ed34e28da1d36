/**
 * The PostgreSQL rate-limit store's batching, on the real server: `consume` calls asked in one turn of the
 * event loop with the same rule and unit count on distinct keys run as one statement (counted on the store's
 * pool), give the decisions sequential calls give, keep one key's decisions in the order asked (a repeated
 * key waits for the next round), and hold the limit exactly. Two batches on two pools stalled on one locked
 * row go on without a deadlock once it is free (their rows are locked in key order, whatever the order
 * asked); two stores hammering overlapping keys concurrently never over-admit. A failed
 * statement fails each of its callers and applies nothing; garbage input is refused before any statement.
 *
 * Windows are 10^12 ms long: no refill and no window boundary during a test, so counts are exact; the
 * time-dependent fields (retry-after, reset) are checked against the wall time the test took.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/protection/rate-limit/limiter.js';
import { MemoryRateLimitStore } from '../../src/protection/rate-limit/memory-store.js';
import { PostgresRateLimitStore } from '../../src/protection/rate-limit/postgres-store.js';
import type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitRule,
} from '../../src/protection/rate-limit/types.js';
import { Storage } from '../../src/storage/index.js';
import { expectCode } from '../contracts/event-store/fixture.js';
import { createTestSchema, describePg, pgExec, pgTestUrl, type TestSchema } from '../helpers/postgres.js';

const T = 60_000;
const FOREVER = 1e12;
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token_bucket', 'gcra', 'sliding_window', 'fixed_window'];

let schema: TestSchema;
const storages: Storage[] = [];
let storeA: PostgresRateLimitStore;
let storeB: PostgresRateLimitStore;
let poolA: pg.Pool;
let prefixes = 0;

/** A fresh key prefix: every test (and every property run) works on keys no other one touched. */
function fresh(): string {
  prefixes += 1;
  return `p${String(prefixes)}:`;
}

async function openStore(): Promise<{ store: PostgresRateLimitStore; pool: pg.Pool }> {
  const storage = new Storage(schema.url);
  await storage.open();
  storages.push(storage);
  const store = new PostgresRateLimitStore(storage);
  await store.open();
  const handle = storage.handle();
  if (handle.kind !== 'postgres') throw new Error('expected a PostgreSQL storage');
  return { store, pool: handle.pool };
}

/** The keys starting with `prefix` that have a row. */
async function storedKeys(prefix: string): Promise<string[]> {
  const rows = await pgExec(
    `SELECT key FROM "${schema.schema}".rate_limits WHERE starts_with(key, $1) ORDER BY key COLLATE "C"`,
    [prefix],
  );
  return rows.rows.map((r: { key: string }) => r.key);
}

/**
 * The rate-limit statements whose name starts with `prefix` (default: the consume statements) that
 * `pool.query` was called with since `spy` was made: name and keys (or key).
 */
function statementCalls(
  spy: { mock: { calls: unknown[][] } },
  prefix = 'fnd_ratelimit_consume',
): { name: string; keys: unknown }[] {
  return spy.mock.calls
    .map((args) => args[0] as { name?: string; values?: unknown[] })
    .filter((q) => q.name?.startsWith(prefix) === true)
    .map((q) => ({ name: q.name ?? '', keys: q.values?.[0] }));
}

/** Allowed, remaining and limit exactly; retry-after and reset within `slackMs` (0 retry when admitted). */
function expectSameDecisions(
  actual: readonly RateLimitDecision[],
  expected: readonly RateLimitDecision[],
  slackMs: number,
): void {
  expect(actual.map((d) => [d.allowed, d.remaining, d.limit])).toEqual(
    expected.map((d) => [d.allowed, d.remaining, d.limit]),
  );
  for (const [i, d] of actual.entries()) {
    const e = expected[i]!;
    if (d.allowed) expect(d.retryAfterMs).toBe(0);
    else expect(d.retryAfterMs).toBeGreaterThan(0);
    expect(Math.abs(d.retryAfterMs - e.retryAfterMs)).toBeLessThanOrEqual(slackMs);
    expect(Math.abs(d.resetMs - e.resetMs)).toBeLessThanOrEqual(slackMs);
  }
}

describePg('PostgreSQL rate limit store: batched decisions', () => {
  beforeAll(async () => {
    schema = await createTestSchema();
    const a = await openStore();
    storeA = a.store;
    poolA = a.pool;
    storeB = (await openStore()).store;
    // A statement touching a key ending in `:boom` fails (a failing statement, on the real server).
    await pgExec(`CREATE FUNCTION "${schema.schema}".boom() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
    await pgExec(`CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON "${schema.schema}".rate_limits
      FOR EACH ROW WHEN (NEW.key LIKE '%:boom') EXECUTE FUNCTION "${schema.schema}".boom()`);
  }, T);

  afterAll(async () => {
    for (const s of storages) await s.close();
    await schema.drop();
  }, T);

  it(
    '100 concurrent decisions on distinct keys equal 100 sequential ones, round after round',
    { timeout: T },
    async () => {
      const started = Date.now();
      const p = fresh();
      for (const algorithm of ALGORITHMS) {
        const rule: RateLimitRule = { algorithm, limit: 3, windowMs: FOREVER };
        // Three admitted rounds, then a refused one.
        for (let round = 0; round < 4; round++) {
          const keys = Array.from({ length: 100 }, (_, i) => `${algorithm}:${String(i)}`);
          const concurrent = await Promise.all(keys.map((k) => storeA.consume(`${p}c:${k}`, rule, 1)));
          const sequential: RateLimitDecision[] = [];
          for (const k of keys) sequential.push(await storeA.consume(`${p}s:${k}`, rule, 1));
          expectSameDecisions(concurrent, sequential, Date.now() - started + 1);
          expect(new Set(concurrent.map((d) => d.allowed))).toEqual(new Set([round < 3]));
          expect(new Set(concurrent.map((d) => d.remaining))).toEqual(new Set([Math.max(0, 2 - round)]));
        }
      }
    },
  );

  it(
    '100 concurrent decisions on one key with limit 10 admit exactly the first 10 asked',
    { timeout: T },
    async () => {
      for (const algorithm of ALGORITHMS) {
        const key = `${fresh()}one`;
        const rule: RateLimitRule = { algorithm, limit: 10, windowMs: FOREVER };
        const before = Date.now();
        const decisions = await Promise.all(Array.from({ length: 100 }, () => storeA.consume(key, rule, 1)));
        const after = Date.now();
        // In the order asked: the first ten are admitted, counting down; every later one is refused.
        expect(decisions.map((d) => d.allowed)).toEqual(Array.from({ length: 100 }, (_, i) => i < 10));
        expect(decisions.map((d) => d.remaining)).toEqual(
          Array.from({ length: 100 }, (_, i) => Math.max(0, 9 - i)),
        );
        const refused = decisions.slice(10).map((d) => d.retryAfterMs);
        if (algorithm === 'token_bucket' || algorithm === 'gcra') {
          // One unit comes back every windowMs / limit ms, less the little time already passed.
          for (const r of refused) {
            expect(r).toBeLessThanOrEqual(FOREVER / 10);
            expect(r).toBeGreaterThanOrEqual(FOREVER / 10 - (after - before) - 1);
          }
        } else if (algorithm === 'fixed_window') {
          // The aligned window's end (the server's clock is this machine's).
          for (const r of refused) {
            expect(r).toBeLessThanOrEqual(FOREVER - (before % FOREVER) + 1);
            expect(r).toBeGreaterThanOrEqual(FOREVER - (after % FOREVER) - 1);
          }
        } else {
          // The two-window counter: the current window's end plus the part of the next the count still weighs.
          for (const r of refused) {
            expect(r).toBeLessThanOrEqual(FOREVER - (before % FOREVER) + FOREVER / 10 + 1);
            expect(r).toBeGreaterThanOrEqual(FOREVER - (after % FOREVER) + FOREVER / 10 - 1);
          }
        }
        const status = await storeA.status(key, rule);
        expect(status.remaining).toBe(0);
        expect(status.retryAfterMs).toBe(0);
      }
    },
  );

  it(
    'a turn mixing repeated and distinct keys, rules and unit counts decides as the sequence would (property)',
    { timeout: T },
    async () => {
      const rules: readonly RateLimitRule[] = [
        { algorithm: 'gcra', limit: 5, windowMs: FOREVER },
        { algorithm: 'fixed_window', limit: 4, windowMs: FOREVER },
        { algorithm: 'token_bucket', limit: 2, windowMs: FOREVER, burst: 6 },
      ];
      const call = fc.record({ key: fc.integer({ min: 0, max: 11 }), n: fc.integer({ min: 0, max: 2 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 150 }), async (calls) => {
          const p = fresh();
          const ruleOf = (key: number): RateLimitRule => rules[key % rules.length]!;
          const decisions = await Promise.all(
            calls.map((c) => storeA.consume(`${p}${String(c.key)}`, ruleOf(c.key), c.n)),
          );
          const model = new MemoryRateLimitStore();
          const expected: RateLimitDecision[] = [];
          for (const c of calls) expected.push(await model.consume(String(c.key), ruleOf(c.key), c.n));
          await model.close();
          expect(decisions.map((d) => [d.allowed, d.remaining, d.limit])).toEqual(
            expected.map((d) => [d.allowed, d.remaining, d.limit]),
          );
          for (const d of decisions) expect(d.retryAfterMs > 0).toBe(!d.allowed);
        }),
        { numRuns: 25 },
      );
    },
  );

  it(
    'two batches waiting on one locked row lock their other rows in key order: no deadlock once it is free',
    { timeout: T },
    async () => {
      const p = fresh();
      const rule: RateLimitRule = { algorithm: 'gcra', limit: 4, windowMs: FOREVER };
      const keys = ['0', '1', '2', '3', '4', '5', '6'].map((k) => `${p}${k}`);
      const middle = keys[3]!;
      await storeA.consume(middle, rule, 1);
      const blocker = new pg.Client({ connectionString: pgTestUrl() });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM "${schema.schema}".rate_limits WHERE key = $1 FOR UPDATE`, [
          middle,
        ]);
        const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
          .pid;
        // One store asks in ascending order, the other in descending: rows locked in the order asked would
        // leave each statement holding the rows the other needs once the middle one is free.
        const fromA = Promise.all(keys.map((k) => storeA.consume(k, rule, 1)));
        const fromB = Promise.all([...keys].reverse().map((k) => storeB.consume(k, rule, 1)));
        // Both statements wait, directly or not, on the blocker's lock.
        await expect
          .poll(
            async () => {
              const waiting = await pgExec(
                `SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE wait_event_type = 'Lock'`,
              );
              const rows = waiting.rows as { pid: number; blockers: number[] }[];
              const behind = new Set<number>([blockerPid]);
              for (let grew = true; grew;) {
                grew = false;
                for (const r of rows) {
                  if (!behind.has(r.pid) && r.blockers.some((b) => behind.has(b))) {
                    behind.add(r.pid);
                    grew = true;
                  }
                }
              }
              return behind.size - 1;
            },
            { timeout: 20_000, interval: 20 },
          )
          .toBe(2);
        await blocker.query('COMMIT');
        const [a, b] = await Promise.all([fromA, fromB]);
        expect(a.map((d) => d.allowed)).toEqual(keys.map(() => true));
        expect(b.map((d) => d.allowed)).toEqual(keys.map(() => true));
        for (const [i, key] of keys.entries()) {
          // Two units each (one for the middle key before), in some order.
          const used = key === middle ? 3 : 2;
          expect([a[i]!.remaining, b[keys.length - 1 - i]!.remaining].sort()).toEqual(
            [4 - used, 4 - used + 1].sort(),
          );
        }
      } finally {
        await blocker.end();
      }
    },
  );

  it(
    'two stores on two pools deciding overlapping keys concurrently, in opposite orders, never over-admit (property)',
    { timeout: T },
    async () => {
      const limit = 3;
      const rule: RateLimitRule = { algorithm: 'fixed_window', limit, windowMs: FOREVER };
      const keys = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 120 });
      await fc.assert(
        fc.asyncProperty(keys, keys, async (a, b) => {
          const p = fresh();
          // Ascending on one side, descending on the other: unsorted, the two statements would lock their
          // shared rows in opposite orders. Two waves: the first inserts rows, the second updates them.
          const asked = [[...a].sort((x, y) => x - y), [...b].sort((x, y) => y - x)] as const;
          const results: RateLimitDecision[][] = [];
          for (let wave = 0; wave < 2; wave++) {
            const [fromA, fromB] = await Promise.all([
              Promise.all(asked[0].map((k) => storeA.consume(`${p}${String(k)}`, rule, 1))),
              Promise.all(asked[1].map((k) => storeB.consume(`${p}${String(k)}`, rule, 1))),
            ]);
            results.push(fromA, fromB);
          }
          const requests = new Map<number, number>();
          const admitted = new Map<number, number[]>();
          const all = [...asked[0], ...asked[1], ...asked[0], ...asked[1]];
          const decisions = results.flat();
          for (const [i, k] of all.entries()) {
            requests.set(k, (requests.get(k) ?? 0) + 1);
            const d = decisions[i]!;
            if (d.allowed) admitted.set(k, [...(admitted.get(k) ?? []), d.remaining]);
          }
          for (const [k, count] of requests) {
            // Exactly min(limit, requests) admitted, each with its own remaining count.
            expect((admitted.get(k) ?? []).sort()).toEqual(
              Array.from({ length: Math.min(limit, count) }, (_, i) => i + limit - Math.min(limit, count)),
            );
          }
        }),
        { numRuns: 20 },
      );
    },
  );

  it(
    'a same-turn burst of 50 distinct keys is one statement; 100 are two; a lone decision is the single-key statement',
    {
      timeout: T,
    },
    async () => {
      const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 7, windowMs: FOREVER };
      const spy = vi.spyOn(poolA, 'query');
      try {
        const p = fresh();
        const keys = Array.from({ length: 50 }, (_, i) => `${p}${String(i).padStart(2, '0')}`);
        const decisions = await Promise.all(keys.map((k) => storeA.consume(k, rule, 1)));
        expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual(keys.map(() => [true, 6]));
        expect(statementCalls(spy)).toEqual([{ name: 'fnd_ratelimit_consume_many_fixed_window', keys }]);
        expect(await storedKeys(p)).toEqual(keys);

        spy.mockClear();
        const q = fresh();
        const hundred = Array.from({ length: 100 }, (_, i) => `${q}${String(i)}`);
        const more = await Promise.all(hundred.map((k) => storeA.consume(k, rule, 2)));
        expect(more.map((d) => [d.allowed, d.remaining])).toEqual(hundred.map(() => [true, 5]));
        expect(statementCalls(spy)).toEqual([
          { name: 'fnd_ratelimit_consume_many_fixed_window', keys: hundred.slice(0, 64) },
          { name: 'fnd_ratelimit_consume_many_fixed_window', keys: hundred.slice(64) },
        ]);

        spy.mockClear();
        const lone = await storeA.consume(`${q}0`, rule, 1);
        expect([lone.allowed, lone.remaining]).toEqual([true, 4]);
        expect(statementCalls(spy)).toEqual([{ name: 'fnd_ratelimit_consume_fixed_window', keys: `${q}0` }]);
      } finally {
        spy.mockRestore();
      }
    },
  );

  it(
    'statuses asked together are one SELECT per rule (repeats answered alike, nothing written); a limiter listing is two statements',
    { timeout: T },
    async () => {
      const started = Date.now();
      const rule: RateLimitRule = { algorithm: 'sliding_window', limit: 5, windowMs: FOREVER };
      const other: RateLimitRule = { algorithm: 'gcra', limit: 3, windowMs: FOREVER };
      const p = fresh();
      const keys = Array.from({ length: 30 }, (_, i) => `${p}${String(i).padStart(2, '0')}`);
      // Key i has i % 4 units taken; a quarter of the keys have no row.
      for (const [i, k] of keys.entries()) for (let u = 0; u < i % 4; u++) await storeA.consume(k, rule, 1);
      const sequential: RateLimitDecision[] = [];
      for (const k of keys) sequential.push(await storeA.status(k, rule));
      expect(sequential.map((d) => d.remaining)).toEqual(keys.map((_, i) => 5 - (i % 4)));
      const spy = vi.spyOn(poolA, 'query');
      try {
        const together = await Promise.all([
          ...keys.map((k) => storeA.status(k, rule)),
          storeA.status(keys[3]!, rule),
          storeA.status(keys[0]!, other),
        ]);
        expectSameDecisions(together.slice(0, 30), sequential, Date.now() - started + 1);
        expect(together[30]).toEqual(together[3]);
        expect(together[31]).toMatchObject({ allowed: true, remaining: 3, limit: 3 });
        const calls = statementCalls(spy, 'fnd_ratelimit_status').sort((a, b) =>
          a.name.localeCompare(b.name),
        );
        expect(calls).toEqual([
          { name: 'fnd_ratelimit_status_gcra', keys: keys[0] },
          { name: 'fnd_ratelimit_status_many_sliding_window', keys: [...keys, keys[3]] },
        ]);
        // Reads only: still no row for the keys that never took a unit.
        expect(await storedKeys(p)).toEqual(keys.filter((_, i) => i % 4 > 0));

        // An operator's listing of a limiter: its keys, then all their statuses in one SELECT.
        const q = fresh();
        const limiter = new RateLimiter({ name: q.slice(0, -1), rule, store: storeA });
        const owned = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`);
        await Promise.all(owned.map((k) => limiter.consume(k)));
        spy.mockClear();
        const listed = await limiter.keys(20);
        expect(listed.map((entry) => [entry.key, entry.decision.remaining])).toEqual(
          owned.map((k) => [k, 4]),
        );
        expect(statementCalls(spy, 'fnd_ratelimit_').map((c) => c.name)).toEqual([
          'fnd_ratelimit_keys',
          'fnd_ratelimit_status_many_sliding_window',
        ]);
      } finally {
        spy.mockRestore();
      }
    },
  );

  it('keys of any characters travel in the batch array unchanged', { timeout: T }, async () => {
    const p = fresh();
    const rule: RateLimitRule = { algorithm: 'sliding_window', limit: 2, windowMs: FOREVER };
    const odd = [
      'a,b',
      '"quoted"',
      'back\\slash',
      '{braces}',
      ' spaced ',
      'NULL',
      "it's",
      'ünï😀',
      'x'.repeat(500),
    ];
    const keys = odd.map((k) => p + k);
    const spy = vi.spyOn(poolA, 'query');
    try {
      const first = await Promise.all(keys.map((k) => storeA.consume(k, rule, 1)));
      const second = await Promise.all(keys.map((k) => storeA.consume(k, rule, 1)));
      expect(first.map((d) => [d.allowed, d.remaining])).toEqual(keys.map(() => [true, 1]));
      expect(second.map((d) => [d.allowed, d.remaining])).toEqual(keys.map(() => [true, 0]));
      expect(statementCalls(spy).map((c) => c.name)).toEqual([
        'fnd_ratelimit_consume_many_sliding_window',
        'fnd_ratelimit_consume_many_sliding_window',
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(await storedKeys(p)).toEqual([...keys].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1)));
  });

  it(
    'two keys that differ only in lone surrogates are one row: never together in a statement',
    { timeout: T },
    async () => {
      const p = fresh();
      const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 3, windowMs: FOREVER };
      const decisions = await Promise.all(
        [`${p}x\uD800`, `${p}x\uDFFF`, `${p}y`, `${p}x\uD800`].map((k) => storeA.consume(k, rule, 1)),
      );
      expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 2],
        [true, 0],
      ]);
      expect(await storedKeys(p)).toEqual([`${p}x\uFFFD`, `${p}y`]);
    },
  );

  it(
    'a failed statement fails each of its callers with the single statement error and applies nothing',
    { timeout: T },
    async () => {
      const p = fresh();
      const rule: RateLimitRule = { algorithm: 'gcra', limit: 5, windowMs: FOREVER };
      const other: RateLimitRule = { algorithm: 'fixed_window', limit: 5, windowMs: FOREVER };
      await storeA.consume(`${p}b`, rule, 1);
      const lone = await expectCode(storeA.consume(`${p}:boom`, rule, 1), 'FND_STORAGE_QUERY_FAILED');
      const batch = [`${p}a`, `${p}b`, `${p}:boom`, `${p}c`].map((k) => storeA.consume(k, rule, 1));
      const elsewhere = storeA.consume(`${p}d`, other, 1);
      const errors = await Promise.all(batch.map((d) => expectCode(d, 'FND_STORAGE_QUERY_FAILED')));
      for (const e of errors) {
        expect(e).toBe(errors[0]);
        expect(e.message).toBe(lone.message);
        expect(e.context).toEqual(lone.context);
      }
      // Another statement of the same turn is not affected.
      expect((await elsewhere).allowed).toBe(true);
      // Nothing of the failed statement was applied: b keeps its one unit, a and c have no row.
      expect(await storedKeys(p)).toEqual([`${p}b`, `${p}d`]);
      expect((await storeA.status(`${p}b`, rule)).remaining).toBe(4);
      expect((await storeA.consume(`${p}a`, rule, 1)).remaining).toBe(4);
    },
  );

  it(
    'garbage input in a busy turn is refused before any statement, and the rest is decided',
    { timeout: T },
    async () => {
      const p = fresh();
      const rule: RateLimitRule = { algorithm: 'token_bucket', limit: 4, windowMs: FOREVER };
      const spy = vi.spyOn(poolA, 'query');
      try {
        const good = [`${p}x`, `${p}y`, `${p}z`].map((k) => storeA.consume(k, rule, 1));
        const bad = [
          storeA.consume('', rule, 1),
          storeA.consume(`${p}nul\0`, rule, 1),
          storeA.consume(
            `${p}w`,
            { algorithm: 'leaky' as RateLimitAlgorithm, limit: 4, windowMs: FOREVER },
            1,
          ),
          storeA.consume(`${p}w`, { ...rule, limit: 0 }, 1),
          storeA.consume(`${p}w`, rule, -1),
          storeA.consume(`${p}w`, rule, 1.5),
          storeA.consume(`${p}w`, rule, 5),
        ];
        for (const b of bad) await expectCode(b, 'FND_PROTECT_INVALID_POLICY');
        expect((await Promise.all(good)).map((d) => [d.allowed, d.remaining])).toEqual([
          [true, 3],
          [true, 3],
          [true, 3],
        ]);
        expect(statementCalls(spy)).toEqual([
          { name: 'fnd_ratelimit_consume_many_token_bucket', keys: [`${p}x`, `${p}y`, `${p}z`] },
        ]);
        expect(await storedKeys(p)).toEqual([`${p}x`, `${p}y`, `${p}z`]);
      } finally {
        spy.mockRestore();
      }
    },
  );
});
