/**
 * A deterministic {@link Clock} for tests: time moves only when the test calls {@link FakeClock.advance} or
 * {@link FakeClock.advanceAsync}, and due timers run in order (by due time, then by scheduling order).
 *
 * @module
 */
import type { Clock, TimerHandle } from '../kernel/clock.js';
import { FoundationError } from '../errors/index.js';

/** Options of the {@link FakeClock} constructor. */
export interface FakeClockOptions {
  /** Initial wall-clock time, ms since the epoch. Default `1_700_000_000_000` (2023-11-14T22:13:20Z). */
  readonly now?: number;
  /** Initial monotonic time, ms. Default `0`. */
  readonly monotonic?: number;
}

interface FakeTimer {
  /** Elapsed fake time (ms since construction) at which the timer fires. */
  readonly due: number;
  /** Scheduling order, breaks ties between timers due at the same time. */
  readonly seq: number;
  readonly fn: () => void;
}

/** The wall-clock start used when none is given: 2023-11-14T22:13:20.000Z. */
export const FAKE_CLOCK_DEFAULT_NOW = 1_700_000_000_000;

/**
 * The host's `setImmediate`, captured when this module loads so that `advanceAsync` keeps working when a test
 * later installs a timer-faking library (which would replace the global).
 */
const hostSetImmediate = globalThis.setImmediate;

function flushMicrotasks(): Promise<void> {
  // A macrotask boundary runs every queued microtask, including chains that queue more microtasks.
  return new Promise((resolve) => {
    hostSetImmediate(resolve);
  });
}

function checkDuration(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `FakeClock can only advance by a finite, non-negative number of ms, got ${String(ms)}`,
      context: { ms },
    });
  }
}

/**
 * A fake clock. `now()` and `monotonic()` move together when the clock is advanced; `setTimeout` schedules a
 * timer that fires during a later `advance` / `advanceAsync` whose range covers its due time.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * let fired = false;
 * clock.setTimeout(() => { fired = true; }, 100);
 * clock.advance(99);  // fired === false
 * clock.advance(1);   // fired === true
 * ```
 */
export class FakeClock implements Clock {
  #elapsed = 0;
  #wallOffset: number;
  readonly #monotonicStart: number;
  #seq = 0;
  /** Pending timers sorted by (due, seq). */
  readonly #timers: FakeTimer[] = [];

  /** @param options - initial wall and monotonic times. */
  constructor(options: FakeClockOptions = {}) {
    this.#wallOffset = options.now ?? FAKE_CLOCK_DEFAULT_NOW;
    this.#monotonicStart = options.monotonic ?? 0;
  }

  /** Fake wall-clock time, ms since the epoch. */
  now(): number {
    return this.#wallOffset + this.#elapsed;
  }

  /** Fake monotonic time, ms. */
  monotonic(): number {
    return this.#monotonicStart + this.#elapsed;
  }

  /**
   * Schedules `fn` to run once `ms` fake milliseconds from now. A negative or non-finite delay is treated as
   * `0` (due at the current time: it runs on the next `advance`, even `advance(0)`).
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: FakeTimer = { due: this.#elapsed + delay, seq: this.#seq++, fn };
    this.#insert(timer);
    return {
      cancel: () => {
        const index = this.#timers.indexOf(timer);
        if (index !== -1) this.#timers.splice(index, 1);
      },
    };
  }

  /**
   * Moves time forward by `ms`, running every timer that becomes due, in order. Timers scheduled by a
   * running timer also run when they fall inside the range. While a timer runs, `now()` reads its due time.
   * If timers throw, the remaining due timers still run and the first error is rethrown at the end.
   */
  advance(ms: number): void {
    checkDuration(ms);
    const target = this.#elapsed + ms;
    let failed = false;
    let firstError: unknown;
    for (let timer = this.#takeDue(target); timer !== undefined; timer = this.#takeDue(target)) {
      this.#elapsed = timer.due;
      try {
        timer.fn();
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
      }
    }
    this.#elapsed = target;
    if (failed) throw firstError;
  }

  /**
   * Like {@link FakeClock.advance}, but lets promise chains settle: microtasks are flushed before each due
   * timer runs and once more at the end, so code that `await`s between timers behaves as it would with real
   * time.
   */
  async advanceAsync(ms: number): Promise<void> {
    checkDuration(ms);
    const target = this.#elapsed + ms;
    let failed = false;
    let firstError: unknown;
    await flushMicrotasks();
    for (let timer = this.#takeDue(target); timer !== undefined; timer = this.#takeDue(target)) {
      this.#elapsed = timer.due;
      try {
        timer.fn();
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
      }
      await flushMicrotasks();
    }
    this.#elapsed = target;
    await flushMicrotasks();
    if (failed) throw firstError;
  }

  /** Number of timers scheduled and neither fired nor cancelled. */
  pending(): number {
    return this.#timers.length;
  }

  /**
   * Sets the wall-clock time without moving monotonic time or firing timers (simulates a system clock
   * adjustment).
   */
  setWallTime(now: number): void {
    this.#wallOffset = now - this.#elapsed;
  }

  #takeDue(target: number): FakeTimer | undefined {
    const first = this.#timers[0];
    if (first === undefined || first.due > target) return undefined;
    this.#timers.shift();
    return first;
  }

  #insert(timer: FakeTimer): void {
    // Binary search for the first timer due strictly later (seq is increasing, so ties keep schedule order).
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#timers[mid];
      if (other !== undefined && other.due <= timer.due) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
  }
}
