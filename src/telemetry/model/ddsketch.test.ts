import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FoundationError } from '../../errors/index.js';
import { DDSketch, quantileRank } from './ddsketch.js';

const magnitude = fc.double({ min: 1e-6, max: 1e9, noNaN: true, noDefaultInfinity: true });
const positive = magnitude;
const negative = magnitude.map((v) => -v);
const mixed = fc.oneof(
  { arbitrary: positive, weight: 4 },
  { arbitrary: negative, weight: 4 },
  { arbitrary: fc.constant(0), weight: 1 },
);
const accuracy = fc.constantFrom(0.001, 0.01, 0.02, 0.05, 0.2);
const quantiles = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 });
const FIXED_QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** Wide enough that 1e-6..1e9 never collapses, even at α = 0.001. */
const WIDE = 20_000;

function sketchOf(values: readonly number[], alpha: number, maxBuckets = WIDE): DDSketch {
  const sketch = new DDSketch(alpha, maxBuckets);
  for (const v of values) sketch.add(v);
  return sketch;
}

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[quantileRank(q, sorted.length)] as number;
}

function expectWithin(estimate: number, exact: number, alpha: number): void {
  // 1e-9 of slack for the rounding of Math.log near bucket boundaries.
  expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(alpha * Math.abs(exact) * (1 + 1e-9));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FoundationError ? error.code : 'not a FoundationError';
  }
  return undefined;
}

describe('DDSketch', () => {
  for (const [label, values] of [
    ['positive', positive],
    ['negative', negative],
    ['mixed', mixed],
  ] as const) {
    it(`quantiles of ${label} data are within the relative accuracy of the exact rank`, () => {
      fc.assert(
        fc.property(
          fc.array(values, { minLength: 1, maxLength: 400 }),
          accuracy,
          quantiles,
          (data, alpha, qs) => {
            const sketch = sketchOf(data, alpha);
            const sorted = [...data].sort((a, b) => a - b);
            for (const q of [...FIXED_QS, ...qs])
              expectWithin(sketch.quantile(q), exactQuantile(sorted, q), alpha);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('keeps the bound on large skewed data (latency-like)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        let state = seed;
        const random = (): number => {
          state = (state * 48271) % 2147483647;
          return state / 2147483647;
        };
        const data = Array.from({ length: 5000 }, () => Math.exp(random() * 12 - 3));
        const sketch = sketchOf(data, 0.01, 2048);
        const sorted = [...data].sort((a, b) => a - b);
        for (const q of FIXED_QS) expectWithin(sketch.quantile(q), exactQuantile(sorted, q), 0.01);
      }),
      { numRuns: 20 },
    );
  });

  it('the default sketch (1%, 2048 buckets) keeps the bound over magnitudes 1e-6..1e9 of both signs', () => {
    fc.assert(
      fc.property(fc.array(mixed, { minLength: 1, maxLength: 400 }), quantiles, (data, qs) => {
        const sketch = new DDSketch();
        for (const v of data) sketch.add(v);
        const sorted = [...data].sort((a, b) => a - b);
        for (const q of [...FIXED_QS, ...qs])
          expectWithin(sketch.quantile(q), exactQuantile(sorted, q), 0.01);
        expect(sketch.collapsedCount()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('count, sum, min and max are exact', () => {
    fc.assert(
      fc.property(fc.array(mixed, { minLength: 1, maxLength: 200 }), (data) => {
        const sketch = sketchOf(data, 0.01);
        expect(sketch.count).toBe(data.length);
        expect(sketch.min).toBe(Math.min(...data));
        expect(sketch.max).toBe(Math.max(...data));
        expect(sketch.sum).toBe(data.reduce((a, b) => a + b, 0));
        expect(sketch.quantile(0)).toBe(sketch.min);
        expect(sketch.quantile(1)).toBe(sketch.max);
      }),
    );
  });

  it('merging sketches equals the sketch of the union', () => {
    fc.assert(
      fc.property(fc.array(mixed), fc.array(mixed), accuracy, quantiles, (a, b, alpha, qs) => {
        const merged = sketchOf(a, alpha);
        merged.merge(sketchOf(b, alpha));
        const union = sketchOf([...a, ...b], alpha);
        expect(merged.count).toBe(union.count);
        expect(merged.min).toBe(union.min);
        expect(merged.max).toBe(union.max);
        expect(merged.sum).toBeCloseTo(union.sum, 0);
        for (const q of [...FIXED_QS, ...qs]) expect(merged.quantile(q)).toBe(union.quantile(q));
      }),
      { numRuns: 300 },
    );
  });

  it('a weighted add equals repeated adds', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(mixed, fc.integer({ min: 1, max: 5 })), { minLength: 1 }), (pairs) => {
        const weighted = new DDSketch(0.01, WIDE);
        const repeated = new DDSketch(0.01, WIDE);
        for (const [v, c] of pairs) {
          weighted.add(v, c);
          for (let i = 0; i < c; i++) repeated.add(v);
        }
        expect(weighted.count).toBe(repeated.count);
        for (const q of FIXED_QS) expect(weighted.quantile(q)).toBe(repeated.quantile(q));
      }),
    );
  });

  it('collapses the smallest magnitudes past maxBuckets and keeps the bound above them', () => {
    const maxBuckets = 50;
    const alpha = 0.01;
    // γ^50 ≈ 2.7: values spanning 1..1e6 need ~700 buckets.
    const data = Array.from({ length: 1000 }, (_, i) => Math.pow(10, (6 * i) / 999));
    const sketch = sketchOf(data, alpha, maxBuckets);
    const sorted = [...data].sort((a, b) => a - b);
    expect(sketch.collapsedCount()).toBeGreaterThan(0);
    // The kept range is [max / γ^49, max]: ranks whose value is in it keep the bound.
    const gamma = (1 + alpha) / (1 - alpha);
    const keptFrom = (sorted.at(-1) as number) / Math.pow(gamma, maxBuckets - 1);
    for (let q = 0; q <= 1; q += 0.01) {
      const exact = exactQuantile(sorted, q);
      const estimate = sketch.quantile(q);
      if (exact > keptFrom) expectWithin(estimate, exact, alpha);
      else expect(estimate).toBeGreaterThanOrEqual(exact); // over-estimated, never under
    }
    expect(sketch.count).toBe(1000);
    expect(sketch.min).toBe(1);
  });

  it('collapse keeps counts for negative values as well, and merge respects maxBuckets', () => {
    const a = sketchOf([-1e-3, -1, -1e3, -1e6], 0.01, 100);
    const b = sketchOf([-1e9, 5], 0.01, 100);
    a.merge(b);
    expect(a.count).toBe(6);
    expect(a.quantile(0)).toBe(-1e9);
    expect(a.quantile(1)).toBe(5);
    expect(a.collapsedCount()).toBeGreaterThan(0);
  });

  it('zeros and tiny magnitudes count as zero', () => {
    const sketch = sketchOf([0, -0, 1e-320, 0, 1], 0.01);
    expect(sketch.quantile(0.5)).toBe(0);
    expect(sketch.quantile(1)).toBe(1);
  });

  it('is empty after clear and reusable', () => {
    const sketch = sketchOf([1, 2, 3, -4, 0], 0.01);
    sketch.clear();
    expect(sketch.count).toBe(0);
    expect(sketch.sum).toBe(0);
    expect(sketch.min).toBeNaN();
    expect(sketch.max).toBeNaN();
    expect(sketch.quantile(0.5)).toBeNaN();
    sketch.add(10);
    expect(sketch.quantile(0.5)).toBe(10);
  });

  it('rejects bad values, counts, options, quantiles and merges', () => {
    const sketch = new DDSketch();
    const code = 'FND_TELEMETRY_INVALID_METRIC';
    expect(
      codeOf(() => {
        sketch.add(NaN);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(Infinity);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(-Infinity);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(1, -1);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(1, NaN);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(1, Infinity);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        sketch.add(NaN, 0);
      }),
    ).toBe(code);
    sketch.add(1, 0);
    expect(sketch.count).toBe(0);
    expect(codeOf(() => new DDSketch(0))).toBe(code);
    expect(codeOf(() => new DDSketch(1))).toBe(code);
    expect(codeOf(() => new DDSketch(NaN))).toBe(code);
    expect(codeOf(() => new DDSketch(0.01, 0))).toBe(code);
    expect(codeOf(() => new DDSketch(0.01, 1.5))).toBe(code);
    expect(codeOf(() => sketch.quantile(-0.1))).toBe(code);
    expect(codeOf(() => sketch.quantile(1.1))).toBe(code);
    expect(codeOf(() => sketch.quantile(NaN))).toBe(code);
    expect(
      codeOf(() => {
        sketch.merge(new DDSketch(0.02));
      }),
    ).toBe(code);
  });

  it('quantileRank is ⌈q·(n−1)⌉ without floating-point noise', () => {
    expect(quantileRank(0.07, 101)).toBe(7);
    expect(quantileRank(0.5, 4)).toBe(2);
    expect(quantileRank(0.5, 5)).toBe(2);
    expect(quantileRank(0.99, 100)).toBe(99);
    expect(quantileRank(0, 1)).toBe(0);
    expect(quantileRank(1, 10)).toBe(9);
  });
});
