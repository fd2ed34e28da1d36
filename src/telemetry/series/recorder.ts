/**
 * The series recorder: a short in-memory history of every metric for the dashboard. Every interval it
 * collects the registry and records one number per series into a {@link MetricSeries} (the last 15 minutes
 * at 1 s and the last 24 hours at 1 min):
 *
 * - counter, sum: the rate per second since the previous sample (the recorder's first sample only sets the
 *   baseline; a series that appears later counts from 0 at the sample before; a counter never goes below 0);
 * - last_value: the value;
 * - summary: one series per quantile, tag `quantile` (`'0.5'`, `'0.9'`, `'0.99'`…); no point while the window
 *   is empty;
 * - distribution: two series, tag `stat`: `rate` (observations per second) and `mean` (mean of the
 *   observations of the interval; no point when there were none).
 *
 * Memory is bounded: at most `maxSeriesPerMetric` recorded series per metric (further ones are not recorded
 * and counted in {@link SeriesRecorder.skipped}), each about 37 KB allocated once.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { MetricSeries, type SeriesResolution } from '../model/time-series.js';
import type { MetricSnapshot, SeriesPoint, SeriesSnapshot, Tags } from '../types.js';

/** Options of {@link SeriesRecorder}. */
export interface SeriesRecorderOptions {
  /** Timers and sample times. */
  readonly clock: Clock;
  /** Sampling interval, ms. Default 1000 (the fine resolution). */
  readonly intervalMs?: number;
  /** Most recorded series per metric. Default 20. */
  readonly maxSeriesPerMetric?: number;
}

/** One recorded series of a metric. */
export interface RecordedSeries {
  /** The series' tags (plus `quantile` or `stat` for summaries and distributions). */
  readonly tags: Tags;
  /** A stable key of the tags. */
  readonly key: string;
  /** Oldest first. */
  readonly points: SeriesPoint[];
}

interface Track {
  readonly tags: Tags;
  readonly key: string;
  readonly series: MetricSeries;
}

/** The previous sample of a source series (for rates and interval means). */
interface Previous {
  readonly t: number;
  /** Counter/sum value, or a distribution's count. */
  readonly value: number;
  /** A distribution's sum. */
  readonly sum: number;
}

function keyOf(tags: Tags): string {
  return JSON.stringify(Object.entries(tags));
}

function checkPositiveInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `SeriesRecorder ${name} must be an integer ≥ ${String(min)}, got ${String(value)}`,
      context: { [name]: value },
    });
  }
}

/**
 * Records metric snapshots into bounded in-memory series. `start()` samples every interval (an unref'ed
 * timer on the clock); `stop()` clears the timer and keeps the recorded series.
 */
export class SeriesRecorder {
  readonly #registry: MetricsRegistry;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #maxSeries: number;
  /** metric name → recorded key → track. */
  readonly #tracks = new Map<string, Map<string, Track>>();
  /** metric name → source series key → previous sample. */
  readonly #previous = new Map<string, Map<string, Previous>>();
  #timer: TimerHandle | undefined;
  #skipped = 0;
  /** When the previous sample ran (a series first seen after it started from 0 since then). */
  #lastSampleAt: number | undefined;

  /** @param registry - the metrics to record; @param options - clock, interval and bound. */
  constructor(registry: MetricsRegistry, options: SeriesRecorderOptions) {
    this.#registry = registry;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxSeries = options.maxSeriesPerMetric ?? 20;
    checkPositiveInteger('intervalMs', this.#intervalMs, 10);
    checkPositiveInteger('maxSeriesPerMetric', this.#maxSeries, 1);
  }

  /** Recorded points not kept because their metric already had `maxSeriesPerMetric` series. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Whether sampling runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling: one sample now (the baseline of rates), then one every interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#schedule();
  }

  /** Stops sampling; the recorded series stay readable. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Names of the metrics with recorded series, sorted. */
  names(): string[] {
    return [...this.#tracks.keys()].sort();
  }

  /** The recorded series of metric `name` at one resolution (points from `since`, wall ms, if given). */
  series(name: string, resolution: SeriesResolution, since?: number): RecordedSeries[] {
    const tracks = this.#tracks.get(name);
    if (tracks === undefined) return [];
    return [...tracks.values()].map((track) => ({
      tags: track.tags,
      key: track.key,
      points: track.series.points(resolution, since),
    }));
  }

  /** Collects the registry now and records one point per series (also done every interval). */
  sample(): void {
    const snapshot = this.#registry.collect();
    const t = this.#clock.now();
    for (const metric of snapshot.metrics) this.#sampleMetric(metric, t);
    this.#lastSampleAt = t;
  }

  #sampleMetric(metric: MetricSnapshot, t: number): void {
    const name = metric.definition.name;
    for (const series of metric.series) this.#sampleSeries(name, series, t);
  }

  #sampleSeries(name: string, series: SeriesSnapshot, t: number): void {
    const value = series.value;
    switch (value.kind) {
      case 'last_value':
        this.#record(name, series.tags, t, value.value);
        return;
      case 'counter':
      case 'sum': {
        const previous = this.#swapPrevious(name, series.tags, { t, value: value.value, sum: 0 });
        if (previous === undefined || t <= previous.t) return;
        const rate = ((value.value - previous.value) * 1000) / (t - previous.t);
        this.#record(name, series.tags, t, value.kind === 'counter' ? Math.max(0, rate) : rate);
        return;
      }
      case 'summary':
        for (const [q, v] of value.quantiles) {
          if (!Number.isNaN(v)) this.#record(name, { ...series.tags, quantile: String(q) }, t, v);
        }
        return;
      case 'distribution': {
        const previous = this.#swapPrevious(name, series.tags, { t, value: value.count, sum: value.sum });
        if (previous === undefined || t <= previous.t) return;
        const count = value.count - previous.value;
        this.#record(
          name,
          { ...series.tags, stat: 'rate' },
          t,
          Math.max(0, (count * 1000) / (t - previous.t)),
        );
        if (count > 0)
          this.#record(name, { ...series.tags, stat: 'mean' }, t, (value.sum - previous.sum) / count);
        return;
      }
    }
  }

  #swapPrevious(name: string, tags: Tags, next: Previous): Previous | undefined {
    let byKey = this.#previous.get(name);
    if (byKey === undefined) {
      byKey = new Map();
      this.#previous.set(name, byKey);
    }
    const key = keyOf(tags);
    const known = byKey.get(key);
    if (known === undefined && byKey.size >= this.#maxSeries * 2) return undefined;
    byKey.set(key, next);
    // A series that appeared since the previous sample counted from 0 since then: its first point is a rate
    // too (only the very first sample is a bare baseline).
    return (
      known ?? (this.#lastSampleAt === undefined ? undefined : { t: this.#lastSampleAt, value: 0, sum: 0 })
    );
  }

  #record(name: string, tags: Tags, t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    let tracks = this.#tracks.get(name);
    if (tracks === undefined) {
      tracks = new Map();
      this.#tracks.set(name, tracks);
    }
    const key = keyOf(tags);
    let track = tracks.get(key);
    if (track === undefined) {
      if (tracks.size >= this.#maxSeries) {
        this.#skipped += 1;
        return;
      }
      track = { tags: Object.freeze({ ...tags }), key, series: new MetricSeries() };
      tracks.set(key, track);
    }
    track.series.record(t, v);
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#timer === undefined) return;
      this.sample();
      this.#schedule();
    }, this.#intervalMs);
  }
}
