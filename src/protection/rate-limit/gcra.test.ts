import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GcraState, decideGcra, gcraIdleAt } from './gcra.js';
import { type TokenBucketState, decideTokenBucket } from './token-bucket.js';
import type { RateLimitRule } from './types.js';

const T0 = 1_700_000_000_000;

const scenario = fc.record({
  limit: fc.integer({ min: 1, max: 20 }),
  windowMs: fc.integer({ min: 1, max: 200 }),
  burst: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  start: fc.integer({ min: 0, max: 1_000_000 }),
  steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 32 })), {
    maxLength: 120,
  }),
});

describe('GCRA', () => {
  const rule: RateLimitRule = { algorithm: 'gcra', limit: 3, windowMs: 1000, burst: 2 };

  it('admits the burst, then one unit per emission interval (fractional interval, exact wait)', () => {
    let state: GcraState | undefined;
    for (let i = 0; i < 2; i += 1) {
      const r = decideGcra(state, rule, 1, T0);
      expect(r.decision.allowed).toBe(true);
      state = r.nextState;
    }
    const refused = decideGcra(state, rule, 1, T0);
    // T = 1000/3 ms: the next unit fits once 333.33… ms of debt drained → 334 ms.
    expect(refused.decision).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 334,
      resetMs: 667,
      limit: 3,
    });
    expect(decideGcra(state, rule, 1, T0 + 333).decision.allowed).toBe(false);
    const ok = decideGcra(state, rule, 1, T0 + 334);
    expect(ok.decision.allowed).toBe(true);
    expect(gcraIdleAt(ok.nextState, rule)).toBe(T0 + 1000);
    expect(decideGcra(undefined, rule, 3, T0).decision.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('property: decides exactly as a token bucket of capacity burst (same decisions, same figures)', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, burst, start, steps }) => {
        const base = { limit, windowMs, ...(burst === undefined ? {} : { burst }) };
        const g: RateLimitRule = { algorithm: 'gcra', ...base };
        const t: RateLimitRule = { algorithm: 'token_bucket', ...base };
        let gs: GcraState | undefined;
        let ts: TokenBucketState | undefined;
        let now = T0 + start;
        for (const [gap, n] of steps) {
          now += gap;
          const a = decideGcra(gs, g, n, now);
          const b = decideTokenBucket(ts, t, n, now);
          expect(a.decision).toEqual(b.decision);
          gs = a.nextState;
          ts = b.nextState;
        }
      }),
    );
  });

  it('property: retryAfterMs is exact — admitted at now + retryAfterMs, refused one ms earlier', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, burst, start, steps }) => {
        const rule: RateLimitRule = {
          algorithm: 'gcra',
          limit,
          windowMs,
          ...(burst === undefined ? {} : { burst }),
        };
        let state: GcraState | undefined;
        let now = T0 + start;
        for (const [gap, n] of steps) {
          now += gap;
          const r = decideGcra(state, rule, n, now);
          const wait = r.decision.retryAfterMs;
          if (!r.decision.allowed && Number.isFinite(wait)) {
            if (!decideGcra(state, rule, n, now + wait).decision.allowed) return false;
            if (decideGcra(state, rule, n, now + wait - 1).decision.allowed) return false;
          }
          state = r.nextState;
        }
        return true;
      }),
    );
  });
});
