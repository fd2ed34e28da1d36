/**
 * A coarse system time: `Date.now()` read at most about once per millisecond (or once per 32 reads), for hot
 * paths that take a decision per call and can live with a time that lags the truth a little. Reading it costs
 * a field read and a decrement instead of `Date.now()`'s ~40 ns.
 *
 * The cached value is refreshed on a read when either
 *
 * - a 1 ms timer fired since the last refresh — the timer is armed only by a refresh that follows such an
 *   invalidation (lru-cache's `ttlResolution` precedent), so an idle process has no timer, and a busy one
 *   at most one `unref()`ed timer per millisecond; or
 * - 32 reads went by since the last refresh, whatever the timer — in a long synchronous loop no timer can
 *   fire, and time still moves.
 *
 * So a read lags `Date.now()` by at most the longer of ~1 ms (plus the event loop's delay to run the timer)
 * and the time 32 reads take; it is never ahead of the system time it last read.
 *
 * Who may use it: code whose decisions stay safe when `now` is slightly EARLIER than the truth. The memory
 * rate-limit store is such code: every model treats an earlier `now` conservatively — a token bucket or GCRA
 * refills less, a window is still the old (fuller) one, a hold is still in force — so a stale time can refuse
 * slightly longer, never admit more, and a `retryAfterMs` may be over by the staleness. An injected clock (a
 * test's fake clock) is never replaced by this one: only the real `systemClock` is.
 *
 * The one process-wide instance ({@link coarseSystemTime}) caches a process-wide fact (the system time), not
 * any foundation's state: two foundations in one process reading it cannot observe each other through it.
 *
 * @module
 */

/** How often, in reads, the cached time is refreshed even when no timer fired. */
export const COARSE_CLOCK_MAX_READS = 32;

/** The invalidation timer's delay, ms. */
export const COARSE_CLOCK_RESOLUTION_MS = 1;

/** What a {@link CoarseClock} reads and how it arms its invalidation timer (injectable for tests). */
export interface CoarseClockSource {
  /** The precise time, ms since the epoch (default `Date.now`). */
  readonly read: () => number;
  /** Calls `fn` once after `ms` ms without keeping the process alive (default an `unref()`ed `setTimeout`). */
  readonly schedule: (fn: () => void, ms: number) => void;
}

/** The real source: `Date.now()` and an `unref()`ed `setTimeout`. */
const systemSource: CoarseClockSource = Object.freeze({
  read: () => Date.now(),
  schedule(fn: () => void, ms: number): void {
    setTimeout(fn, ms).unref();
  },
});

/**
 * A cached wall-clock time, refreshed lazily (see the module docs). Use the process-wide
 * {@link coarseSystemTime}; a separate instance is for tests (an injected {@link CoarseClockSource}).
 */
export class CoarseClock {
  readonly #source: CoarseClockSource;
  readonly #invalidate: () => void;
  /** The cached time. */
  #value = 0;
  /** Reads left before a refresh; 0 until the first read and once the timer fired (the next read refreshes). */
  #left = 0;
  /** Whether an invalidation timer is pending. */
  #armed = false;

  /** @param source - the precise time and the timer (default the system's). */
  constructor(source: CoarseClockSource = systemSource) {
    this.#source = source;
    this.#invalidate = () => {
      this.#armed = false;
      this.#left = 0;
    };
  }

  /** The cached time, ms since the epoch (an integer when the source's is); refreshed as the module docs say. */
  now(): number {
    // One decrement and one comparison on the hot path: the timer invalidates by zeroing the count.
    if (--this.#left > 0) return this.#value;
    return this.#refresh();
  }

  /** Whether an invalidation timer is pending (the cached value is in use): false when idle. */
  get armed(): boolean {
    return this.#armed;
  }

  #refresh(): number {
    this.#value = this.#source.read();
    this.#left = COARSE_CLOCK_MAX_READS;
    if (!this.#armed) {
      this.#armed = true;
      this.#source.schedule(this.#invalidate, COARSE_CLOCK_RESOLUTION_MS);
    }
    return this.#value;
  }
}

/** The process-wide coarse system time (`Date.now()` refreshed as {@link CoarseClock} says). */
export const coarseSystemTime = new CoarseClock();
