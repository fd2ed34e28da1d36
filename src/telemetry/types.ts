/**
 * The telemetry capability's public types: metric definitions (as in Elixir's telemetry_metrics), the
 * snapshot a registry collects, and the exporter contract. One unit of time everywhere: milliseconds.
 *
 * @module
 */

/** The kinds of metric, as telemetry_metrics names them. */
export type MetricKind = 'counter' | 'sum' | 'last_value' | 'summary' | 'distribution';

/** Tag values of one series (tag name → value). Values are strings; numbers are stringified. */
export type Tags = Readonly<Record<string, string>>;

/** The tag value of the series that takes every tag combination past a metric's cardinality limit. */
export const OVERFLOW_TAG_VALUE = 'other';

/**
 * A metric definition.
 *
 * - `counter`: counts observations (each `add(n)` adds n; fed from events: each event adds 1, or its
 *   `measurement` when given).
 * - `sum`: sums observed values (may go down).
 * - `last_value`: the last observed value (a gauge).
 * - `summary`: quantiles over a sliding window, with a bounded relative error (DDSketch).
 * - `distribution`: a histogram with explicit bucket bounds (cumulative `le` buckets, sum, count).
 */
export interface MetricDefinition {
  /**
   * Dotted name, e.g. `foundation.events.appended`; exported as `foundation_events_appended_total` (counters),
   * `…_<unit>` when a unit is given.
   */
  readonly name: string;
  /** `counter`, `sum`, `last_value`, `summary` or `distribution`. */
  readonly kind: MetricKind;
  /** One line on what it measures (exported as the metric's help text). */
  readonly description?: string;
  /** `ms`, `bytes`, `seconds`, `ratio`… (exporters append it to the name: `…_ms`). */
  readonly unit?: string;
  /** Tag names of its series. Default none. */
  readonly tags?: readonly string[];
  /** Series beyond this many go into one series whose tags are all `other` (counted). Default 1000. */
  readonly maxSeries?: number;
  /**
   * Feed from a telemetry event (`area:event`, e.g. `events:appended`): each published message is one
   * observation. Tags are read from the message's metadata (then measurements) by tag name.
   */
  readonly event?: string;
  /** With `event`: the measurement observed (`count` adds 1 per event for counters when absent). */
  readonly measurement?: string;
  /** `distribution`: upper bounds of the buckets, ascending (a `+Inf` bucket is implied). */
  readonly buckets?: readonly number[];
  /** `summary`: quantiles reported. Default [0.5, 0.9, 0.99]. */
  readonly quantiles?: readonly number[];
  /** `summary`: the sliding window, ms. Default 60 000. */
  readonly windowMs?: number;
  /** `summary`: sub-windows the window rotates by. Default 6. */
  readonly windowBuckets?: number;
  /** `summary`: relative accuracy of quantiles (DDSketch α). Default 0.01. */
  readonly relativeAccuracy?: number;
}

/** The value of one series in a {@link MetricsSnapshot}. */
export type SeriesValue =
  | { readonly kind: 'counter' | 'sum' | 'last_value'; readonly value: number }
  | {
      readonly kind: 'summary';
      readonly count: number;
      readonly sum: number;
      /** `[quantile, value]` pairs; values are `NaN` when the window is empty. */
      readonly quantiles: ReadonlyArray<readonly [number, number]>;
    }
  | {
      readonly kind: 'distribution';
      readonly count: number;
      readonly sum: number;
      /** Cumulative counts per upper bound, ascending, ending with `Infinity`. */
      readonly buckets: ReadonlyArray<readonly [number, number]>;
    };

/** One series: its tags, its value, and an exemplar (the correlation id of a recent observation) if any. */
export interface SeriesSnapshot {
  /** The series' tag values. */
  readonly tags: Tags;
  /** The series' value at collection time. */
  readonly value: SeriesValue;
  /** A recent observation with the correlation id of its context, when one was recorded. */
  readonly exemplar?: { readonly value: number; readonly correlationId: string; readonly time: number };
}

/** One metric at collection time. */
export interface MetricSnapshot {
  /** The metric as declared. */
  readonly definition: MetricDefinition;
  /** Every series of the metric. */
  readonly series: readonly SeriesSnapshot[];
  /** Observations that went into the overflow series because of the cardinality limit. */
  readonly overflowed: number;
}

/** Everything a registry holds, at one instant. */
export interface MetricsSnapshot {
  /** Wall ms of collection. */
  readonly time: number;
  /** Every declared metric. */
  readonly metrics: readonly MetricSnapshot[];
}

/** What an exporter gets when it starts. */
export interface ExporterContext {
  /** Collects a snapshot of every metric now (cheap enough to call every few seconds). */
  collect(): MetricsSnapshot;
}

/**
 * An exporter. Pull exporters (Prometheus) render `collect()` on request and do nothing on `export`; push
 * exporters (StatsD) send each batch, retrying with backoff from a bounded buffer: `export` never blocks the
 * caller for long and never grows without bound while the target is down.
 */
export interface MetricsExporter {
  /** `prometheus`, `statsd`, `otlp`… */
  readonly name: string;
  /** Starts exporting; `context.collect()` gives a snapshot whenever the exporter wants one. */
  start(context: ExporterContext): void | Promise<void>;
  /** Called every export interval with a fresh snapshot. */
  export(snapshot: MetricsSnapshot): Promise<void>;
  /** Stops exporting and releases its resources (sockets, timers); resolves when done. */
  stop(): Promise<void>;
  /** Counters for status pages. */
  status(): ExporterStatus;
}

/** An exporter's counters. */
export interface ExporterStatus {
  /** The exporter's name. */
  readonly name: string;
  /** Snapshots (or lines) exported successfully. */
  readonly exported: number;
  /** Export attempts that failed. */
  readonly failed: number;
  /** Data dropped because the buffer was full. */
  readonly dropped: number;
  /** The last failure, when there was one. */
  readonly lastError?: { readonly message: string; readonly at: number };
}

/** One point of an in-memory time series. */
export interface SeriesPoint {
  /** Wall ms at the start of the point's interval. */
  readonly t: number;
  /** The point's value. */
  readonly v: number;
}
