import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { quantileRank } from './ddsketch.js';
import { SlidingWindowSketch } from './sliding-window.js';

const QS = [0, 0.1, 0.5, 0.9, 0.99, 1];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FoundationError ? error.code : 'not a FoundationError';
  }
  return undefined;
}

describe('SlidingWindowSketch', () => {
  it('reports exactly the values of the live sub-windows, within the accuracy (fake time)', () => {
    const step = fc.record({
      advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3000 })),
      // Magnitudes within 1e-9..1e6 (a DDSketch of 2048 buckets at 1% spans 6e17 without collapsing).
      value: fc.oneof(
        fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-9, max: 1e6, noNaN: true }).map((v) => -v),
        fc.constant(0),
      ),
      read: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 100, max: 5000 }),
        fc.array(step, { minLength: 1, maxLength: 200 }),
        (buckets, windowMs, steps) => {
          const clock = new FakeClock();
          const window = new SlidingWindowSketch({
            windowMs,
            buckets,
            relativeAccuracy: 0.01,
            now: () => clock.now(),
          });
          const sub = windowMs / buckets;
          const added: Array<{ t: number; v: number }> = [];
          for (const { advance, value, read } of steps) {
            clock.advance(advance);
            window.add(value);
            added.push({ t: clock.now(), v: value });
            if (!read) continue;
            const now = clock.now();
            const current = Math.floor(now / sub);
            const live = added.filter(({ t }) => Math.floor(t / sub) > current - buckets).map(({ v }) => v);
            // The coarse guarantee: never older than the window, always the last window − sub.
            for (const { t } of added) {
              if (now - t >= windowMs) expect(Math.floor(t / sub) > current - buckets).toBe(false);
              if (now - t < windowMs - sub) expect(Math.floor(t / sub) > current - buckets).toBe(true);
            }
            expect(window.count()).toBe(live.length);
            expect(window.sum()).toBeCloseTo(
              live.reduce((a, b) => a + b, 0),
              3,
            );
            const sorted = [...live].sort((a, b) => a - b);
            const got = window.quantiles(QS);
            QS.forEach((q, i) => {
              const exact = sorted[quantileRank(q, sorted.length)] as number;
              expect(Math.abs((got[i] as number) - exact)).toBeLessThanOrEqual(
                0.01 * Math.abs(exact) * (1 + 1e-9),
              );
            });
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets everything once a whole window passed, and reads rotate lazily', () => {
    const clock = new FakeClock({ now: 0 });
    const window = new SlidingWindowSketch({
      windowMs: 60_000,
      buckets: 6,
      relativeAccuracy: 0.01,
      now: () => clock.now(),
    });
    expect(window.quantiles([0.5])).toEqual([NaN]);
    for (let i = 1; i <= 100; i++) window.add(i);
    expect(window.count()).toBe(100);
    expect(window.quantiles([0, 1])).toEqual([1, 100]);
    clock.advance(50_000);
    window.add(1000);
    expect(window.count()).toBe(101);
    clock.advance(10_000); // the first sub-window [0, 10 s) is now 60 s old
    expect(window.count()).toBe(1);
    expect(window.sum()).toBe(1000);
    expect(window.quantiles([0.5])).toEqual([1000]);
    clock.advance(60_000);
    expect(window.count()).toBe(0);
    expect(window.quantiles([0.5, 0.99])).toEqual([NaN, NaN]);
    window.add(7);
    expect(window.quantiles([0.5])).toEqual([7]);
    window.clear();
    expect(window.count()).toBe(0);
  });

  it('puts values into the current sub-window when the clock goes backwards', () => {
    let now = 100_000;
    const window = new SlidingWindowSketch({
      windowMs: 1000,
      buckets: 2,
      relativeAccuracy: 0.01,
      now: () => now,
    });
    window.add(1);
    now = 10_000;
    window.add(2);
    expect(window.count()).toBe(2);
    now = 100_400;
    expect(window.count()).toBe(2);
    now = 100_999; // the next sub-window: both are in the previous one, still live
    expect(window.count()).toBe(2);
    now = 101_000;
    expect(window.count()).toBe(0);
  });

  it('rejects bad options, values and clocks', () => {
    const code = 'FND_TELEMETRY_INVALID_METRIC';
    const base = { windowMs: 1000, buckets: 4, relativeAccuracy: 0.01, now: () => 0 };
    expect(codeOf(() => new SlidingWindowSketch({ ...base, windowMs: 0 }))).toBe(code);
    expect(codeOf(() => new SlidingWindowSketch({ ...base, windowMs: Infinity }))).toBe(code);
    expect(codeOf(() => new SlidingWindowSketch({ ...base, buckets: 0 }))).toBe(code);
    expect(codeOf(() => new SlidingWindowSketch({ ...base, buckets: 2.5 }))).toBe(code);
    expect(codeOf(() => new SlidingWindowSketch({ ...base, relativeAccuracy: 2 }))).toBe(code);
    const window = new SlidingWindowSketch(base);
    expect(
      codeOf(() => {
        window.add(NaN);
      }),
    ).toBe(code);
    expect(codeOf(() => window.quantiles([2]))).toBe(code);
    const broken = new SlidingWindowSketch({ ...base, now: () => NaN });
    expect(
      codeOf(() => {
        broken.add(1);
      }),
    ).toBe(code);
  });
});
