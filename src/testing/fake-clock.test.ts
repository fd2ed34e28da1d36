import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isFoundationError } from '../errors/index.js';
import { FAKE_CLOCK_DEFAULT_NOW, FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('starts at the given times and moves wall and monotonic time together', () => {
    const clock = new FakeClock({ now: 5_000, monotonic: 10 });
    expect(clock.now()).toBe(5_000);
    expect(clock.monotonic()).toBe(10);
    clock.advance(250);
    expect(clock.now()).toBe(5_250);
    expect(clock.monotonic()).toBe(260);
  });

  it('defaults to a fixed wall time and monotonic 0', () => {
    const clock = new FakeClock();
    expect(clock.now()).toBe(FAKE_CLOCK_DEFAULT_NOW);
    expect(clock.monotonic()).toBe(0);
  });

  it('fires a timer only once its due time is reached', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.monotonic()), 100);
    clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.pending()).toBe(1);
    clock.advance(1);
    expect(fired).toEqual([100]);
    expect(clock.pending()).toBe(0);
    clock.advance(1_000);
    expect(fired).toEqual([100]);
  });

  it('runs due timers in due order, ties in scheduling order, with now() at each due time', () => {
    const clock = new FakeClock({ now: 0 });
    const log: string[] = [];
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`b2@${clock.now()}`), 20);
    clock.advance(100);
    expect(log).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(100);
  });

  it('runs timers scheduled by timers when they fall inside the advanced range', () => {
    const clock = new FakeClock({ now: 0 });
    const log: number[] = [];
    clock.setTimeout(() => {
      log.push(clock.now());
      clock.setTimeout(() => log.push(clock.now()), 15);
      clock.setTimeout(() => log.push(clock.now()), 500);
    }, 10);
    clock.advance(50);
    expect(log).toEqual([10, 25]);
    expect(clock.pending()).toBe(1);
    clock.advance(460);
    expect(log).toEqual([10, 25, 510]);
  });

  it('cancels timers, and cancelling twice or after firing is harmless', () => {
    const clock = new FakeClock();
    let count = 0;
    const a = clock.setTimeout(() => count++, 10);
    const b = clock.setTimeout(() => count++, 20);
    a.cancel();
    a.cancel();
    expect(clock.pending()).toBe(1);
    clock.advance(20);
    expect(count).toBe(1);
    b.cancel();
    expect(clock.pending()).toBe(0);
  });

  it('treats negative and non-finite delays as due now', () => {
    const clock = new FakeClock();
    let count = 0;
    clock.setTimeout(() => count++, -5);
    clock.setTimeout(() => count++, Number.NaN);
    clock.advance(0);
    expect(count).toBe(2);
  });

  it('rejects a negative or non-finite advance with FND_DATA_INVALID_INPUT', async () => {
    const clock = new FakeClock();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown;
      try {
        clock.advance(bad);
      } catch (error) {
        caught = error;
      }
      expect(isFoundationError(caught, 'FND_DATA_INVALID_INPUT')).toBe(true);
      await expect(clock.advanceAsync(bad)).rejects.toMatchObject({ code: 'FND_DATA_INVALID_INPUT' });
    }
    expect(clock.monotonic()).toBe(0);
  });

  it('keeps running timers after one throws and rethrows the first error', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      throw new Error('first');
    }, 1);
    clock.setTimeout(() => {
      throw new Error('second');
    }, 2);
    clock.setTimeout(() => log.push('ran'), 3);
    expect(() => {
      clock.advance(10);
    }).toThrow('first');
    expect(log).toEqual(['ran']);
    expect(clock.monotonic()).toBe(10);
  });

  it('advanceAsync lets promise chains settle between timers', async () => {
    const clock = new FakeClock({ now: 0 });
    const log: string[] = [];
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        clock.setTimeout(resolve, ms);
      });
    const task = (async () => {
      await sleep(10);
      log.push(`woke@${clock.now()}`);
      await Promise.resolve();
      await sleep(10); // scheduled only after the first await chain settles
      log.push(`woke@${clock.now()}`);
    })();
    await clock.advanceAsync(25);
    expect(log).toEqual(['woke@10', 'woke@20']);
    await task;
  });

  it('advance (sync) does not run timers scheduled from promise continuations', async () => {
    const clock = new FakeClock({ now: 0 });
    const log: number[] = [];
    const task = (async () => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
      clock.setTimeout(() => log.push(clock.now()), 10);
    })();
    clock.advance(25);
    await task;
    expect(log).toEqual([]);
    expect(clock.pending()).toBe(1);
    clock.advance(10);
    expect(log).toEqual([35]);
  });

  it('setWallTime moves only the wall clock', () => {
    const clock = new FakeClock({ now: 1_000 });
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.setWallTime(50_000);
    expect(clock.now()).toBe(50_000);
    expect(clock.monotonic()).toBe(0);
    expect(fired).toBe(false);
    clock.advance(10);
    expect(clock.now()).toBe(50_010);
    expect(fired).toBe(true);
  });

  it('property: timers fire exactly once, in (due, schedule) order, never early', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 10 }),
        (delays, steps) => {
          const clock = new FakeClock({ now: 0 });
          const fired: Array<{ id: number; at: number }> = [];
          delays.forEach((delay, id) => clock.setTimeout(() => fired.push({ id, at: clock.now() }), delay));
          for (const step of steps) clock.advance(step);
          const elapsed = steps.reduce((a, b) => a + b, 0);
          const expected = delays
            .map((delay, id) => ({ id, at: delay }))
            .filter((t) => t.at <= elapsed)
            .sort((x, y) => x.at - y.at || x.id - y.id);
          expect(fired).toEqual(expected);
          expect(clock.pending()).toBe(delays.length - expected.length);
        },
      ),
    );
  });
});

describe('FakeClock with faked global timers', () => {
  it('advanceAsync still flushes when the global setImmediate is replaced after import', async () => {
    const original = globalThis.setImmediate;
    globalThis.setImmediate = (() => {
      throw new Error('faked');
    }) as unknown as typeof setImmediate;
    try {
      const clock = new FakeClock();
      let fired = false;
      clock.setTimeout(() => {
        fired = true;
      }, 5);
      await clock.advanceAsync(5);
      expect(fired).toBe(true);
    } finally {
      globalThis.setImmediate = original;
    }
  });
});
