/**
 * The injectable clock. Every time-dependent part of the foundation takes a `Clock` so tests can drive
 * time with a fake clock (`@elixirscope/foundation/testing`) instead of sleeping.
 *
 * @module
 */

/** A cancellable timer handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Cancels the timer; calling it twice is harmless. */
  cancel(): void;
}

/** Time source and timer factory. One unit everywhere: milliseconds. */
export interface Clock {
  /** Wall-clock time, ms since the Unix epoch. */
  now(): number;
  /** Monotonic time in ms (fractional), for durations; unrelated to wall time. */
  monotonic(): number;
  /** Calls `fn` once after `ms` milliseconds. Real timers are `unref()`ed: they never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: `Date.now()`, `performance.now()` and unref'ed `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref();
    return {
      cancel: () => {
        clearTimeout(t);
      },
    };
  },
});
