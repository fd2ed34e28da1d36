/**
 * Short in-memory time series for the dashboard: fixed-resolution rings in preallocated arrays.
 *
 * @module
 */
import type { SeriesPoint } from '../types.js';
import { invalidMetric } from './invalid-metric.js';

/** Largest ring a {@link TimeSeriesRing} accepts. */
export const TIME_SERIES_MAX_CAPACITY = 1_000_000;

/**
 * A ring of `capacity` slots of `resolutionMs` each (slot number `⌊t / resolutionMs⌋`): it keeps the last
 * `capacity` slots up to the newest one recorded. Memory: two `Float64Array`s of `capacity`, allocated once.
 */
export class TimeSeriesRing {
  /** Width of a slot, ms. */
  readonly resolutionMs: number;
  /** Number of slots kept. */
  readonly capacity: number;
  private readonly values: Float64Array;
  /** Slot number held at each position (`NaN`: empty). */
  private readonly slots: Float64Array;
  private newest = -Infinity;

  /**
   * A ring of `capacity` slots (an integer in [1, 1 000 000]) of `resolutionMs` ms (finite, `> 0`); anything
   * else throws `FND_TELEMETRY_INVALID_METRIC`.
   */
  constructor(resolutionMs: number, capacity: number) {
    if (!(resolutionMs > 0 && resolutionMs < Infinity)) {
      throw invalidMetric('resolutionMs must be a finite number > 0', { resolutionMs });
    }
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > TIME_SERIES_MAX_CAPACITY) {
      throw invalidMetric(`capacity must be an integer in [1, ${String(TIME_SERIES_MAX_CAPACITY)}]`, {
        capacity,
      });
    }
    this.resolutionMs = resolutionMs;
    this.capacity = capacity;
    this.values = new Float64Array(capacity);
    this.slots = new Float64Array(capacity).fill(NaN);
  }

  /**
   * Records `v` (any number; `NaN` means "no value" and is kept as such) at time `t` (finite ms, else
   * `FND_TELEMETRY_INVALID_METRIC`) in the slot containing `t`: the last value recorded in a slot wins. A
   * newer slot moves the ring forward (slots more than `capacity` behind it are forgotten); an older slot
   * still inside the ring is written; a slot older than the ring is ignored.
   */
  record(t: number, v: number): void {
    if (!Number.isFinite(t)) throw invalidMetric('a time series takes finite times', { t });
    const slot = Math.floor(t / this.resolutionMs);
    if (slot > this.newest) this.newest = slot;
    else if (slot <= this.newest - this.capacity) return;
    const position = ((slot % this.capacity) + this.capacity) % this.capacity;
    this.slots[position] = slot;
    this.values[position] = v;
  }

  /**
   * The filled slots of the ring, oldest first, as `{ t: start of the slot, v }`; with `since`, only the
   * points with `t ≥ since`.
   */
  points(since?: number): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    if (this.newest === -Infinity) return out;
    let first = this.newest - this.capacity + 1;
    if (since !== undefined && since > first * this.resolutionMs) {
      first = Math.max(first, Math.ceil(since / this.resolutionMs));
    }
    for (let slot = first; slot <= this.newest; slot++) {
      const position = ((slot % this.capacity) + this.capacity) % this.capacity;
      if (this.slots[position] === slot) {
        const t = slot * this.resolutionMs;
        if (since === undefined || t >= since) out.push({ t, v: this.values[position] as number });
      }
    }
    return out;
  }

  /** Forgets every point. */
  clear(): void {
    this.slots.fill(NaN);
    this.newest = -Infinity;
  }
}

/** Resolution of {@link MetricSeries} rings: `fine` (1 s × 900 = 15 min) or `coarse` (1 min × 1440 = 24 h). */
export type SeriesResolution = 'fine' | 'coarse';

/**
 * The dashboard series of one metric series: a `fine` ring (1000 ms × 900 = the last 15 minutes) and a
 * `coarse` ring (60 000 ms × 1440 = the last 24 hours); each point is the last value recorded in its slot.
 * About 37 KB, allocated once.
 */
export class MetricSeries {
  /** The last 15 minutes at 1 s. */
  readonly fine = new TimeSeriesRing(1000, 900);
  /** The last 24 hours at 1 min. */
  readonly coarse = new TimeSeriesRing(60_000, 1440);

  /** Records `v` at time `t` in both rings. */
  record(t: number, v: number): void {
    this.fine.record(t, v);
    this.coarse.record(t, v);
  }

  /** The points of one ring, oldest first (see {@link TimeSeriesRing.points}). */
  points(resolution: SeriesResolution, since?: number): SeriesPoint[] {
    return (resolution === 'fine' ? this.fine : this.coarse).points(since);
  }
}
