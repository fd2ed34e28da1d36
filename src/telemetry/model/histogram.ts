/**
 * A histogram with explicit bucket bounds (Prometheus `le` semantics).
 *
 * @module
 */
import { invalidMetric } from './invalid-metric.js';

/** Most bounds a {@link BucketHistogram} accepts. */
export const HISTOGRAM_MAX_BOUNDS = 100;

/** Up to this many bounds, `observe` scans linearly; above, it searches by bisection. */
const LINEAR_SCAN_LIMIT = 16;

/** A cumulative snapshot of a {@link BucketHistogram}. */
export interface HistogramSnapshot {
  readonly count: number;
  readonly sum: number;
  /** `[upper bound, cumulative count]`, ascending; the last bound is `Infinity` and its count is `count`. */
  readonly buckets: Array<[number, number]>;
}

/**
 * Counts observations per bucket: a value `v` falls in the first bucket whose upper bound `b` has `v ≤ b`
 * (else in the implied `+Inf` bucket). Counts are exact; `sum` is the floating-point sum.
 */
export class BucketHistogram {
  /** The upper bounds, ascending (without the implied `Infinity`). */
  readonly bounds: readonly number[];
  private readonly upper: Float64Array;
  /** Non-cumulative counts; the last slot is the `+Inf` bucket. */
  private readonly counts: Float64Array;
  private readonly linear: boolean;
  private total = 0;
  private runningSum = 0;

  /**
   * A histogram with the given upper bounds: 1 to `HISTOGRAM_MAX_BOUNDS` (100) finite numbers, strictly
   * ascending; anything else throws `FND_TELEMETRY_INVALID_METRIC`.
   */
  constructor(bounds: readonly number[]) {
    if (bounds.length < 1 || bounds.length > HISTOGRAM_MAX_BOUNDS) {
      throw invalidMetric(`a histogram needs 1 to ${String(HISTOGRAM_MAX_BOUNDS)} bucket bounds`, {
        bounds: bounds.length,
      });
    }
    for (let i = 0; i < bounds.length; i++) {
      const b: unknown = bounds[i];
      if (typeof b !== 'number' || !Number.isFinite(b)) {
        throw invalidMetric('histogram bucket bounds must be finite numbers', { index: i, bound: b });
      }
      if (i > 0 && !(b > (bounds[i - 1] as number))) {
        throw invalidMetric('histogram bucket bounds must be strictly ascending', { index: i, bound: b });
      }
    }
    this.bounds = Object.freeze([...bounds]);
    this.upper = Float64Array.from(bounds);
    this.counts = new Float64Array(bounds.length + 1);
    this.linear = bounds.length <= LINEAR_SCAN_LIMIT;
  }

  /** Counts `value` (finite, else `FND_TELEMETRY_INVALID_METRIC`). */
  observe(value: number): void {
    if (value - value !== 0) throw invalidMetric('a histogram observes finite values', { value });
    const upper = this.upper;
    const n = upper.length;
    let i: number;
    if (this.linear) {
      i = 0;
      while (i < n && value > (upper[i] as number)) i++;
    } else {
      // First i with value <= upper[i] (n when none).
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (value > (upper[mid] as number)) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total++;
    this.runningSum += value;
  }

  /** Number of observations. */
  get count(): number {
    return this.total;
  }

  /** Sum of the observations. */
  get sum(): number {
    return this.runningSum;
  }

  /** Count, sum and the cumulative buckets, ending with `[Infinity, count]`. */
  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    let cumulative = 0;
    const n = this.upper.length;
    for (let i = 0; i < n; i++) {
      cumulative += this.counts[i] as number;
      buckets.push([this.upper[i] as number, cumulative]);
    }
    buckets.push([Infinity, this.total]);
    return { count: this.total, sum: this.runningSum, buckets };
  }

  /** Sets every count and the sum back to 0. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.runningSum = 0;
  }
}
