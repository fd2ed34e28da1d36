/**
 * The rate limit store contract: one suite every `RateLimitStore` passes (memory, Redis, PostgreSQL). Each
 * algorithm admits exactly its capacity and refuses beyond it recording nothing; `status` and refusals write
 * nothing; `reset` brings the allowance back; keys are independent; concurrent decisions on one key (and,
 * where the store is shared, from another store object as another process would have) never admit more
 * than the limit; garbage keys, rules and unit counts are refused with `FND_PROTECT_INVALID_POLICY` with the
 * state intact; a refused key is admitted again once time passes. Holds (`hold`) refuse every decision on a
 * key under any rule until they end, then the key is admitted exactly as before; holds only extend; `reset`
 * clears them; `keys` lists exactly the keys holding state or a hold (sorted, by prefix, bounded).
 *
 * Time passes through the fixture's `advance` when it has one (the memory store on a fake clock); on the
 * real servers the cases that need time poll until it has passed.
 *
 * Windows are 10^12 ms long unless a test needs time to pass: the aligned window boundaries are then years
 * apart and a refill during a test is far below one unit, so the real servers' clocks cannot make a case flaky.
 *
 * @example
 * ```ts
 * rateLimitStoreContract('redis', async () => {
 *   const prefix = redisTestPrefix();
 *   const stores: RateLimitStore[] = [];
 *   const make = () => { const s = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix }); stores.push(s); return s; };
 *   return { store: make(), remote: async () => make(), cleanup: async () => { for (const s of stores) await s.close(); } };
 * });
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitRule,
  RateLimitStore,
} from '../../src/protection/rate-limit/types.js';
import { expectCode } from './event-store/fixture.js';

const T = 30_000;
/** Long enough that nothing refills and no aligned window ends during a test. */
const FOREVER = 1e12;
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token_bucket', 'gcra', 'sliding_window', 'fixed_window'];
/** A hold long enough that the checks made during it finish on a slow server, short enough to wait out. */
const HOLD = 1500;

/**
 * A store under test, on a fresh backing. `remote` makes another store object on the same backing (another
 * connection, as another process would have); absent for memory.
 */
export interface RateLimitStoreFixture {
  readonly store: RateLimitStore;
  readonly remote?: () => Promise<RateLimitStore>;
  /** Moves the store's (fake) clock forward by `ms`; absent when the store runs on real time. */
  readonly advance?: (ms: number) => void;
  readonly cleanup: () => Promise<void>;
}

/** Makes a fresh fixture for one test. */
export type MakeRateLimitStoreFixture = () => Promise<RateLimitStoreFixture>;

/** Options of {@link rateLimitStoreContract}. */
export interface RateLimitStoreContractOptions {
  /** fast-check runs of the property (default 50). */
  readonly propertyRuns?: number;
}

function freshKey(): string {
  return `k:${randomBytes(5).toString('hex')}`;
}

function rule(
  algorithm: RateLimitAlgorithm,
  limit: number,
  windowMs = FOREVER,
  burst?: number,
): RateLimitRule {
  return burst === undefined ? { algorithm, limit, windowMs } : { algorithm, limit, windowMs, burst };
}

function brief(d: RateLimitDecision): Pick<RateLimitDecision, 'allowed' | 'remaining'> {
  return { allowed: d.allowed, remaining: d.remaining };
}

/** Runs the rate limit store contract against the stores `make` builds. */
export function rateLimitStoreContract(
  name: string,
  make: MakeRateLimitStoreFixture,
  options: RateLimitStoreContractOptions = {},
): void {
  const propertyRuns = options.propertyRuns ?? 50;

  describe(`rate limit store contract: ${name}`, { timeout: T }, () => {
    let fixture: RateLimitStoreFixture;
    let store: RateLimitStore;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Lets `ms` pass (at once on a fake clock, else polling): then `probe` holds. */
    async function afterTime(ms: number, probe: () => Promise<boolean>): Promise<void> {
      if (fixture.advance !== undefined) {
        fixture.advance(ms);
        expect(await probe()).toBe(true);
        return;
      }
      await expect.poll(probe, { timeout: 15_000, interval: 20 }).toBe(true);
    }

    /** Checks a decision on a held key: refused, nothing left, a wait within the hold (exact on a fake clock). */
    function expectHeld(d: RateLimitDecision, holdMs: number): void {
      expect(brief(d)).toEqual({ allowed: false, remaining: 0 });
      expect(d.retryAfterMs).toBeGreaterThan(0);
      expect(d.retryAfterMs).toBeLessThanOrEqual(holdMs);
      if (fixture.advance !== undefined) expect(d.retryAfterMs).toBe(holdMs);
      expect(d.resetMs).toBeGreaterThanOrEqual(d.retryAfterMs);
    }

    describe.each(ALGORITHMS)('%s', (algorithm) => {
      it('admits exactly the limit one unit at a time, then refuses with a retry-after and records nothing', async () => {
        const key = freshKey();
        const r = rule(algorithm, 5);
        for (let i = 0; i < 5; i++) {
          const d = await store.consume(key, r, 1);
          expect(brief(d)).toEqual({ allowed: true, remaining: 4 - i });
          expect(d.retryAfterMs).toBe(0);
          expect(d.limit).toBe(5);
          expect(d.resetMs).toBeGreaterThan(0);
        }
        for (let i = 0; i < 3; i++) {
          const refused = await store.consume(key, r, 1);
          expect(brief(refused)).toEqual({ allowed: false, remaining: 0 });
          expect(refused.retryAfterMs).toBeGreaterThan(0);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * FOREVER);
          expect(refused.resetMs).toBeGreaterThanOrEqual(refused.retryAfterMs);
        }
        expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: 0 });
      });

      it('admits several units at once only when they all fit', async () => {
        const key = freshKey();
        const r = rule(algorithm, 5);
        expect(brief(await store.consume(key, r, 3))).toEqual({ allowed: true, remaining: 2 });
        expect(brief(await store.consume(key, r, 3))).toEqual({ allowed: false, remaining: 2 });
        expect(brief(await store.consume(key, r, 2))).toEqual({ allowed: true, remaining: 0 });
        expect(brief(await store.consume(key, r, 0))).toEqual({ allowed: true, remaining: 0 });
      });

      it('status of an unknown key is the full allowance and writes nothing', async () => {
        const key = freshKey();
        const r = rule(algorithm, 4);
        const s = await store.status(key, r);
        expect(s).toEqual({ allowed: true, remaining: 4, retryAfterMs: 0, resetMs: 0, limit: 4 });
        expect(await store.status(key, r)).toEqual(s);
        expect(brief(await store.consume(key, r, 1))).toEqual({ allowed: true, remaining: 3 });
        expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: 3 });
      });

      it('reset gives the full allowance back; other keys keep theirs', async () => {
        const [a, b] = [freshKey(), freshKey()];
        const r = rule(algorithm, 2);
        await store.consume(a, r, 2);
        await store.consume(b, r, 1);
        expect((await store.consume(a, r, 1)).allowed).toBe(false);
        await store.reset(a);
        expect(await store.status(a, r)).toEqual({
          allowed: true,
          remaining: 2,
          retryAfterMs: 0,
          resetMs: 0,
          limit: 2,
        });
        expect(brief(await store.status(b, r))).toEqual({ allowed: true, remaining: 1 });
        await store.reset(freshKey());
      });

      it('never admits more than the limit among concurrent decisions on one key', async () => {
        const key = freshKey();
        const r = rule(algorithm, 20);
        const stores = [store];
        if (fixture.remote !== undefined) stores.push(await fixture.remote(), await fixture.remote());
        const decisions = await Promise.all(
          Array.from({ length: 60 }, (_, i) => (stores[i % stores.length] ?? store).consume(key, r, 1)),
        );
        expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
        expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: 0 });
      });

      it(
        'matches a counter of capacity for any sequence of unit counts while no time passes (property)',
        { timeout: 120_000 },
        async () => {
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 1, max: 12 }),
              fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 12 }),
              async (limit, counts) => {
                const key = freshKey();
                const r = rule(algorithm, limit);
                let used = 0;
                for (const raw of counts) {
                  const n = Math.min(raw, limit);
                  const d = await store.consume(key, r, n);
                  const fits = used + n <= limit;
                  if (fits) used += n;
                  expect(brief(d)).toEqual({ allowed: fits, remaining: limit - used });
                  expect(d.retryAfterMs === 0).toBe(fits);
                }
                expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: limit - used });
              },
            ),
            { numRuns: propertyRuns },
          );
        },
      );

      it('admits a refused key again once its retry-after has passed', async () => {
        const key = freshKey();
        const r = rule(algorithm, 1, 200);
        let refused: RateLimitDecision | undefined;
        await expect
          .poll(
            async () => {
              const d = await store.consume(key, r, 1);
              if (!d.allowed) refused = d;
              return refused !== undefined;
            },
            { timeout: 10_000, interval: 5 },
          )
          .toBe(true);
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(400);
        await afterTime(refused?.retryAfterMs ?? 0, async () => (await store.consume(key, r, 1)).allowed);
      });

      it('a hold refuses every decision under any rule, recording nothing, then the key is admitted exactly as before', async () => {
        const key = freshKey();
        const r = rule(algorithm, 5);
        expect(brief(await store.consume(key, r, 2))).toEqual({ allowed: true, remaining: 3 });
        await store.hold(key, HOLD);
        for (const n of [1, 3, 0]) expectHeld(await store.consume(key, r, n), HOLD);
        expectHeld(await store.status(key, r), HOLD);
        const other = algorithm === 'gcra' ? 'fixed_window' : 'gcra';
        expectHeld(await store.consume(key, rule(other, 9), 1), HOLD);
        expectHeld(await store.status(key, rule(algorithm, 5, FOREVER / 2)), HOLD);
        // 4 units do not fit anyway: the algorithm's own wait (years) is longer than the hold's.
        const beyond = await store.consume(key, r, 4);
        expect(brief(beyond)).toEqual({ allowed: false, remaining: 0 });
        expect(beyond.retryAfterMs).toBeGreaterThan(HOLD);
        await afterTime(HOLD, async () => (await store.consume(key, r, 1)).allowed);
        expect(await store.status(key, r)).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
        expect(brief(await store.consume(key, r, 2))).toEqual({ allowed: true, remaining: 0 });
        expect((await store.consume(key, r, 1)).allowed).toBe(false);
      });
    });

    it('keeps the state of a key across a rule change with the same algorithm and window, else starts afresh', async () => {
      for (const algorithm of ALGORITHMS) {
        const key = freshKey();
        await store.consume(key, rule(algorithm, 5), 3);
        // The units taken count against the new limit (a token bucket keeps its tokens, capped by capacity).
        const kept = algorithm === 'token_bucket' ? 2 : 7;
        expect(brief(await store.status(key, rule(algorithm, 10)))).toEqual({
          allowed: true,
          remaining: kept,
        });
        expect(brief(await store.status(key, rule(algorithm, 10, FOREVER / 2)))).toEqual({
          allowed: true,
          remaining: 10,
        });
        const other = algorithm === 'gcra' ? 'fixed_window' : 'gcra';
        expect(brief(await store.status(key, rule(other, 5)))).toEqual({ allowed: true, remaining: 5 });
        expect(brief(await store.status(key, rule(algorithm, 5)))).toEqual({ allowed: true, remaining: 2 });
      }
    });

    it('token bucket and GCRA admit their burst, beyond the limit per window', async () => {
      for (const algorithm of ['token_bucket', 'gcra'] as const) {
        const key = freshKey();
        const r = rule(algorithm, 2, FOREVER, 7);
        expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: 7 });
        expect(brief(await store.consume(key, r, 7))).toEqual({ allowed: true, remaining: 0 });
        const refused = await store.consume(key, r, 1);
        expect(refused.allowed).toBe(false);
        // One unit comes back every windowMs / limit.
        expect(refused.retryAfterMs).toBeGreaterThan(FOREVER / 2 - 60_000);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(FOREVER / 2);
      }
    });

    it('refuses garbage keys, rules and unit counts with FND_PROTECT_INVALID_POLICY, state intact', async () => {
      const key = freshKey();
      const good = rule('gcra', 3);
      await store.consume(key, good, 1);
      const garbage: Array<[unknown, unknown, unknown]> = [
        ['', good, 1],
        ['a\0b', good, 1],
        ['x'.repeat(513), good, 1],
        [42, good, 1],
        [key, null, 1],
        [key, { ...good, algorithm: 'leaky' }, 1],
        [key, { ...good, limit: 0 }, 1],
        [key, { ...good, limit: 1.5 }, 1],
        [key, { ...good, windowMs: Number.NaN }, 1],
        [key, { ...good, windowMs: -1 }, 1],
        [key, { ...good, burst: 0 }, 1],
        [key, { ...good, windowMs: 2 ** 52 }, 1],
        [key, good, -1],
        [key, good, 0.5],
        [key, good, 4],
        [key, good, Number.POSITIVE_INFINITY],
        [key, good, '1'],
      ];
      for (const [k, r, n] of garbage) {
        await expectCode(
          store.consume(k as string, r as RateLimitRule, n as number),
          'FND_PROTECT_INVALID_POLICY',
        );
      }
      await expectCode(store.status(key, { ...good, limit: -3 }), 'FND_PROTECT_INVALID_POLICY');
      await expectCode(store.reset(''), 'FND_PROTECT_INVALID_POLICY');
      expect(brief(await store.status(key, good))).toEqual({ allowed: true, remaining: 2 });
    });

    it('holds only extend, apply to a key without state, and reset clears them', async () => {
      const key = freshKey();
      const r = rule('gcra', 3);
      await store.hold(key, 600_000);
      await store.hold(key, 1000);
      const long = await store.consume(key, r, 1);
      expectHeld(long, 600_000);
      expect(long.retryAfterMs).toBeGreaterThan(590_000);
      await store.hold(key, 700_000);
      const longer = await store.status(key, r);
      expectHeld(longer, 700_000);
      expect(longer.retryAfterMs).toBeGreaterThan(690_000);
      expect(longer.resetMs).toBe(longer.retryAfterMs);
      await store.reset(key);
      expect(await store.status(key, r)).toEqual({
        allowed: true,
        remaining: 3,
        retryAfterMs: 0,
        resetMs: 0,
        limit: 3,
      });
      expect(brief(await store.consume(key, r, 1))).toEqual({ allowed: true, remaining: 2 });
      // A hold on a key with state keeps the state: once reset is not called, the units taken still count.
      await store.hold(key, 1);
      await afterTime(5, async () => (await store.status(key, r)).allowed);
      expect(brief(await store.status(key, r))).toEqual({ allowed: true, remaining: 2 });
    });

    it('refuses garbage hold lengths with FND_PROTECT_INVALID_POLICY naming ms, state intact', async () => {
      const key = freshKey();
      const good = rule('token_bucket', 3);
      await store.consume(key, good, 1);
      for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 86_400_001, '1000', null, undefined]) {
        const error = await expectCode(store.hold(key, ms as number), 'FND_PROTECT_INVALID_POLICY');
        expect(error.context).toMatchObject({ option: 'ms' });
      }
      const badKey = await expectCode(store.hold('', 1000), 'FND_PROTECT_INVALID_POLICY');
      expect(badKey.context).toMatchObject({ option: 'key' });
      expect(await store.status(key, good)).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
      // The longest hold is accepted.
      await store.hold(key, 86_400_000);
      expectHeld(await store.status(key, good), 86_400_000);
      expect(await store.keys(10)).toEqual([key]);
    });

    it('keys lists exactly the keys with state or a hold, sorted, by prefix (glob characters literal), bounded', async () => {
      const base = freshKey();
      const r = rule('fixed_window', 2);
      const stated = ['b', 'a', 'c:2', 'c:1', 'c*', 'c?', 'c[1]', 'é'].map((s) => `${base}:${s}`);
      for (const k of stated) await store.consume(k, r, 1);
      await store.status(`${base}:status-only`, r);
      await store.consume(`${base}:zero`, r, 0);
      await store.consume(`${base}:refused`, rule('fixed_window', 1), 1);
      await store.consume(`${base}:refused`, rule('fixed_window', 1), 1);
      await store.hold(`${base}:held`, 600_000);
      const all = [...stated, `${base}:refused`, `${base}:held`].sort();
      expect(await store.keys(1000)).toEqual(all);
      expect(await store.keys(1000, `${base}:`)).toEqual(all);
      expect(await store.keys(1000, `${base}:c`)).toEqual(
        [`${base}:c*`, `${base}:c:1`, `${base}:c:2`, `${base}:c?`, `${base}:c[1]`].sort(),
      );
      expect(await store.keys(1000, `${base}:c*`)).toEqual([`${base}:c*`]);
      expect(await store.keys(1000, `${base}:c?`)).toEqual([`${base}:c?`]);
      expect(await store.keys(1000, `${base}:c[`)).toEqual([`${base}:c[1]`]);
      expect(await store.keys(1000, `${base}:x`)).toEqual([]);
      expect(await store.keys(1000, 'other')).toEqual([]);
      const two = await store.keys(2, `${base}:`);
      expect(two).toHaveLength(2);
      expect([...two].sort()).toEqual(two);
      for (const k of two) expect(all).toContain(k);
      // Redis lists the first keys its SCAN meets; the SQL and memory stores the first in order.
      if (store.kind !== 'redis') expect(two).toEqual(all.slice(0, 2));
      await store.reset(`${base}:a`);
      expect(await store.keys(1000, `${base}:`)).toEqual(all.filter((k) => k !== `${base}:a`));
      for (const [limit, prefix, option] of [
        [0, '', 'limit'],
        [1001, '', 'limit'],
        [1.5, '', 'limit'],
        ['10', '', 'limit'],
        [10, 'a\0', 'prefix'],
        [10, 42, 'prefix'],
        [10, 'p'.repeat(513), 'prefix'],
      ] as const) {
        const error = await expectCode(
          store.keys(limit as number, prefix as string),
          'FND_PROTECT_INVALID_POLICY',
        );
        expect(error.context).toMatchObject({ option });
      }
      expect(await store.keys(1000, `${base}:`)).toEqual(all.filter((k) => k !== `${base}:a`));
    });

    it('keys drops a key once its state has lapsed and its hold is over', async () => {
      const base = freshKey();
      await store.consume(`${base}:short`, rule('token_bucket', 1, 300), 1);
      await store.hold(`${base}:held`, 300);
      await store.consume(`${base}:long`, rule('gcra', 1), 1);
      expect(await store.keys(10, base)).toEqual([`${base}:held`, `${base}:long`, `${base}:short`]);
      await afterTime(300, async () => (await store.keys(10, base)).join() === [`${base}:long`].join());
    });

    it('keys are case- and byte-exact (unicode, separators)', async () => {
      const r = rule('fixed_window', 1);
      const base = freshKey();
      const keys = [`${base}:A`, `${base}:a`, `${base}:é`, `${base}:e\u0301`, `${base}:*`, `${base}:?`];
      for (const k of keys) expect((await store.consume(k, r, 1)).allowed).toBe(true);
      for (const k of keys) expect((await store.consume(k, r, 1)).allowed).toBe(false);
    });
  });
}
