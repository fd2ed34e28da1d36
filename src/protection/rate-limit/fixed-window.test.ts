import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FixedWindowState, decideFixedWindow, fixedWindowIdleAt } from './fixed-window.js';
import type { RateLimitRule } from './types.js';

const T0 = 1_700_000_000_000; // a multiple of 1000

describe('fixed window', () => {
  const rule: RateLimitRule = { algorithm: 'fixed_window', limit: 3, windowMs: 1000 };

  it('admits limit per aligned window, refuses until the next one', () => {
    let state: FixedWindowState | undefined;
    for (let i = 0; i < 3; i += 1) {
      const r = decideFixedWindow(state, rule, 1, T0 + 250);
      expect(r.decision.allowed).toBe(true);
      state = r.nextState;
    }
    expect(decideFixedWindow(state, rule, 1, T0 + 400).decision).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 600,
      resetMs: 600,
      limit: 3,
    });
    expect(decideFixedWindow(state, rule, 3, T0 + 1000).decision.allowed).toBe(true);
    expect(decideFixedWindow(state, rule, 4, T0 + 1000).decision.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(fixedWindowIdleAt(state as FixedWindowState, rule)).toBe(T0 + 1000);
    expect(decideFixedWindow(state, rule, 1, T0 - 10).decision.allowed).toBe(false);
  });

  it('property: no aligned window admits more than limit; retryAfterMs is exact', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 22 })), {
          maxLength: 150,
        }),
        (limit, windowMs, start, steps) => {
          const rule: RateLimitRule = { algorithm: 'fixed_window', limit, windowMs };
          let state: FixedWindowState | undefined;
          let now = T0 + start;
          const perWindow = new Map<number, number>();
          for (const [gap, n] of steps) {
            now += gap;
            const r = decideFixedWindow(state, rule, n, now);
            const wait = r.decision.retryAfterMs;
            if (r.decision.allowed) {
              const w = Math.floor(now / windowMs);
              perWindow.set(w, (perWindow.get(w) ?? 0) + n);
            } else if (Number.isFinite(wait)) {
              if (!decideFixedWindow(state, rule, n, now + wait).decision.allowed) return false;
              if (decideFixedWindow(state, rule, n, now + wait - 1).decision.allowed) return false;
            }
            state = r.nextState;
          }
          return [...perWindow.values()].every((count) => count <= limit);
        },
      ),
    );
  });
});
