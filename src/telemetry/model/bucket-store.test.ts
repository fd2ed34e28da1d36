import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BucketStore } from './bucket-store.js';

/** Reference: a map, collapsing every index below `highest − maxBuckets + 1` into that index. */
function reference(maxBuckets: number, adds: ReadonlyArray<readonly [number, number]>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const [index, count] of adds) {
    counts.set(index, (counts.get(index) ?? 0) + count);
    const keys = [...counts.keys()];
    const hi = Math.max(...keys);
    const lo = hi - maxBuckets + 1;
    for (const key of keys) {
      if (key >= lo) continue;
      counts.set(lo, (counts.get(lo) ?? 0) + (counts.get(key) as number));
      counts.delete(key);
    }
  }
  return counts;
}

describe('BucketStore', () => {
  it('matches a map that collapses the lowest indices past maxBuckets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.tuple(fc.integer({ min: -3000, max: 3000 }), fc.integer({ min: 1, max: 3 })), {
          minLength: 1,
          maxLength: 300,
        }),
        (maxBuckets, adds) => {
          const store = new BucketStore(maxBuckets);
          for (const [index, count] of adds) store.add(index, count);
          const expected = reference(maxBuckets, adds);
          const total = adds.reduce((a, [, c]) => a + c, 0);
          expect(store.count).toBe(total);
          expect(store.maxIndex).toBe(Math.max(...expected.keys()));
          expect(store.minIndex).toBe(Math.min(...expected.keys()));
          expect(store.maxIndex - store.minIndex + 1).toBeLessThanOrEqual(maxBuckets);
          for (let index = store.minIndex - 2; index <= store.maxIndex + 2; index++) {
            expect(store.countAt(index)).toBe(expected.get(index) ?? 0);
          }
          const sameIndices = adds.every(([index]) => expected.has(index));
          if (sameIndices) expect(store.collapsed).toBe(0);
          else expect(store.collapsed).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('merges, finds ranks both ways, and clears', () => {
    const a = new BucketStore(10);
    const b = new BucketStore(10);
    a.add(3, 2);
    a.add(5, 1);
    b.add(4, 1);
    b.add(20, 1); // widens the union past 10: indices < 11 collapse into 11
    a.mergeFrom(b);
    expect(a.count).toBe(5);
    expect(a.countAt(11)).toBe(4);
    expect(a.countAt(20)).toBe(1);
    expect(a.indexAtRankAscending(0)).toBe(11);
    expect(a.indexAtRankAscending(4)).toBe(20);
    expect(a.indexAtRankDescending(0)).toBe(20);
    expect(a.indexAtRankDescending(1)).toBe(11);
    a.clear();
    expect(a.count).toBe(0);
    expect(a.countAt(11)).toBe(0);
    a.add(-7, 1);
    expect(a.indexAtRankAscending(0)).toBe(-7);
  });
});
