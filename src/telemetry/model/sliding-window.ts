/**
 * Quantiles over a sliding time window: a ring of {@link DDSketch} sub-windows, rotated lazily on the clock
 * passed in (no timers).
 *
 * @module
 */
import { DDSketch } from './ddsketch.js';
import { invalidMetric } from './invalid-metric.js';

/** Options of a {@link SlidingWindowSketch}. */
export interface SlidingWindowOptions {
  /** Length of the window, ms (finite, > 0). */
  readonly windowMs: number;
  /** Sub-windows the window is made of (an integer in [1, 1000]); the window slides by `windowMs / buckets`. */
  readonly buckets: number;
  /** Relative accuracy α of the quantiles, in (0, 1). */
  readonly relativeAccuracy: number;
  /** The current time, ms (any monotonic-enough clock: `clock.now` or `clock.wallNow`). */
  readonly now: () => number;
  /** Buckets per sign of each sub-window's sketch (default 2048; see {@link DDSketch}). */
  readonly maxBuckets?: number;
}

const MAX_SUB_WINDOWS = 1000;

/**
 * A sliding-window quantile sketch. Time is cut into sub-windows of `windowMs / buckets` ms (sub-window
 * number `⌊now / (windowMs / buckets)⌋`); the live window is the current sub-window and the `buckets − 1`
 * before it. So a value is reported for at least `windowMs − windowMs / buckets` ms and never once it is
 * `windowMs` old.
 *
 * Rotation is lazy: `add` compares the sub-window number with the current one, and only when it changed
 * clears the expired sub-window it reuses. If the clock goes backwards, values go into the current
 * sub-window (the window never rewinds).
 *
 * Errors: bad options and non-finite values throw `FND_TELEMETRY_INVALID_METRIC`.
 */
export class SlidingWindowSketch {
  /** Length of the window, ms. */
  readonly windowMs: number;
  /** Number of sub-windows. */
  readonly buckets: number;
  private readonly subWindowMs: number;
  private readonly now: () => number;
  private readonly sketches: DDSketch[];
  /** Sub-window number held by each slot (`-Infinity`: never used). */
  private readonly slotIndex: Float64Array;
  private readonly merged: DDSketch;
  private currentIndex = -Infinity;
  private current: DDSketch;

  /** A sliding window as described by `options`. */
  constructor(options: SlidingWindowOptions) {
    const { windowMs, buckets, relativeAccuracy, now } = options;
    if (!(windowMs > 0 && windowMs < Infinity)) {
      throw invalidMetric('windowMs must be a finite number > 0', { windowMs });
    }
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_SUB_WINDOWS) {
      throw invalidMetric(`buckets must be an integer in [1, ${String(MAX_SUB_WINDOWS)}]`, { buckets });
    }
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.subWindowMs = windowMs / buckets;
    this.now = now;
    this.sketches = [];
    for (let i = 0; i < buckets; i++) this.sketches.push(new DDSketch(relativeAccuracy, options.maxBuckets));
    this.slotIndex = new Float64Array(buckets).fill(-Infinity);
    this.merged = new DDSketch(relativeAccuracy, options.maxBuckets);
    this.current = this.sketches[0] as DDSketch;
  }

  /** Adds `value` (finite) to the current sub-window. */
  add(value: number): void {
    const index = Math.floor(this.now() / this.subWindowMs);
    if (index !== this.currentIndex) this.rotate(index);
    this.current.add(value);
  }

  /**
   * The quantiles `qs` (each in [0, 1]) over the live window, in the order asked; `NaN`s when the window is
   * empty. Each is within the relative accuracy of the exact value at `quantileRank` of the live values.
   */
  quantiles(qs: readonly number[]): number[] {
    const merged = this.merged;
    merged.clear();
    const live = this.liveFrom();
    for (let slot = 0; slot < this.buckets; slot++) {
      if ((this.slotIndex[slot] as number) >= live) merged.merge(this.sketches[slot] as DDSketch);
    }
    return qs.map((q) => merged.quantile(q));
  }

  /** Number of values in the live window. */
  count(): number {
    const live = this.liveFrom();
    let total = 0;
    for (let slot = 0; slot < this.buckets; slot++) {
      if ((this.slotIndex[slot] as number) >= live) total += (this.sketches[slot] as DDSketch).count;
    }
    return total;
  }

  /** Sum of the values in the live window. */
  sum(): number {
    const live = this.liveFrom();
    let total = 0;
    for (let slot = 0; slot < this.buckets; slot++) {
      if ((this.slotIndex[slot] as number) >= live) total += (this.sketches[slot] as DDSketch).sum;
    }
    return total;
  }

  /** Empties every sub-window. */
  clear(): void {
    for (const sketch of this.sketches) sketch.clear();
    this.slotIndex.fill(-Infinity);
    this.currentIndex = -Infinity;
    this.current = this.sketches[0] as DDSketch;
  }

  /** Moves to sub-window `index` if it is newer than the current one. */
  private rotate(index: number): void {
    if (!Number.isFinite(index)) throw invalidMetric('the clock returned a non-finite time', { index });
    // The clock went backwards: keep adding to the current sub-window.
    if (index < this.currentIndex) return;
    const slot = ((index % this.buckets) + this.buckets) % this.buckets;
    const sketch = this.sketches[slot] as DDSketch;
    if (this.slotIndex[slot] !== index) {
      sketch.clear();
      this.slotIndex[slot] = index;
    }
    this.currentIndex = index;
    this.current = sketch;
  }

  /** The oldest live sub-window number, after moving to the current time (clearing what expired). */
  private liveFrom(): number {
    const index = Math.floor(this.now() / this.subWindowMs);
    if (index > this.currentIndex) this.rotate(index);
    const live = this.currentIndex - this.buckets + 1;
    for (let slot = 0; slot < this.buckets; slot++) {
      const held = this.slotIndex[slot] as number;
      if (held !== -Infinity && held < live) {
        (this.sketches[slot] as DDSketch).clear();
        this.slotIndex[slot] = -Infinity;
      }
    }
    return live;
  }
}
