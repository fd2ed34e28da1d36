import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FoundationError } from '../../errors/index.js';
import { MetricSeries, TimeSeriesRing } from './time-series.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FoundationError ? error.code : 'not a FoundationError';
  }
  return undefined;
}

/** The reference: a map slot → last value, keeping the slots within capacity of the newest ever seen. */
function reference(
  resolution: number,
  capacity: number,
  writes: ReadonlyArray<readonly [number, number]>,
): Array<{ t: number; v: number }> {
  const slots = new Map<number, number>();
  let newest = -Infinity;
  for (const [t, v] of writes) {
    const slot = Math.floor(t / resolution);
    if (slot <= newest - capacity) continue;
    newest = Math.max(newest, slot);
    slots.set(slot, v);
  }
  return [...slots.entries()]
    .filter(([slot]) => slot > newest - capacity)
    .sort(([a], [b]) => a - b)
    .map(([slot, v]) => ({ t: slot * resolution, v }));
}

describe('TimeSeriesRing', () => {
  it('keeps the last value of each of the last `capacity` slots, oldest first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.tuple(fc.integer({ min: -10, max: 100 }), fc.double({ noNaN: true })), {
          maxLength: 200,
        }),
        fc.option(fc.integer({ min: -20_000, max: 600_000 }), { nil: undefined }),
        (resolution, capacity, steps, since) => {
          // Mostly forward time with jumps back: t = 1e6 + Σ step × resolution / 3.
          let t = 1_000_000;
          const writes: Array<[number, number]> = [];
          const ring = new TimeSeriesRing(resolution, capacity);
          for (const [step, v] of steps) {
            t += Math.round((step * resolution) / 3);
            writes.push([t, v]);
            ring.record(t, v);
          }
          const expected = reference(resolution, capacity, writes);
          expect(ring.points()).toEqual(expected);
          expect(ring.points().length).toBeLessThanOrEqual(capacity);
          if (since !== undefined) {
            const from = 1_000_000 + since;
            expect(ring.points(from)).toEqual(expected.filter((p) => p.t >= from));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('overwrites, goes backwards within capacity, ignores the far past, and clears', () => {
    const ring = new TimeSeriesRing(1000, 3);
    expect(ring.points()).toEqual([]);
    ring.record(10_000, 1);
    ring.record(10_999, 2); // same slot: last wins
    ring.record(12_500, 3);
    ring.record(11_000, 4); // backwards, within capacity
    expect(ring.points()).toEqual([
      { t: 10_000, v: 2 },
      { t: 11_000, v: 4 },
      { t: 12_000, v: 3 },
    ]);
    ring.record(9_999, 5); // older than the ring: ignored
    ring.record(13_000, NaN); // NaN is a value ("no value")
    expect(ring.points()).toEqual([
      { t: 11_000, v: 4 },
      { t: 12_000, v: 3 },
      { t: 13_000, v: NaN },
    ]);
    expect(ring.points(11_500)).toEqual([
      { t: 12_000, v: 3 },
      { t: 13_000, v: NaN },
    ]);
    ring.record(100_000, 6); // far ahead: everything else is forgotten
    expect(ring.points()).toEqual([{ t: 100_000, v: 6 }]);
    ring.clear();
    expect(ring.points()).toEqual([]);
  });

  it('rejects bad options and times', () => {
    const code = 'FND_TELEMETRY_INVALID_METRIC';
    expect(codeOf(() => new TimeSeriesRing(0, 10))).toBe(code);
    expect(codeOf(() => new TimeSeriesRing(Infinity, 10))).toBe(code);
    expect(codeOf(() => new TimeSeriesRing(1000, 0))).toBe(code);
    expect(codeOf(() => new TimeSeriesRing(1000, 1.5))).toBe(code);
    expect(codeOf(() => new TimeSeriesRing(1000, 2_000_000))).toBe(code);
    expect(
      codeOf(() => {
        new TimeSeriesRing(1000, 1).record(NaN, 1);
      }),
    ).toBe(code);
  });
});

describe('MetricSeries', () => {
  it('records into a 15-minute ring at 1 s and a 24-hour ring at 1 min', () => {
    const series = new MetricSeries();
    expect(series.fine.resolutionMs * series.fine.capacity).toBe(15 * 60_000);
    expect(series.coarse.resolutionMs * series.coarse.capacity).toBe(24 * 3_600_000);
    const start = 1_700_000_000_000;
    for (let s = 0; s < 3600; s++) series.record(start + s * 1000, s);
    const fine = series.points('fine');
    expect(fine).toHaveLength(900);
    expect(fine[0]).toEqual({ t: start + 2700 * 1000, v: 2700 });
    expect(fine.at(-1)).toEqual({ t: start + 3599 * 1000, v: 3599 });
    const coarse = series.points('coarse');
    expect(coarse).toHaveLength(61); // start is 20 s into a minute
    expect(coarse.at(-1)?.v).toBe(3599);
    expect(series.points('fine', start + 3590 * 1000)).toHaveLength(10);
  });
});
