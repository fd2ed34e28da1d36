/**
 * The token bucket's pure model. A bucket holds up to `burst` tokens (default `limit`) and refills at
 * `limit / windowMs` tokens per ms; a decision for `n` units takes `n` tokens when they are there.
 *
 * Exact integer arithmetic: tokens are kept scaled by `windowMs` (one token = `windowMs` scaled units) and the
 * bucket refills `limit` scaled units per ms, so with integer `now`, `limit` and `windowMs` no rounding ever
 * happens and `retryAfterMs` is exact: a decision at `now + retryAfterMs` admits the same `n` (when nothing
 * else was taken meanwhile), one ms earlier refuses it.
 *
 * @module
 */
import type { RateLimitDecision, RateLimitRule } from './types.js';

/** A bucket: `at` the time (ms) of the last decision, `scaled` the tokens then, times `windowMs`. */
export interface TokenBucketState {
  /** Time of the last decision, ms. */
  readonly at: number;
  /** Tokens in the bucket at `at`, multiplied by `windowMs` (exact integer arithmetic). */
  readonly scaled: number;
}

/** What a model's `decide` returns: the decision and the state to keep. */
export interface ModelResult<S> {
  /** The decision for the requested units (a status read when 0 units were asked). */
  readonly decision: RateLimitDecision;
  /** The state to keep for the key (a refusal records no units). */
  readonly nextState: S;
}

/**
 * `ceil(a / b)` for non-negative integers `a` and positive integers `b`, exact below 2^53 (the float quotient
 * is corrected by one multiplication each way).
 */
export function ceilDiv(a: number, b: number): number {
  let q = Math.ceil(a / b);
  // Below 2^53 the correctly rounded quotient never lands on the wrong side of an integer (that needs
  // a ≥ b·k > 2^53): the correction guards larger inputs and cannot run in range (3 M random trials).
  /* v8 ignore start */
  if (q * b < a) q += 1;
  else if (q > 0 && (q - 1) * b >= a) q -= 1;
  /* v8 ignore stop */
  return q;
}

/** Capacity of a rule's bucket, in units (`burst`, default `limit`). */
export function capacityOf(rule: RateLimitRule): number {
  return rule.burst ?? rule.limit;
}

/**
 * Decides `n` units (0 = a status read) for a bucket in `state` (`undefined` = never used: full) under `rule`
 * at `now` (integer ms; a `now` before the state's time counts as the state's time). Refused decisions record
 * nothing (`nextState` is the refilled state). `n` above the capacity is refused with `retryAfterMs` Infinity.
 */
export function decideTokenBucket(
  state: TokenBucketState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): ModelResult<TokenBucketState> {
  const { limit, windowMs } = rule;
  const capacity = capacityOf(rule) * windowMs;
  let at = now;
  let scaled = capacity;
  if (state !== undefined) {
    if (now < state.at) at = state.at;
    scaled = Math.min(capacity, state.scaled + (at - state.at) * limit);
  }
  const need = n * windowMs;
  if (need <= scaled) {
    scaled -= need;
    return {
      decision: {
        allowed: true,
        remaining: Math.floor(scaled / windowMs),
        retryAfterMs: 0,
        resetMs: ceilDiv(capacity - scaled, limit),
        limit,
      },
      nextState: { at, scaled },
    };
  }
  return {
    decision: {
      allowed: false,
      remaining: Math.floor(scaled / windowMs),
      retryAfterMs: need > capacity ? Number.POSITIVE_INFINITY : ceilDiv(need - scaled, limit),
      resetMs: ceilDiv(capacity - scaled, limit),
      limit,
    },
    nextState: { at, scaled },
  };
}

/** Ms after a decision at `state.at` when the bucket is full again (its state can be forgotten). */
export function tokenBucketIdleAt(state: TokenBucketState, rule: RateLimitRule): number {
  return state.at + ceilDiv(capacityOf(rule) * rule.windowMs - state.scaled, rule.limit);
}
