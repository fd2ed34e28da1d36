/**
 * The contract of an adaptive concurrency limit algorithm (the pure model of the adaptive layer): it is fed one
 * sample per finished call — the call's round-trip time, how many calls were in flight when it was admitted,
 * and whether it was dropped (timed out or refused further in) — and answers the new concurrency limit. No
 * clock, no I/O: time enters only as the measured `rttMs`. Semantics follow Netflix concurrency-limits.
 *
 * @module
 */

/** One finished call, as seen by a limit algorithm. */
export interface LimitSample {
  /** The call's round-trip time in ms (admission to settlement), measured on the injected clock. */
  readonly rttMs: number;
  /** Calls in flight when this call was admitted, itself included. */
  readonly inflight: number;
  /** The call was dropped: it timed out, or an inner layer refused it (overload signal). */
  readonly dropped: boolean;
  /** How many calls this sample stands for (an aggregate of a window of calls). Default 1. */
  readonly calls?: number;
}

/** The bounds every algorithm keeps its limit in (integers, `1 ≤ minLimit ≤ maxLimit`). */
export interface LimitBounds {
  /** The lowest limit, an integer ≥ 1. */
  readonly minLimit: number;
  /** The highest limit, an integer ≥ `minLimit`. */
  readonly maxLimit: number;
}

/** An adaptive limit algorithm: a small state machine over {@link LimitSample}s. */
export interface LimitAlgorithm {
  /** The algorithm's name, as in options (`'aimd'`, `'vegas'`, `'gradient2'`). */
  readonly name: string;
  /** The current limit: an integer within `[minLimit, maxLimit]`. */
  readonly limit: number;
  /** Feeds one sample; returns the new limit (an integer within the bounds). */
  update(sample: LimitSample): number;
}

/** Clamps `value` into `[bounds.minLimit, bounds.maxLimit]`. */
export function clampLimit(value: number, bounds: LimitBounds): number {
  if (!(value >= bounds.minLimit)) return bounds.minLimit; // NaN lands on the lower bound
  return value > bounds.maxLimit ? bounds.maxLimit : value;
}

/** The integer limit an estimate stands for: its floor, within the (integer) bounds. */
export function limitOf(estimate: number, bounds: LimitBounds): number {
  return clampLimit(Math.floor(estimate), bounds);
}
