import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { MemoryRateLimitStore } from './memory-store.js';
import type { RateLimitAlgorithm, RateLimitRule } from './types.js';

const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token_bucket', 'gcra', 'sliding_window', 'fixed_window'];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FoundationError ? error.code : 'not a FoundationError';
  }
  return undefined;
}

describe('MemoryRateLimitStore', () => {
  it.each(ALGORITHMS)(
    '%s: admits the limit, refuses beyond it recording nothing, reset gives it back',
    async (algorithm) => {
      const clock = new FakeClock();
      const store = new MemoryRateLimitStore({ clock });
      const rule: RateLimitRule = { algorithm, limit: 5, windowMs: 1000 };
      for (let i = 0; i < 5; i += 1) expect(store.consumeSync('k', rule, 1).allowed).toBe(true);
      const refused = store.consumeSync('k', rule, 1);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(store.statusSync('k', rule)).toMatchObject({ allowed: true, remaining: 0 });
      expect(store.statusSync('k', rule, 1).retryAfterMs).toBe(refused.retryAfterMs);
      expect((await store.consume('other', rule, 5)).allowed).toBe(true);
      await store.reset('k');
      expect((await store.status('k', rule)).remaining).toBe(5);
      clock.advance(refused.retryAfterMs);
      expect(store.consumeSync('other', rule, 1).allowed).toBe(true);
    },
  );

  it('forgets a lapsed state lazily and never gives allowance back when the clock steps back', () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock });
    const rule: RateLimitRule = { algorithm: 'token_bucket', limit: 2, windowMs: 100 };
    store.consumeSync('k', rule, 2);
    clock.setWallTime(clock.now() - 10_000);
    expect(store.consumeSync('k', rule, 1).allowed).toBe(false);
    clock.setWallTime(clock.now() + 10_100);
    expect(store.consumeSync('k', rule, 2).allowed).toBe(true);
    expect(store.size).toBe(1);
  });

  it('keeps at most maxKeys, evicting the least recently used (second chance for keys used since)', () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock, maxKeys: 3 });
    const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 10, windowMs: 60_000 };
    store.consumeSync('a', rule, 1);
    store.consumeSync('b', rule, 1);
    store.consumeSync('c', rule, 1);
    store.consumeSync('a', rule, 1); // a used again: b is now the least recently used
    store.consumeSync('d', rule, 1);
    expect(store.size).toBe(3);
    expect(store.statusSync('a', rule).remaining).toBe(8);
    expect(store.statusSync('b', rule).remaining).toBe(10); // evicted
    expect(store.statusSync('c', rule).remaining).toBe(9);
    expect(store.statusSync('d', rule).remaining).toBe(9);
  });

  it('evicts a lapsed key before a recently used one', () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock, maxKeys: 2 });
    const short: RateLimitRule = { algorithm: 'gcra', limit: 1, windowMs: 10 };
    const long: RateLimitRule = { algorithm: 'gcra', limit: 1, windowMs: 60_000 };
    store.consumeSync('long', long, 1);
    store.consumeSync('short', short, 1);
    store.consumeSync('long', long, 0); // touched: would get a second chance
    store.statusSync('short', short); // touched too, but lapses
    clock.advance(10);
    store.consumeSync('new', long, 1);
    expect(store.size).toBe(2);
    expect(store.statusSync('long', long).remaining).toBe(0); // kept
    expect(store.statusSync('new', long).remaining).toBe(0);
  });

  it('property: the key bound always holds, whatever the sequence of keys and gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 200,
        }),
        (maxKeys, ops) => {
          const clock = new FakeClock();
          const bounded = new MemoryRateLimitStore({ clock, maxKeys });
          const rule: RateLimitRule = { algorithm: 'gcra', limit: 3, windowMs: 100 };
          for (const [k, gap] of ops) {
            clock.advance(gap);
            bounded.consumeSync(`k${String(k)}`, rule, 1);
            if (bounded.size > maxKeys) return false;
          }
          return true;
        },
      ),
    );
  });

  it('carries a key over a rule change with the same algorithm and window, starts afresh otherwise', () => {
    const store = new MemoryRateLimitStore({ clock: new FakeClock() });
    const ten: RateLimitRule = { algorithm: 'fixed_window', limit: 10, windowMs: 60_000 };
    store.consumeSync('k', ten, 8);
    expect(store.statusSync('k', { ...ten, limit: 9 }).remaining).toBe(1);
    expect(store.statusSync('k', { ...ten, windowMs: 30_000 }).remaining).toBe(10);
    expect(store.statusSync('k', { ...ten, algorithm: 'gcra' }).remaining).toBe(10);
  });

  it('refuses garbage keys, rules and unit counts with FND_PROTECT_INVALID_POLICY, state intact', () => {
    const store = new MemoryRateLimitStore({ clock: new FakeClock() });
    const rule: RateLimitRule = { algorithm: 'token_bucket', limit: 3, windowMs: 1000 };
    store.consumeSync('k', rule, 1);
    const bad: (() => unknown)[] = [
      () => store.consumeSync('', rule, 1),
      () => store.consumeSync('x'.repeat(513), rule, 1),
      () => store.consumeSync('a\0b', rule, 1),
      () => store.consumeSync(42 as unknown as string, rule, 1),
      () => store.consumeSync('k', { ...rule, algorithm: 'leaky' as RateLimitAlgorithm }, 1),
      () => store.consumeSync('k', { ...rule, limit: 0 }, 1),
      () => store.consumeSync('k', { ...rule, windowMs: 1.5 }, 1),
      () => store.consumeSync('k', { ...rule, burst: -1 }, 1),
      () => store.consumeSync('k', { ...rule, limit: 2 ** 40, windowMs: 2 ** 20 }, 1),
      () => store.consumeSync('k', null as unknown as RateLimitRule, 1),
      () => store.consumeSync('k', rule, -1),
      () => store.consumeSync('k', rule, 0.5),
      () => store.consumeSync('k', rule, 4),
      () => store.statusSync('k', rule, Number.NaN),
      () => {
        store.resetSync('');
      },
      () => new MemoryRateLimitStore({ maxKeys: 0 }),
    ];
    for (const fn of bad) expect(codeOf(fn)).toBe('FND_PROTECT_INVALID_POLICY');
    expect(store.statusSync('k', rule).remaining).toBe(2);
  });

  it('a hold-only key is an entry like any other: listed while it lasts, counted in maxKeys, swept once lapsed', () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock, maxKeys: 2 });
    const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 10, windowMs: 60_000 };
    store.holdSync('h', 1000);
    store.consumeSync('a', rule, 1);
    expect(store.keysSync(10)).toEqual(['a', 'h']);
    expect(store.keysSync(10, 'h')).toEqual(['h']);
    expect(store.statusSync('h', rule)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 1000,
      resetMs: 1000,
      limit: 10,
    });
    clock.advance(1000);
    expect(store.keysSync(10)).toEqual(['a']); // lapsed, not swept yet
    expect(store.size).toBe(2);
    expect(store.statusSync('h', rule)).toMatchObject({ allowed: true, remaining: 10 });
    store.consumeSync('b', rule, 1); // the lapsed hold goes first
    expect(store.size).toBe(2);
    expect(store.keysSync(10)).toEqual(['a', 'b']);
    expect(store.statusSync('a', rule).remaining).toBe(9);
  });

  it('a held decision waits for the larger of the hold and the algorithm (exact), and keeps the state', () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock });
    const rule: RateLimitRule = { algorithm: 'token_bucket', limit: 4, windowMs: 1000 }; // a unit per 250 ms
    store.consumeSync('k', rule, 4);
    store.holdSync('k', 200);
    expect(store.statusSync('k', rule, 2)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 500, // the bucket's own wait for 2 units
      resetMs: 1000,
      limit: 4,
    });
    store.holdSync('k', 800.2); // whole ms, rounded up
    expect(store.statusSync('k', rule, 2)).toMatchObject({ retryAfterMs: 801, resetMs: 1000 });
    expect(store.consumeSync('k', rule, 0)).toMatchObject({ allowed: false, retryAfterMs: 801 });
    clock.advance(800);
    expect(store.consumeSync('k', rule, 1)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    // 801 ms refilled 3.2 units; the refused decisions took none.
    expect(store.consumeSync('k', rule, 2)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('on the real system clock, decides on the coarse system time (never ahead of Date.now())', () => {
    const store = new MemoryRateLimitStore();
    const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 2, windowMs: 60_000 };
    const first = store.consumeSync('k', rule, 1);
    expect(first).toMatchObject({ allowed: true, remaining: 1, retryAfterMs: 0 });
    // The window ends at the next multiple of 60 s: within 60 s of the (coarse) time of the decision.
    expect(first.resetMs).toBeGreaterThan(0);
    expect(first.resetMs).toBeLessThanOrEqual(60_000);
    expect(store.consumeSync('k', rule, 1).allowed).toBe(true);
    const refused = store.consumeSync('k', rule, 1);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    store.holdSync('h', 5000);
    expect(store.statusSync('h', rule)).toMatchObject({ allowed: false, remaining: 0 });
    expect(store.keysSync(10)).toEqual(['h', 'k']);
  });

  it('the promise methods reject (never throw) on bad input', async () => {
    const store = new MemoryRateLimitStore();
    const rule: RateLimitRule = { algorithm: 'gcra', limit: 1, windowMs: 1000 };
    await expect(store.consume('', rule, 1)).rejects.toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY' });
    await expect(store.status('k', rule, 2)).rejects.toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY' });
    await expect(store.reset('')).rejects.toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY' });
    await expect(store.hold('k', -1)).rejects.toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY' });
    await expect(store.keys(0)).rejects.toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY' });
    await store.close();
    expect(store.closed).toBe(true);
  });
});
