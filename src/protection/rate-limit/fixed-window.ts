/**
 * The fixed window's pure model: windows aligned to multiples of `windowMs` since the epoch (so every
 * process and store agrees on them), at most `limit` units admitted per window, the count forgotten when the
 * next window starts. Exact: no aligned window ever admits more than `limit`; any interval of `windowMs` may
 * admit up to `2·limit` (the end of one window and the start of the next).
 *
 * @module
 */
import type { ModelResult } from './token-bucket.js';
import type { RateLimitRule } from './types.js';

/** The current window's start (ms) and the units admitted in it. */
export interface FixedWindowState {
  /** Start of the current window, epoch ms (a multiple of `windowMs`). */
  readonly start: number;
  /** Units admitted in the current window. */
  readonly count: number;
}

/**
 * Decides `n` units (0 = a status read) in `state` (`undefined` = never used) under `rule` at `now` (integer
 * ms; a `now` before the state's window counts as inside it). Refused decisions record nothing. `n` above the
 * limit is refused with `retryAfterMs` Infinity.
 */
export function decideFixedWindow(
  state: FixedWindowState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): ModelResult<FixedWindowState> {
  const { limit, windowMs } = rule;
  let start = now - (now % windowMs);
  let count = 0;
  if (state !== undefined && start <= state.start) {
    start = state.start;
    count = state.count;
  }
  const end = start + windowMs;
  const at = now < start ? start : now;
  if (count + n <= limit) {
    count += n;
    return {
      decision: {
        allowed: true,
        remaining: limit - count,
        retryAfterMs: 0,
        resetMs: count > 0 ? end - at : 0,
        limit,
      },
      nextState: { start, count },
    };
  }
  return {
    decision: {
      allowed: false,
      remaining: limit - count,
      retryAfterMs: n > limit ? Number.POSITIVE_INFINITY : end - at,
      resetMs: end - at,
      limit,
    },
    nextState: { start, count },
  };
}

/** Ms at which the state's window ends (the state can be forgotten). */
export function fixedWindowIdleAt(state: FixedWindowState, rule: RateLimitRule): number {
  return state.start + rule.windowMs;
}
