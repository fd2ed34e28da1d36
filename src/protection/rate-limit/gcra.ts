/**
 * GCRA (generic cell rate algorithm)'s pure model. Each unit has an emission interval `T = windowMs / limit`;
 * the key keeps one "theoretical arrival time" (TAT); `n` units are admitted at `now` when
 * `TAT + n·T − now ≤ burst·T` (burst default `limit`), and then TAT moves to `max(TAT, now) + n·T`.
 *
 * Exact integer arithmetic: TAT is kept as `at + debt / limit`, `debt` in ms × limit units (one unit costs
 * `windowMs` of debt, `limit` of debt drains per ms), so with integer inputs nothing is rounded and
 * `retryAfterMs` is exact (a decision at `now + retryAfterMs` admits, one ms earlier refuses). GCRA admits
 * exactly what a token bucket of capacity `burst` admits; it is the same limit in a different state shape
 * (a debt that vanishes when the key is idle, rather than a level of tokens).
 *
 * @module
 */
import { type ModelResult, capacityOf, ceilDiv } from './token-bucket.js';
import type { RateLimitRule } from './types.js';

/** TAT = `at + debt / limit` ms; `debt` 0 means the key is idle (full allowance). */
export interface GcraState {
  /** Time of the last decision, ms: the base of the theoretical arrival time. */
  readonly at: number;
  /** Debt at `at`, in ms × limit units (one unit costs `windowMs`; `limit` drains per ms); 0 when idle. */
  readonly debt: number;
}

/**
 * Decides `n` units (0 = a status read) for a key in `state` (`undefined` = never used) under `rule` at
 * `now` (integer ms; a `now` before the state's time counts as the state's time). Refused decisions record
 * nothing. `n` above the burst is refused with `retryAfterMs` Infinity.
 */
export function decideGcra(
  state: GcraState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): ModelResult<GcraState> {
  const { limit, windowMs } = rule;
  const tolerance = capacityOf(rule) * windowMs;
  let at = now;
  let debt = 0;
  if (state !== undefined) {
    if (now < state.at) at = state.at;
    debt = Math.max(0, state.debt - (at - state.at) * limit);
  }
  const cost = n * windowMs;
  if (debt + cost <= tolerance) {
    debt += cost;
    return {
      decision: {
        allowed: true,
        remaining: Math.floor((tolerance - debt) / windowMs),
        retryAfterMs: 0,
        resetMs: ceilDiv(debt, limit),
        limit,
      },
      nextState: { at, debt },
    };
  }
  return {
    decision: {
      allowed: false,
      remaining: Math.floor((tolerance - debt) / windowMs),
      retryAfterMs: cost > tolerance ? Number.POSITIVE_INFINITY : ceilDiv(debt + cost - tolerance, limit),
      resetMs: ceilDiv(debt, limit),
      limit,
    },
    nextState: { at, debt },
  };
}

/** Ms at which the key's TAT is reached (its state can be forgotten). */
export function gcraIdleAt(state: GcraState, rule: RateLimitRule): number {
  return state.at + ceilDiv(state.debt, rule.limit);
}
