import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { CoarseTimer } from './coarse-timer.js';

describe('CoarseTimer', () => {
  it('arms no clock timer when nothing is pending, and none after the last deadline fired', () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    expect(clock.pending()).toBe(0);
    const fired: number[] = [];
    timer.schedule(25, () => fired.push(clock.monotonic()));
    expect(clock.pending()).toBe(1);
    clock.advance(30);
    expect(fired).toEqual([30]);
    expect(clock.pending()).toBe(0);
    expect(timer.pending).toBe(0);
  });

  it('uses one clock timer for many deadlines and fires each bucket once', () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const fired: string[] = [];
    for (let i = 0; i < 100; i += 1) timer.schedule(1 + (i % 10), () => fired.push(`a${String(i)}`));
    timer.schedule(15, () => fired.push('b'));
    expect(clock.pending()).toBe(1);
    clock.advance(9);
    expect(fired).toHaveLength(0);
    clock.advance(1);
    expect(fired).toHaveLength(100);
    expect(clock.pending()).toBe(1);
    clock.advance(10);
    expect(fired).toHaveLength(101);
    expect(fired.at(-1)).toBe('b');
    expect(clock.pending()).toBe(0);
  });

  it('never fires early and at most one resolution late', () => {
    const clock = new FakeClock({ monotonic: 3 });
    const timer = new CoarseTimer(clock, 10);
    let at = -1;
    timer.schedule(12, () => {
      at = clock.monotonic();
    });
    clock.advance(11);
    expect(at).toBe(-1);
    clock.advance(100);
    expect(at).toBeGreaterThanOrEqual(15);
    expect(at).toBeLessThanOrEqual(25);
  });

  it('re-arms for an earlier deadline and skips cancelled ones', () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const fired: string[] = [];
    timer.schedule(100, () => fired.push('late'));
    const early = timer.schedule(20, () => fired.push('early'));
    timer.schedule(30, () => fired.push('mid'));
    expect(clock.pending()).toBe(1);
    early.cancel();
    early.cancel();
    clock.advance(100);
    expect(fired).toEqual(['mid', 'late']);
    expect(clock.pending()).toBe(0);
  });

  it('fires a deadline scheduled from a firing callback', () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const fired: number[] = [];
    timer.schedule(10, () => {
      fired.push(clock.monotonic());
      timer.schedule(10, () => fired.push(clock.monotonic()));
    });
    clock.advance(50);
    expect(fired).toEqual([10, 20]);
    expect(clock.pending()).toBe(0);
  });

  it('cancel after firing is harmless', () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    let count = 0;
    const handle = timer.schedule(0, () => (count += 1));
    clock.advance(10);
    handle.cancel();
    clock.advance(100);
    expect(count).toBe(1);
  });
});
