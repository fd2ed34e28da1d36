/**
 * Telemetry metrics: a registry per foundation (counters, sums, last values, sliding-window summaries with
 * DDSketch quantiles, histograms), metrics fed from the foundation's telemetry events by declaration, runtime
 * metrics, in-memory series, and exporters (Prometheus / OpenMetrics, StatsD / DogStatsD, OpenTelemetry).
 * The emit / span primitives live in `@elixirscope/foundation/kernel`. See docs/telemetry.md.
 *
 * @packageDocumentation
 * @module
 */
export * from './types.js';
export { MetricsRegistry, DROPPED_METRIC, type MetricsRegistryOptions } from './metrics/registry.js';
export type {
  BoundCounter,
  BoundLastValue,
  BoundObserver,
  BoundSum,
  Counter,
  Distribution,
  InstrumentOptions,
  LastValue,
  Observer,
  Sum,
  Summary,
} from './metrics/instruments.js';
export { FOUNDATION_METRICS, DURATION_BUCKETS_MS, GROUP_SIZE_BUCKETS } from './foundation-metrics.js';
export {
  RuntimeMetrics,
  RUNTIME_METRICS,
  GC_PAUSE_BUCKETS,
  type RuntimeMetricsOptions,
} from './runtime/runtime-metrics.js';
export { SeriesRecorder, type RecordedSeries, type SeriesRecorderOptions } from './series/recorder.js';
export {
  DDSketch,
  SlidingWindowSketch,
  BucketHistogram,
  MetricSeries,
  TimeSeriesRing,
} from './model/index.js';
export type { SeriesResolution } from './model/time-series.js';
export * from './exporters/index.js';
