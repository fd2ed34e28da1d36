import { describe, expect, it } from 'vitest';
import {
  COARSE_CLOCK_MAX_READS,
  COARSE_CLOCK_RESOLUTION_MS,
  CoarseClock,
  coarseSystemTime,
  type CoarseClockSource,
} from './coarse-clock.js';

/** A source whose time the test sets, counting its reads and keeping the armed timers to fire by hand. */
function manualSource(): CoarseClockSource & {
  time: number;
  reads: number;
  timers: Array<() => void>;
  delays: number[];
} {
  const source = {
    time: 1000,
    reads: 0,
    timers: [] as Array<() => void>,
    delays: [] as number[],
    read: () => {
      source.reads += 1;
      return source.time;
    },
    schedule: (fn: () => void, ms: number) => {
      source.timers.push(fn);
      source.delays.push(ms);
    },
  };
  return source;
}

describe('CoarseClock', () => {
  it('reads the source once, then serves the cached time until 32 reads went by', () => {
    const source = manualSource();
    const clock = new CoarseClock(source);
    expect(clock.now()).toBe(1000);
    expect(source.reads).toBe(1);
    source.time = 1005;
    for (let i = 1; i < COARSE_CLOCK_MAX_READS; i += 1) expect(clock.now()).toBe(1000);
    expect(source.reads).toBe(1);
    expect(clock.now()).toBe(1005); // the 33rd read refreshes, whatever the timer
    expect(source.reads).toBe(2);
    // One timer for the whole time: a refresh by count does not arm another.
    expect(source.delays).toEqual([COARSE_CLOCK_RESOLUTION_MS]);
  });

  it('refreshes on the first read after its timer fired, and arms the next timer only then (none when idle)', () => {
    const source = manualSource();
    const clock = new CoarseClock(source);
    expect(clock.armed).toBe(false);
    clock.now();
    expect(clock.armed).toBe(true);
    source.time = 1001;
    expect(clock.now()).toBe(1000);
    source.timers[0]?.();
    expect(clock.armed).toBe(false);
    expect(source.timers).toHaveLength(1); // idle: nothing re-armed by the timer itself
    expect(clock.now()).toBe(1001);
    expect(source.reads).toBe(2);
    expect(clock.armed).toBe(true);
    expect(source.timers).toHaveLength(2);
    expect(clock.now()).toBe(1001);
    expect(source.reads).toBe(2);
  });

  it('never runs ahead of its source: a source stepping back is seen at the next refresh', () => {
    const source = manualSource();
    const clock = new CoarseClock(source);
    clock.now();
    source.time = 900;
    source.timers[0]?.();
    expect(clock.now()).toBe(900);
  });

  it('on the system source: the time lies between Date.now() before and after, and the idle timer lapses', async () => {
    const clock = new CoarseClock();
    const before = Date.now();
    const first = clock.now();
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    expect(clock.armed).toBe(true);
    for (let i = 1; i < COARSE_CLOCK_MAX_READS; i += 1) clock.now();
    const beforeRefresh = Date.now();
    expect(clock.now()).toBeGreaterThanOrEqual(beforeRefresh); // the 33rd read is a fresh Date.now()
    // A timer due later runs after the clock's 1 ms timer: by then the clock has invalidated itself.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock.armed).toBe(false);
  });

  it('the process-wide instance is a CoarseClock on the system time', () => {
    expect(coarseSystemTime).toBeInstanceOf(CoarseClock);
    const before = Date.now();
    // Within 32 reads it refreshes at least once: from then on it reads a time taken after `before`.
    for (let i = 0; i < COARSE_CLOCK_MAX_READS; i += 1) coarseSystemTime.now();
    const read = coarseSystemTime.now();
    expect(read).toBeGreaterThanOrEqual(before);
    expect(read).toBeLessThanOrEqual(Date.now());
    expect(Number.isInteger(read)).toBe(true);
  });
});
