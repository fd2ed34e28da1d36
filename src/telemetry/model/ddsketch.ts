/**
 * DDSketch (Masson, Rim, Lee — VLDB 2019): a mergeable quantile sketch with a bounded relative error, in
 * fixed memory. See docs/decisions/0011-quantile-sketch.md.
 *
 * @module
 */
import { BucketStore } from './bucket-store.js';
import { invalidMetric } from './invalid-metric.js';

/**
 * Magnitudes below this count as zero (the smallest normal double; logarithms of subnormals would widen the
 * index range for no practical use).
 */
export const DDSKETCH_MIN_INDEXABLE = 2.2250738585072014e-308;

/** Largest accepted `maxBuckets` (per store: positive and negative values each have one). */
export const DDSKETCH_MAX_BUCKETS_LIMIT = 1_000_000;

/**
 * The 0-based rank, in the ascending sorted data of `n` values, that {@link DDSketch.quantile} approximates for
 * quantile `q`: `⌈q·(n−1)⌉` (the "higher" of the two values around the exact position), after forgiving
 * 1e-9 of floating-point noise (`0.07 × 100` is 7.000000000000001, and means rank 7), clamped to `[0, n−1]`.
 */
export function quantileRank(q: number, n: number): number {
  const rank = Math.ceil(q * (n - 1) - 1e-9);
  return rank <= 0 ? 0 : rank > n - 1 ? n - 1 : rank;
}

/**
 * A DDSketch with relative accuracy α: every quantile it returns is within `α·|x|` of the exact value `x`
 * at rank `quantileRank(q, count)`, as long as no bucket collapsed (see below).
 *
 * Values are finite numbers: positives and negatives go to two bucket stores (bucket `i` holds magnitudes
 * in `(γ^(i−1), γ^i]`, `γ = (1+α)/(1−α)`), zero (and magnitudes below `DDSKETCH_MIN_INDEXABLE`) to a
 * zero count. Each store keeps at most `maxBuckets` consecutive buckets; when a value would need more, the
 * buckets of the smallest magnitudes collapse into the lowest kept one, so quantiles that fall on those values
 * are over-estimated in magnitude (the error bound no longer holds for them; it still holds for every rank
 * whose value lies in the kept range). With α = 0.01 and 2048 buckets the kept range spans a factor of
 * about 6·10¹⁷ between the smallest and largest magnitude, so real latency or size data never collapses.
 *
 * `add` costs one `Math.log` and an array increment: no allocation, no map.
 */
export class DDSketch {
  /** The relative accuracy α of this sketch, in (0, 1). */
  readonly relativeAccuracy: number;
  /** The widest bucket range per store. */
  readonly maxBuckets: number;
  private readonly gamma: number;
  /** 1 / ln γ: the index of `v` is `⌈ln v · multiplier⌉`. */
  private readonly multiplier: number;
  private readonly positive: BucketStore;
  private readonly negative: BucketStore;
  private zeroCount = 0;
  private total = 0;
  private runningSum = 0;
  private low = Infinity;
  private high = -Infinity;

  /**
   * A sketch with relative accuracy `relativeAccuracy` (in (0, 1), default 1%) and at most `maxBuckets`
   * buckets per sign (an integer in [1, 1 000 000], default 2048). Anything else throws
   * `FND_TELEMETRY_INVALID_METRIC`.
   */
  constructor(relativeAccuracy = 0.01, maxBuckets = 2048) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw invalidMetric('relativeAccuracy must be a number in (0, 1)', { relativeAccuracy });
    }
    if (!Number.isInteger(maxBuckets) || maxBuckets < 1 || maxBuckets > DDSKETCH_MAX_BUCKETS_LIMIT) {
      throw invalidMetric(`maxBuckets must be an integer in [1, ${String(DDSKETCH_MAX_BUCKETS_LIMIT)}]`, {
        maxBuckets,
      });
    }
    this.relativeAccuracy = relativeAccuracy;
    this.maxBuckets = maxBuckets;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.multiplier = 1 / Math.log(this.gamma);
    this.positive = new BucketStore(maxBuckets);
    this.negative = new BucketStore(maxBuckets);
  }

  /** Number of values added (sum of the counts). */
  get count(): number {
    return this.total;
  }

  /** Exact sum of the values added (each times its count). */
  get sum(): number {
    return this.runningSum;
  }

  /** Exact smallest value added; `NaN` when empty. */
  get min(): number {
    return this.total === 0 ? NaN : this.low;
  }

  /** Exact largest value added; `NaN` when empty. */
  get max(): number {
    return this.total === 0 ? NaN : this.high;
  }

  /**
   * Adds `value` (a finite number) `count` times (finite, `>= 0`; 0 adds nothing). Anything else throws
   * `FND_TELEMETRY_INVALID_METRIC`.
   */
  add(value: number, count = 1): void {
    if (!(value - value === 0 && count > 0 && count < Infinity)) {
      if (count === 0 && value - value === 0) return;
      throw invalidMetric('a sketch takes finite values and finite positive counts', { value, count });
    }
    if (value > DDSKETCH_MIN_INDEXABLE) {
      this.positive.add(Math.ceil(Math.log(value) * this.multiplier), count);
    } else if (value < -DDSKETCH_MIN_INDEXABLE) {
      this.negative.add(Math.ceil(Math.log(-value) * this.multiplier), count);
    } else {
      this.zeroCount += count;
    }
    this.total += count;
    this.runningSum += value * count;
    if (value < this.low) this.low = value;
    if (value > this.high) this.high = value;
  }

  /**
   * Adds everything `other` holds to this sketch (`other` is unchanged). The sketches must have the same
   * relative accuracy, else `FND_TELEMETRY_INVALID_METRIC`. The result equals the sketch of the union of
   * both inputs (same buckets, counts, sum, min and max), up to collapsing if the union is wider than
   * `maxBuckets`.
   */
  merge(other: DDSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw invalidMetric('cannot merge sketches of different relative accuracy', {
        relativeAccuracy: this.relativeAccuracy,
        otherRelativeAccuracy: other.relativeAccuracy,
      });
    }
    if (other.total === 0) return;
    this.positive.mergeFrom(other.positive);
    this.negative.mergeFrom(other.negative);
    this.zeroCount += other.zeroCount;
    this.total += other.total;
    this.runningSum += other.runningSum;
    if (other.low < this.low) this.low = other.low;
    if (other.high > this.high) this.high = other.high;
  }

  /**
   * The `q`-quantile (q in [0, 1], else `FND_TELEMETRY_INVALID_METRIC`): an estimate of the value at 0-based
   * rank `quantileRank(q, count)` of the sorted values, within relative error α of it, clamped to
   * the exact [min, max]; the first and last ranks return the exact min and max. `NaN` when empty.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw invalidMetric('a quantile must be a number in [0, 1]', { q });
    const n = this.total;
    if (n === 0) return NaN;
    let rank = quantileRank(q, n);
    if (rank === 0) return this.low;
    if (rank === n - 1) return this.high;
    let estimate: number;
    const negatives = this.negative.count;
    if (rank < negatives) {
      // Ascending order of values is descending order of negative magnitudes.
      estimate = -this.valueOf(this.negative.indexAtRankDescending(rank));
    } else {
      rank -= negatives;
      if (rank < this.zeroCount) {
        estimate = 0;
      } else {
        rank -= this.zeroCount;
        estimate =
          this.positive.count > 0 ? this.valueOf(this.positive.indexAtRankAscending(rank)) : this.high;
      }
    }
    return estimate < this.low ? this.low : estimate > this.high ? this.high : estimate;
  }

  /** Values that were moved into a bucket of larger magnitude because a store reached `maxBuckets`. */
  collapsedCount(): number {
    return this.positive.collapsed + this.negative.collapsed;
  }

  /** Empties the sketch (keeping its allocated buckets for reuse). */
  clear(): void {
    this.positive.clear();
    this.negative.clear();
    this.zeroCount = 0;
    this.total = 0;
    this.runningSum = 0;
    this.low = Infinity;
    this.high = -Infinity;
  }

  /** The representative magnitude of bucket `index`: `2γ^i / (γ + 1)`, within α of all of `(γ^(i−1), γ^i]`. */
  private valueOf(index: number): number {
    return (2 * Math.pow(this.gamma, index)) / (this.gamma + 1);
  }
}
