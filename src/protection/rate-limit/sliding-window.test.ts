import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SlidingWindowState, decideSlidingWindow, slidingWindowIdleAt } from './sliding-window.js';
import type { RateLimitRule } from './types.js';

const T0 = 1_700_000_000_000; // a multiple of 1000

interface Run {
  readonly rule: RateLimitRule;
  readonly admitted: readonly (readonly [number, number])[];
}

const scenario = fc.record({
  limit: fc.integer({ min: 1, max: 20 }),
  windowMs: fc.integer({ min: 1, max: 120 }),
  start: fc.integer({ min: 0, max: 1_000_000 }),
  steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 22 })), {
    maxLength: 150,
  }),
});

function run(
  limit: number,
  windowMs: number,
  start: number,
  steps: readonly (readonly [number, number])[],
): Run {
  const rule: RateLimitRule = { algorithm: 'sliding_window', limit, windowMs };
  let state: SlidingWindowState | undefined;
  let now = T0 + start;
  const admitted: [number, number][] = [];
  for (const [gap, n] of steps) {
    now += gap;
    const r = decideSlidingWindow(state, rule, n, now);
    if (r.decision.allowed && n > 0) admitted.push([now, n]);
    state = r.nextState;
  }
  return { rule, admitted };
}

function sumIn(admitted: Run['admitted'], from: number, to: number): number {
  let sum = 0;
  for (const [t, n] of admitted) if (t >= from && t < to) sum += n;
  return sum;
}

describe('sliding window (two-window weighted counter)', () => {
  const rule: RateLimitRule = { algorithm: 'sliding_window', limit: 10, windowMs: 1000 };

  it('weighs the previous window by the part of it still inside the last windowMs', () => {
    let state: SlidingWindowState | undefined = decideSlidingWindow(undefined, rule, 10, T0 + 900).nextState;
    // 250 ms into the next window: 10·750/1000 = 7.5 still weigh → 2 more admissible.
    const r = decideSlidingWindow(state, rule, 3, T0 + 1250);
    expect(r.decision).toEqual({ allowed: false, remaining: 2, retryAfterMs: 50, resetMs: 750, limit: 10 });
    expect(decideSlidingWindow(state, rule, 3, T0 + 1299).decision.allowed).toBe(false);
    state = decideSlidingWindow(state, rule, 3, T0 + 1300).nextState;
    expect(state).toEqual({ start: T0 + 1000, prev: 10, curr: 3 });
    expect(slidingWindowIdleAt(state, rule)).toBe(T0 + 3000);
    expect(decideSlidingWindow(state, rule, 11, T0 + 1300).decision.retryAfterMs).toBe(
      Number.POSITIVE_INFINITY,
    );
    // Two windows later nothing weighs.
    expect(decideSlidingWindow(state, rule, 10, T0 + 3000).decision.allowed).toBe(true);
  });

  it('property: no aligned window ever admits more than limit', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, start, steps }) => {
        const { admitted } = run(limit, windowMs, start, steps);
        const perWindow = new Map<number, number>();
        for (const [t, n] of admitted) {
          const w = Math.floor(t / windowMs);
          perWindow.set(w, (perWindow.get(w) ?? 0) + n);
        }
        return [...perWindow.values()].every((count) => count <= limit);
      }),
    );
  });

  it('property: an unaligned interval [s, s + windowMs) admits at most limit + floor(P·(p − 1)/windowMs) − P[0,p)', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, start, steps }) => {
        const { admitted } = run(limit, windowMs, start, steps);
        for (const [s0] of admitted) {
          // Every start between the admission and windowMs before it is a candidate; test a few per admission.
          for (const s of [s0, s0 - 1, s0 - Math.floor(windowMs / 2), s0 - windowMs + 1]) {
            const aligned = s - (s % windowMs);
            const p = s - aligned;
            const P = sumIn(admitted, aligned, aligned + windowMs);
            const before = sumIn(admitted, aligned, s);
            const bound = limit + (p === 0 ? 0 : Math.floor((P * (p - 1)) / windowMs) - before);
            if (sumIn(admitted, s, s + windowMs) > bound) return false;
          }
        }
        return true;
      }),
    );
  });

  it('property: retryAfterMs is the exact earliest wait; remaining is the most admissible now', () => {
    fc.assert(
      fc.property(scenario, ({ limit, windowMs, start, steps }) => {
        const rule: RateLimitRule = { algorithm: 'sliding_window', limit, windowMs };
        let state: SlidingWindowState | undefined;
        let now = T0 + start;
        for (const [gap, n] of steps) {
          now += gap;
          const r = decideSlidingWindow(state, rule, n, now);
          const wait = r.decision.retryAfterMs;
          if (!r.decision.allowed) {
            if (Number.isFinite(wait)) {
              if (wait < 1) return false;
              if (!decideSlidingWindow(state, rule, n, now + wait).decision.allowed) return false;
              for (let d = 0; d < wait; d += 1) {
                if (decideSlidingWindow(state, rule, n, now + d).decision.allowed) return false;
              }
            } else if (n <= limit) return false;
          }
          const m = r.decision.remaining;
          if (!decideSlidingWindow(r.nextState, rule, m, now).decision.allowed) return false;
          if (decideSlidingWindow(r.nextState, rule, m + 1, now).decision.allowed) return false;
          state = r.nextState;
        }
        return true;
      }),
    );
  });
});
