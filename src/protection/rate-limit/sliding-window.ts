/**
 * The sliding window's pure model: the two-window weighted counter (Cloudflare's). Windows are aligned to
 * multiples of `windowMs` since the epoch; the key keeps the count of the current window (`curr`) and of the
 * one before (`prev`). At `e` ms into the current window, `n` units are admitted when BOTH
 *
 * - `curr + n ≤ limit` — so no aligned window ever admits more than `limit` (exact, property-tested), and
 * - `prev·(windowMs − e)/windowMs + curr + n ≤ limit` — the estimate of the last `windowMs` that assumes the
 *   previous window's units were spread evenly over it.
 *
 * The estimate is an approximation for windows that are not aligned: an interval `[s, s + windowMs)` starting
 * `p` ms into an aligned window that admitted `P` units (`P[0,p)` of them before `s`) admits at most
 * `limit + floor(P·(p − 1)/windowMs) − P[0,p)` units (property-tested) — at most `limit − 1` more than the
 * limit, reached only when the previous window's units all came at its very end. Use `token_bucket` or
 * `gcra` when every interval must hold a bound. All arithmetic is on integers (the estimate is compared
 * multiplied by `windowMs`), so decisions and `retryAfterMs` are exact.
 *
 * @module
 */
import { type ModelResult } from './token-bucket.js';
import type { RateLimitRule } from './types.js';

/** The current aligned window's start (ms), its count and the previous window's count. */
export interface SlidingWindowState {
  /** Start of the current aligned window, epoch ms (a multiple of `windowMs`). */
  readonly start: number;
  /** Units admitted in the previous aligned window (the estimate weighs them by their overlap). */
  readonly prev: number;
  /** Units admitted in the current window. */
  readonly curr: number;
}

/** `floor(a / b)` for non-negative integers `a`, positive `b`, exact below 2^53. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  // As in ceilDiv: the correction cannot run below 2^53; it guards larger inputs.
  /* v8 ignore start */
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  /* v8 ignore stop */
  return q;
}

/**
 * Decides `n` units (0 = a status read) in `state` (`undefined` = never used) under `rule` at `now` (integer
 * ms; a `now` before the state's window counts as its start). Refused decisions record nothing. `n` above
 * the limit is refused with `retryAfterMs` Infinity; otherwise `retryAfterMs` is the exact wait until `n`
 * units would be admitted if nothing else were.
 */
export function decideSlidingWindow(
  state: SlidingWindowState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): ModelResult<SlidingWindowState> {
  const { limit, windowMs } = rule;
  let start = now - (now % windowMs);
  let prev = 0;
  let curr = 0;
  if (state !== undefined) {
    if (start <= state.start) {
      start = state.start;
      prev = state.prev;
      curr = state.curr;
    } else if (start === state.start + windowMs) {
      prev = state.curr;
    }
  }
  const at = now < start ? start : now;
  const left = windowMs - (at - start);
  const budget = limit * windowMs - prev * left;
  if (curr + n <= limit && (curr + n) * windowMs <= budget) {
    curr += n;
    return {
      decision: {
        allowed: true,
        remaining: Math.max(0, Math.min(limit - curr, floorDiv(Math.max(0, budget), windowMs) - curr)),
        retryAfterMs: 0,
        resetMs: curr > 0 ? start + 2 * windowMs - at : prev > 0 ? left : 0,
        limit,
      },
      nextState: { start, prev, curr },
    };
  }
  let retryAfterMs = Number.POSITIVE_INFINITY;
  if (n <= limit) {
    let when = -1;
    if (curr + n <= limit) {
      // Still this window, once the previous window's weight has decayed enough.
      const e = windowMs - floorDiv((limit - curr - n) * windowMs, prev);
      if (e < windowMs) when = start + e;
    }
    if (when < 0) {
      // The next window: this one's count becomes the decaying previous one.
      const e = curr === 0 ? 0 : Math.max(0, windowMs - floorDiv((limit - n) * windowMs, curr));
      when = start + windowMs + e;
    }
    retryAfterMs = when - at;
  }
  return {
    decision: {
      allowed: false,
      remaining: Math.max(0, Math.min(limit - curr, floorDiv(Math.max(0, budget), windowMs) - curr)),
      retryAfterMs,
      resetMs: curr > 0 ? start + 2 * windowMs - at : left,
      limit,
    },
    nextState: { start, prev, curr },
  };
}

/** Ms after which the state no longer weighs on any decision (it can be forgotten). */
export function slidingWindowIdleAt(state: SlidingWindowState, rule: RateLimitRule): number {
  if (state.curr > 0) return state.start + 2 * rule.windowMs;
  return state.prev > 0 ? state.start + rule.windowMs : state.start;
}
