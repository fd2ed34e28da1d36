import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../errors/index.js';
import { RestartIntensity } from './restart-intensity.js';

describe('RestartIntensity', () => {
  it('allows maxRestarts within the window and escalates on the next one', () => {
    const intensity = new RestartIntensity({ maxRestarts: 3, withinMs: 1000 });
    expect(intensity.record(0)).toBe(true);
    expect(intensity.record(100)).toBe(true);
    expect(intensity.record(200)).toBe(true);
    expect(intensity.record(999)).toBe(false);
    expect(intensity.count(999)).toBe(4);
  });

  it('forgets restarts older than the window', () => {
    const intensity = new RestartIntensity({ maxRestarts: 2, withinMs: 1000 });
    expect(intensity.record(0)).toBe(true);
    expect(intensity.record(500)).toBe(true);
    expect(intensity.record(1000)).toBe(true); // the one at 0 left the window
    expect(intensity.count(1000)).toBe(2);
    expect(intensity.count(2000)).toBe(0);
  });

  it('escalates on the first restart with maxRestarts 0', () => {
    const intensity = new RestartIntensity({ maxRestarts: 0, withinMs: 1000 });
    expect(intensity.record(5)).toBe(false);
  });

  it('reset forgets everything', () => {
    const intensity = new RestartIntensity({ maxRestarts: 1, withinMs: 1000 });
    intensity.record(0);
    intensity.reset();
    expect(intensity.record(1)).toBe(true);
  });

  it('rejects invalid limits', () => {
    for (const options of [
      { maxRestarts: -1, withinMs: 1 },
      { maxRestarts: 1.5, withinMs: 1 },
      { maxRestarts: 1, withinMs: 0 },
    ]) {
      let error: unknown;
      try {
        new RestartIntensity(options);
      } catch (e) {
        error = e;
      }
      expect(isFoundationError(error, 'FND_CONFIG_INVALID_VALUE')).toBe(true);
    }
  });

  it('property: record returns false iff more than maxRestarts restarts fall in a window ending now', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 40 }),
        (maxRestarts, withinMs, gaps) => {
          const intensity = new RestartIntensity({ maxRestarts, withinMs });
          const times: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            times.push(now);
            const inWindow = times.filter((t) => now - t < withinMs).length;
            expect(intensity.record(now)).toBe(inWindow <= maxRestarts);
          }
        },
      ),
    );
  });
});
