/**
 * The peers of the telemetry suite, each with its own state (no global registry anywhere): prom-client
 * 15.1.3 metrics in a fresh `Registry`, and OpenTelemetry SDK 2.x instruments from a `MeterProvider` with a
 * reader attached (the SDK aggregates only for attached readers), plus ours in a fresh `MetricsRegistry`.
 *
 * @module
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Counter, Histogram, Registry, Summary } from 'prom-client';
import { systemClock } from '../../src/kernel/clock.js';
import { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import { BUCKETS, QUANTILES, TAG_NAMES, WINDOW_BUCKETS, WINDOW_SECONDS } from './inputs.js';

/** A fresh registry of ours on the system clock (summaries slide on real time, like prom-client's). */
export function oursRegistry(): MetricsRegistry {
  return new MetricsRegistry({ clock: systemClock });
}

/** A prom-client registry of its own (never the global `register`). */
export function promRegistry(): Registry {
  return new Registry();
}

/** A prom-client counter `name` with the 2 tag names, in `registry`. */
export function promCounter(registry: Registry, name: string): Counter<(typeof TAG_NAMES)[number]> {
  return new Counter({ name, help: name, labelNames: TAG_NAMES, registers: [registry] });
}

/** A prom-client histogram with {@link BUCKETS}, with or without the 2 tag names. */
export function promHistogram(
  registry: Registry,
  name: string,
  tagged: boolean,
): Histogram<(typeof TAG_NAMES)[number]> {
  return new Histogram({
    name,
    help: name,
    buckets: [...BUCKETS],
    labelNames: tagged ? TAG_NAMES : [],
    registers: [registry],
  });
}

/** A prom-client sliding-window summary: the same quantiles, window and sub-windows as ours. */
export function promSummary(registry: Registry, name: string): Summary {
  return new Summary({
    name,
    help: name,
    percentiles: [...QUANTILES],
    maxAgeSeconds: WINDOW_SECONDS,
    ageBuckets: WINDOW_BUCKETS,
    registers: [registry],
  });
}

/**
 * A reader that collects only when asked: attached so the SDK aggregates (as with any real exporter), with
 * no timer to stop (a `PeriodicExportingMetricReader` would only add an idle interval here).
 */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An OpenTelemetry meter with a reader attached, and what the suite needs to check and stop it. */
export interface OtelMeter {
  readonly meter: Meter;
  readonly reader: MetricReader;
  readonly provider: MeterProvider;
}

/** A `MeterProvider` with one {@link OnDemandReader} and a meter from it. */
export function otelMeter(): OtelMeter {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { meter: provider.getMeter('bench'), reader, provider };
}

/** Shuts the provider down (teardowns are synchronous; nothing waits on it). */
export function stopOtel(otel: OtelMeter): void {
  void otel.provider.shutdown();
}

/** OTel attributes of a tag set (the same plain object: OTel takes any string-valued record). */
export function attributes(tags: Readonly<Record<string, string>>): Attributes {
  return tags;
}
