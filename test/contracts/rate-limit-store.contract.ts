/**
 * The rate limit store contract: one suite every `RateLimitStore` passes (memory, Redis, PostgreSQL). Each
 * algorithm admits exactly its capacity and refuses beyond it recording nothing; `status` and refusals write
 * nothing; `reset` brings the allowance back; keys are independent; concurrent decisions on one key (and,
 * where the store is shared, from another store object as another process would have) never admit more
 * than the limit; garbage keys, rules and unit counts are refused with `FND_PROTECT_INVALID_POLICY` with the
 * state intact; a refused key is admitted again once time passes.
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

/**
 * A store under test, on a fresh backing. `remote` makes another store object on the same backing (another
 * connection, as another process would have); absent for memory.
 */
export interface RateLimitStoreFixture {
  readonly store: RateLimitStore;
  readonly remote?: () => Promise<RateLimitStore>;
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
        await expect
          .poll(async () => (await store.consume(key, r, 1)).allowed, { timeout: 10_000, interval: 20 })
          .toBe(true);
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

    it('keys are case- and byte-exact (unicode, separators)', async () => {
      const r = rule('fixed_window', 1);
      const base = freshKey();
      const keys = [`${base}:A`, `${base}:a`, `${base}:é`, `${base}:e\u0301`, `${base}:*`, `${base}:?`];
      for (const k of keys) expect((await store.consume(k, r, 1)).allowed).toBe(true);
      for (const k of keys) expect((await store.consume(k, r, 1)).allowed).toBe(false);
    });
  });
}
