/**
 * A foundation's metrics: one {@link MetricsRegistry} (created with the foundation, so instruments work before
 * start). While the foundation runs (started before its services, stopped after them) it feeds the registry
 * from the capabilities' telemetry events, samples the runtime, records the in-memory series for the
 * dashboard and runs the exporters chosen in the config's `foundation.telemetry` section. A change of that
 * section (hot reload) restarts its parts with the new settings.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { Clock, TimerHandle } from '../kernel/clock.js';
import type { HealthReport } from '../kernel/service.js';
import type { FoundationSettings } from '../config/foundation-settings.js';
import { OtelBridge } from '../telemetry/exporters/otlp.js';
import { PrometheusExporter, type PrometheusScrape } from '../telemetry/exporters/prometheus.js';
import { StatsdExporter } from '../telemetry/exporters/statsd.js';
import { FOUNDATION_METRICS } from '../telemetry/foundation-metrics.js';
import { MetricsRegistry } from '../telemetry/metrics/registry.js';
import type { SeriesResolution } from '../telemetry/model/time-series.js';
import { RuntimeMetrics } from '../telemetry/runtime/runtime-metrics.js';
import { SeriesRecorder, type RecordedSeries } from '../telemetry/series/recorder.js';
import type { ExporterStatus, MetricsExporter } from '../telemetry/types.js';

/** The name of this part in errors. */
const TELEMETRY = 'telemetry';

/** The `foundation.telemetry` section. */
export type TelemetrySettings = FoundationSettings['telemetry'];

/** What the control bus and users read of a foundation's metrics. */
export interface FoundationMetrics {
  /** The registry: define metrics and get instruments (`registry.counter('orders.placed', { tags: ['kind'] })`). */
  readonly registry: MetricsRegistry;
  /** Prometheus text (or OpenMetrics) of every metric now; `FND_SYSTEM_SERVICE_UNAVAILABLE` when disabled. */
  render(options?: { readonly openMetrics?: boolean }): PrometheusScrape;
  /** Whether `GET /metrics` serves (the `prometheus` exporter is enabled). */
  readonly prometheusEnabled: boolean;
  /** Names of the metrics with recorded series. */
  seriesNames(): string[];
  /** The in-memory series of a metric (15 min at 1 s: `fine`; 24 h at 1 min: `coarse`). */
  series(name: string, resolution: SeriesResolution, since?: number): RecordedSeries[];
  /** The push and pull exporters' counters. */
  exporters(): ExporterStatus[];
}

/** The metrics of one foundation and their lifecycle. */
export class FoundationTelemetry implements FoundationMetrics {
  readonly registry: MetricsRegistry;
  readonly #clock: Clock;
  readonly #settings: () => TelemetrySettings;
  #detach: (() => void) | undefined;
  #runtime: RuntimeMetrics | undefined;
  #recorder: SeriesRecorder | undefined;
  #prometheus: PrometheusExporter | undefined;
  #push: MetricsExporter[] = [];
  #timer: TimerHandle | undefined;
  #applied: string | undefined;
  #running = false;

  /** @param settings reads the current `foundation.telemetry` section (hot reload: read again on change) */
  constructor(clock: Clock, settings: () => TelemetrySettings) {
    this.#clock = clock;
    this.#settings = settings;
    this.registry = new MetricsRegistry({ clock });
    for (const definition of FOUNDATION_METRICS) this.registry.define(definition);
  }

  get prometheusEnabled(): boolean {
    return this.#prometheus !== undefined;
  }

  /** Attaches the event-fed metrics and starts what the settings enable. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#detach = this.registry.attachEvents();
    await this.apply();
  }

  /** Stops everything it started (exporters flushed once, timers cleared). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#detach?.();
    this.#detach = undefined;
    await this.#stopParts();
    this.#applied = undefined;
  }

  /** Applies the current settings: restarts the parts when the section changed. No-op when unchanged. */
  async apply(): Promise<void> {
    if (!this.#running) return;
    const settings = this.#settings();
    const key = JSON.stringify(settings);
    if (key === this.#applied) return;
    await this.#stopParts();
    this.#applied = key;
    const context = { collect: () => this.registry.collect() };
    if (settings.runtime.enabled) {
      this.#runtime = new RuntimeMetrics(this.registry, {
        clock: this.#clock,
        intervalMs: settings.runtime.intervalMs,
      });
      this.#runtime.start();
    }
    if (settings.series.enabled) {
      this.#recorder = new SeriesRecorder(this.registry, {
        clock: this.#clock,
        intervalMs: settings.series.intervalMs,
        maxSeriesPerMetric: settings.series.maxSeriesPerMetric,
      });
      this.#recorder.start();
    }
    if (settings.prometheus.enabled) {
      this.#prometheus = new PrometheusExporter({
        clock: this.#clock,
        ...(settings.prometheus.prefix === undefined ? {} : { prefix: settings.prometheus.prefix }),
      });
      this.#prometheus.start(context);
    }
    if (settings.statsd.enabled) {
      this.#push.push(
        new StatsdExporter({
          host: settings.statsd.host,
          port: settings.statsd.port,
          prefix: settings.statsd.prefix,
          dogstatsd: settings.statsd.dogstatsd,
          clock: this.#clock,
        }),
      );
    }
    if (settings.otlp.enabled) this.#push.push(new OtelBridge({ clock: this.#clock }));
    for (const exporter of this.#push) await exporter.start(context);
    if (this.#push.length > 0) this.#schedule(settings.exportIntervalMs);
  }

  #schedule(intervalMs: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const snapshot = this.registry.collect();
      // Exporters never throw for a failed push: they count it and retry from their own buffer.
      void Promise.all(this.#push.map((exporter) => exporter.export(snapshot).catch(() => undefined))).then(
        () => {
          if (this.#running && this.#push.length > 0) this.#schedule(intervalMs);
        },
      );
    }, intervalMs);
  }

  async #stopParts(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#runtime?.stop();
    this.#runtime = undefined;
    this.#recorder?.stop();
    this.#recorder = undefined;
    const stopping = [...this.#push, ...(this.#prometheus === undefined ? [] : [this.#prometheus])];
    this.#push = [];
    this.#prometheus = undefined;
    await Promise.all(stopping.map((exporter) => exporter.stop().catch(() => undefined)));
  }

  render(options: { readonly openMetrics?: boolean } = {}): PrometheusScrape {
    const prometheus = this.#prometheus;
    if (prometheus === undefined) {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: 'The Prometheus exporter is not running (foundation.telemetry.prometheus.enabled)',
        context: { service: TELEMETRY },
      });
    }
    return prometheus.render(options);
  }

  seriesNames(): string[] {
    return this.#recorder?.names() ?? [];
  }

  series(name: string, resolution: SeriesResolution, since?: number): RecordedSeries[] {
    return this.#recorder?.series(name, resolution, since) ?? [];
  }

  exporters(): ExporterStatus[] {
    return [...(this.#prometheus === undefined ? [] : [this.#prometheus]), ...this.#push].map((exporter) =>
      exporter.status(),
    );
  }

  /** Degraded while a push exporter failed within the last two export intervals. */
  health(): HealthReport {
    const recent = this.#clock.now() - 2 * this.#settings().exportIntervalMs;
    const failing = this.#push
      .map((exporter) => exporter.status())
      .filter((status) => status.lastError !== undefined && status.lastError.at >= recent);
    const details = { exporters: this.exporters().map((status) => status.name) };
    if (failing.length > 0) {
      return {
        status: 'degraded',
        message: `exporter ${failing[0]?.name ?? ''}: ${failing[0]?.lastError?.message ?? ''}`,
        details,
      };
    }
    return { status: 'healthy', details };
  }
}
