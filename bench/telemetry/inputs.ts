/**
 * Shared inputs of the telemetry suite's metric cases: the same buckets, quantiles, window, tag values and
 * observed values for ours, prom-client and the OpenTelemetry SDK.
 *
 * @module
 */
import type { Tags } from '../../src/telemetry/types.js';

/** Explicit histogram bounds (ms), given identically to every implementation (12 bounds + `+Inf`). */
export const BUCKETS: readonly number[] = Object.freeze([
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
]);

/** Quantiles of the sliding-window summaries (ours' default, given to prom-client's Summary). */
export const QUANTILES: readonly number[] = Object.freeze([0.5, 0.9, 0.99]);

/** Sliding window of the summaries, s (ours' default: 60 s in 6 sub-windows; prom-client: the same). */
export const WINDOW_SECONDS = 60;

/** Sub-windows (ours' `windowBuckets`, prom-client's `ageBuckets`). */
export const WINDOW_BUCKETS = 6;

/** The tag names of the tagged cases (2 tags). */
export const TAG_NAMES = ['method', 'status'] as const;

/** 8 tag combinations the unbound cases cycle over (`i & 7`). */
export const TAG_SETS: readonly Tags[] = Object.freeze(
  ['GET', 'POST', 'PUT', 'DELETE'].flatMap((method) =>
    ['200', '500'].map((status) => Object.freeze({ method, status })),
  ),
);

/** The one combination the bound cases use. */
export const BOUND_TAGS: Tags = TAG_SETS[0] as Tags;

/** Number of precomputed observed values; a power of two so `i & (VALUE_COUNT - 1)` cycles. */
export const VALUE_COUNT = 1024;

/**
 * 1024 latency-like values (ms) spread log-uniformly over 0.1 ms–10 s (every bucket and the `+Inf` one get
 * some), from a fixed linear congruential sequence so every run observes the same values.
 */
export const VALUES: Float64Array = (() => {
  const values = new Float64Array(VALUE_COUNT);
  let seed = 42;
  for (let k = 0; k < VALUE_COUNT; k++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    values[k] = 0.1 * 10 ** (5 * (seed / 2 ** 31));
  }
  return values;
})();

/** The observed value of iteration `i`. */
export function valueAt(i: number): number {
  return VALUES[i & (VALUE_COUNT - 1)] as number;
}

/** The tag set of iteration `i`. */
export function tagsAt(i: number): Tags {
  return TAG_SETS[i & 7] as Tags;
}
