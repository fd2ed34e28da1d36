import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FoundationError } from '../../errors/index.js';
import { BucketHistogram } from './histogram.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FoundationError ? error.code : 'not a FoundationError';
  }
  return undefined;
}

const finite = fc.double({ min: -1e9, max: 1e9, noNaN: true });
// 1..100 strictly ascending bounds (both scan strategies: ≤ 16 linear, above bisection).
const bounds = fc
  .uniqueArray(fc.oneof(finite, fc.integer({ min: -20, max: 20 })), {
    minLength: 1,
    maxLength: 100,
    comparator: (a, b) => a === b || (a === 0 && b === 0),
  })
  .map((xs) => [...xs].sort((a, b) => a - b));

describe('BucketHistogram', () => {
  it('cumulative counts equal the exact counts of values ≤ each bound', () => {
    fc.assert(
      fc.property(
        bounds,
        fc.array(fc.oneof(finite, fc.integer({ min: -21, max: 21 })), { maxLength: 300 }),
        (upper, values) => {
          const histogram = new BucketHistogram(upper);
          for (const v of values) histogram.observe(v);
          const snapshot = histogram.snapshot();
          expect(snapshot.count).toBe(values.length);
          expect(snapshot.sum).toBe(values.reduce((a, b) => a + b, 0));
          expect(snapshot.buckets).toEqual([
            ...upper.map((b) => [b, values.filter((v) => v <= b).length]),
            [Infinity, values.length],
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a value equal to a bound falls in that bucket (le), and reset empties it', () => {
    const histogram = new BucketHistogram([1, 5, 10]);
    for (const v of [0, 1, 1.0001, 5, 10, 11, -3]) histogram.observe(v);
    expect(histogram.snapshot()).toEqual({
      count: 7,
      sum: 0 + 1 + 1.0001 + 5 + 10 + 11 - 3,
      buckets: [
        [1, 3],
        [5, 5],
        [10, 6],
        [Infinity, 7],
      ],
    });
    histogram.reset();
    expect(histogram.snapshot()).toEqual({
      count: 0,
      sum: 0,
      buckets: [
        [1, 0],
        [5, 0],
        [10, 0],
        [Infinity, 0],
      ],
    });
    expect(histogram.bounds).toEqual([1, 5, 10]);
  });

  it('rejects bad bounds and non-finite values', () => {
    const code = 'FND_TELEMETRY_INVALID_METRIC';
    expect(codeOf(() => new BucketHistogram([]))).toBe(code);
    expect(codeOf(() => new BucketHistogram(Array.from({ length: 101 }, (_, i) => i)))).toBe(code);
    expect(codeOf(() => new BucketHistogram([1, 1]))).toBe(code);
    expect(codeOf(() => new BucketHistogram([2, 1]))).toBe(code);
    expect(codeOf(() => new BucketHistogram([1, Infinity]))).toBe(code);
    expect(codeOf(() => new BucketHistogram([NaN]))).toBe(code);
    expect(codeOf(() => new BucketHistogram(['1' as unknown as number]))).toBe(code);
    expect(new BucketHistogram(Array.from({ length: 100 }, (_, i) => i)).bounds).toHaveLength(100);
    const histogram = new BucketHistogram([1]);
    expect(
      codeOf(() => {
        histogram.observe(NaN);
      }),
    ).toBe(code);
    expect(
      codeOf(() => {
        histogram.observe(Infinity);
      }),
    ).toBe(code);
    expect(histogram.count).toBe(0);
  });
});
