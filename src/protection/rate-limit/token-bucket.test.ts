import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TokenBucketState, ceilDiv, decideTokenBucket, tokenBucketIdleAt } from './token-bucket.js';
import type { RateLimitRule } from './types.js';

const T0 = 1_700_000_000_000;

/** A rule and a run of (gap ms, units) requests. */
const scenario = fc.record({
  limit: fc.integer({ min: 1, max: 20 }),
  windowMs: fc.integer({ min: 1, max: 200 }),
  burst: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  start: fc.integer({ min: 0, max: 1_000_000 }),
  steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 32 })), {
    maxLength: 120,
  }),
});

describe('ceilDiv', () => {
  it('is the exact ceiling, also where the float quotient rounds', () => {
    expect(ceilDiv(0, 7)).toBe(0);
    expect(ceilDiv(14, 7)).toBe(2);
    expect(ceilDiv(15, 7)).toBe(3);
    expect(ceilDiv(2 ** 53 - 1, 3)).toBe(3002399751580331);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 12 }), (a, b) => {
        const q = ceilDiv(a, b);
        return q * b >= a && (q - 1) * b < a;
      }),
    );
  });
});

describe('token bucket', () => {
  const rule: RateLimitRule = { algorithm: 'token_bucket', limit: 10, windowMs: 1000 };

  it('starts full, refills limit per window, refuses with the exact wait', () => {
    let state: TokenBucketState | undefined;
    for (let i = 0; i < 10; i += 1) {
      const r = decideTokenBucket(state, rule, 1, T0);
      expect(r.decision.allowed).toBe(true);
      state = r.nextState;
    }
    const refused = decideTokenBucket(state, rule, 1, T0);
    expect(refused.decision).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 100,
      resetMs: 1000,
      limit: 10,
    });
    expect(decideTokenBucket(state, rule, 1, T0 + 99).decision.allowed).toBe(false);
    const later = decideTokenBucket(state, rule, 3, T0 + 300);
    expect(later.decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(decideTokenBucket(state, rule, 11, T0 + 5000).decision.retryAfterMs).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(tokenBucketIdleAt(later.nextState, rule)).toBe(T0 + 300 + 1000);
  });

  it('never goes back in time: a now before the state counts as the state time', () => {
    const first = decideTokenBucket(undefined, rule, 10, T0);
    expect(decideTokenBucket(first.nextState, rule, 1, T0 - 5000).decision.allowed).toBe(false);
  });

  it('property: any interval [a, b] admits at most burst + floor((b − a)·limit / windowMs)', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, burst, start, steps }) => {
        const rule: RateLimitRule = {
          algorithm: 'token_bucket',
          limit,
          windowMs,
          ...(burst === undefined ? {} : { burst }),
        };
        const capacity = burst ?? limit;
        let state: TokenBucketState | undefined;
        let now = T0 + start;
        const admitted: [number, number][] = [];
        for (const [gap, n] of steps) {
          now += gap;
          const r = decideTokenBucket(state, rule, n, now);
          state = r.nextState;
          if (r.decision.allowed && n > 0) admitted.push([now, n]);
        }
        for (let i = 0; i < admitted.length; i += 1) {
          let sum = 0;
          for (let j = i; j < admitted.length; j += 1) {
            const [t, n] = admitted[j] as [number, number];
            sum += n;
            const a = (admitted[i] as [number, number])[0];
            if (sum > capacity + Math.floor(((t - a) * limit) / windowMs)) return false;
          }
        }
        return true;
      }),
    );
  });

  it('property: retryAfterMs is exact — admitted at now + retryAfterMs, refused one ms earlier', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, burst, start, steps }) => {
        const rule: RateLimitRule = {
          algorithm: 'token_bucket',
          limit,
          windowMs,
          ...(burst === undefined ? {} : { burst }),
        };
        let state: TokenBucketState | undefined;
        let now = T0 + start;
        for (const [gap, n] of steps) {
          now += gap;
          const r = decideTokenBucket(state, rule, n, now);
          const { allowed, retryAfterMs, remaining } = r.decision;
          if (allowed) {
            if (retryAfterMs !== 0) return false;
          } else if (Number.isFinite(retryAfterMs)) {
            if (retryAfterMs < 1) return false;
            if (!decideTokenBucket(state, rule, n, now + retryAfterMs).decision.allowed) return false;
            if (decideTokenBucket(state, rule, n, now + retryAfterMs - 1).decision.allowed) return false;
          } else if (n <= (burst ?? limit)) return false;
          // remaining is the most that is admissible right now.
          const after = r.nextState;
          if (!decideTokenBucket(after, rule, remaining, now).decision.allowed) return false;
          if (decideTokenBucket(after, rule, remaining + 1, now).decision.allowed) return false;
          state = after;
        }
        return true;
      }),
    );
  });
});
