/**
 * The OpenTelemetry bridge: our metrics as observable instruments of an `@opentelemetry/api` meter, so the
 * user's OpenTelemetry SDK (and whatever OTLP exporter it runs) receives them.
 *
 * @module
 */
import { metrics } from '@opentelemetry/api';
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Meter,
  MeterProvider,
  Observable,
} from '@opentelemetry/api';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type {
  ExporterContext,
  ExporterStatus,
  MetricDefinition,
  MetricsExporter,
  MetricsSnapshot,
  SeriesSnapshot,
} from '../types.js';

/** Options of the {@link OtelBridge} constructor. */
export interface OtelBridgeOptions {
  /** The provider to register with. Default the global one: `metrics.getMeterProvider()` at `start`. */
  readonly meterProvider?: MeterProvider;
  /** The meter (instrumentation scope) name. Default `@elixirscope/foundation`. */
  readonly meterName?: string;
  /** The meter version, if any. */
  readonly meterVersion?: string;
  /** Stamps `lastError`. Default the system clock. */
  readonly clock?: Clock;
}

/** Our units in UCUM, as OpenTelemetry expects (`bytes` → `By`); others are passed as given. */
const UCUM_UNITS: Readonly<Record<string, string>> = {
  ms: 'ms',
  milliseconds: 'ms',
  seconds: 's',
  s: 's',
  bytes: 'By',
  ratio: '1',
  percent: '%',
};

/** The instruments one metric is observed through. */
interface MetricInstruments {
  /** counter, sum, last_value: the value; summary: one point per quantile (attribute `quantile`). */
  readonly main?: Observable;
  readonly count?: Observable;
  readonly sum?: Observable;
  /** distribution: cumulative count per upper bound (attribute `le`, `Infinity` last). */
  readonly bucket?: Observable;
}

function instrumentsFor(meter: Meter, definition: MetricDefinition): MetricInstruments {
  const name = definition.name;
  const unit = definition.unit === undefined ? undefined : (UCUM_UNITS[definition.unit] ?? definition.unit);
  const options = {
    ...(definition.description === undefined ? {} : { description: definition.description }),
    ...(unit === undefined ? {} : { unit }),
  };
  switch (definition.kind) {
    case 'counter':
      return { main: meter.createObservableCounter(name, options) };
    case 'sum':
      return { main: meter.createObservableUpDownCounter(name, options) };
    case 'last_value':
      return { main: meter.createObservableGauge(name, options) };
    case 'summary':
      return {
        main: meter.createObservableGauge(name, options),
        count: meter.createObservableGauge(`${name}.count`, {
          description: `${name}: observations in the window`,
        }),
        sum: meter.createObservableGauge(`${name}.sum`, {
          ...options,
          description: `${name}: sum over the window`,
        }),
      };
    case 'distribution':
      return {
        count: meter.createObservableCounter(`${name}.count`, { description: `${name}: observations` }),
        sum: meter.createObservableUpDownCounter(`${name}.sum`, { ...options, description: `${name}: sum` }),
        bucket: meter.createObservableCounter(`${name}.bucket`, {
          description: `${name}: observations ≤ le (cumulative)`,
        }),
      };
  }
}

function observe(
  observer: BatchObservableResult,
  observable: Observable | undefined,
  value: number,
  attributes: Attributes,
): void {
  if (observable === undefined || !Number.isFinite(value)) return;
  observer.observe(observable, value, attributes);
}

function observeSeries(
  observer: BatchObservableResult,
  instruments: MetricInstruments,
  series: SeriesSnapshot,
): void {
  const tags: Attributes = series.tags;
  const value = series.value;
  switch (value.kind) {
    case 'counter':
    case 'sum':
    case 'last_value':
      observe(observer, instruments.main, value.value, tags);
      return;
    case 'summary':
      for (const [q, v] of value.quantiles) observe(observer, instruments.main, v, { ...tags, quantile: q });
      observe(observer, instruments.count, value.count, tags);
      observe(observer, instruments.sum, value.sum, tags);
      return;
    case 'distribution':
      observe(observer, instruments.count, value.count, tags);
      observe(observer, instruments.sum, value.sum, tags);
      // `le` is a number attribute; the last bucket's bound is Infinity (a valid double attribute value).
      for (const [le, count] of value.buckets) observe(observer, instruments.bucket, count, { ...tags, le });
      return;
  }
}

/**
 * Bridges a registry to OpenTelemetry through `@opentelemetry/api` ~1.9: on `start`, each metric becomes
 * observable instruments of one meter, read by ONE batch callback that calls `context.collect()` once per
 * OpenTelemetry collection cycle. Names are our dotted names; units are UCUM (`bytes` → `By`).
 *
 * - counter → ObservableCounter; sum → ObservableUpDownCounter; last_value → ObservableGauge.
 * - summary → ObservableGauge `<name>` with one point per quantile (number attribute `quantile`), plus
 *   ObservableGauges `<name>.count` and `<name>.sum` over the sliding window.
 * - distribution → ObservableCounter `<name>.count`, ObservableUpDownCounter `<name>.sum` and ObservableCounter
 *   `<name>.bucket` with a number attribute `le` (cumulative counts, `Infinity` last) — observable instruments
 *   cannot produce OpenTelemetry histograms, and a synchronous mirror would need every raw observation.
 * - Non-finite values (an empty window's quantiles) are not observed.
 * - Metrics defined after `start` get instruments on the next `export` or collection cycle (they report
 *   from the cycle after).
 *
 * `status()`: `exported` counts collection cycles served, `failed` the cycles whose `collect()` threw.
 *
 * @example
 * ```ts
 * const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() });
 * const bridge = new OtelBridge({ meterProvider: new MeterProvider({ readers: [reader] }) });
 * bridge.start({ collect: () => registry.collect() });
 * ```
 */
export class OtelBridge implements MetricsExporter {
  /** Always `otlp`. */
  readonly name = 'otlp';
  readonly #provider: MeterProvider | undefined;
  readonly #meterName: string;
  readonly #meterVersion: string | undefined;
  readonly #clock: Clock;
  readonly #instruments = new Map<string, MetricInstruments>();
  #meter: Meter | undefined;
  #context: ExporterContext | undefined;
  #callback: BatchObservableCallback | undefined;
  #observables: Observable[] = [];
  /** The observables the current callback was registered with (removal needs the same set). */
  #registered: Observable[] = [];
  #resyncQueued = false;
  #exported = 0;
  #failed = 0;
  #lastError: { readonly message: string; readonly at: number } | undefined;

  /** Creates a stopped bridge; nothing is registered until `start`. */
  constructor(options: OtelBridgeOptions = {}) {
    this.#provider = options.meterProvider;
    this.#meterName = options.meterName ?? '@elixirscope/foundation';
    this.#meterVersion = options.meterVersion;
    this.#clock = options.clock ?? systemClock;
  }

  /** Gets the meter, creates instruments for every metric `context.collect()` reports, registers the callback. */
  start(context: ExporterContext): void {
    if (this.#context !== undefined) return;
    this.#context = context;
    const provider = this.#provider ?? metrics.getMeterProvider();
    this.#meter = provider.getMeter(this.#meterName, this.#meterVersion);
    this.#instruments.clear();
    this.#observables = [];
    this.#sync(this.#collect() ?? { time: 0, metrics: [] });
  }

  /** Nothing is pushed (the SDK's reader pulls); creates instruments for metrics defined since. */
  export(snapshot: MetricsSnapshot): Promise<void> {
    if (this.#context !== undefined) this.#sync(snapshot);
    return Promise.resolve();
  }

  /** Removes the callback: the instruments stay in the meter (the API cannot remove them) but report nothing. */
  stop(): Promise<void> {
    this.#unregister();
    this.#context = undefined;
    this.#meter = undefined;
    return Promise.resolve();
  }

  /** Collection cycles served (`exported`) and failed (`failed`); nothing is ever dropped. */
  status(): ExporterStatus {
    return {
      name: this.name,
      exported: this.#exported,
      failed: this.#failed,
      dropped: 0,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  #collect(): MetricsSnapshot | undefined {
    const context = this.#context;
    if (context === undefined) return undefined;
    try {
      return context.collect();
    } catch (error) {
      this.#failed++;
      this.#lastError = {
        message: error instanceof Error ? error.message : String(error),
        at: this.#clock.now(),
      };
      return undefined;
    }
  }

  /** Creates instruments for metrics not seen yet and re-registers the batch callback over all of them. */
  #sync(snapshot: MetricsSnapshot): void {
    const meter = this.#meter;
    if (meter === undefined) return;
    let added = false;
    for (const metric of snapshot.metrics) {
      const name = metric.definition.name;
      if (this.#instruments.has(name)) continue;
      const instruments = instrumentsFor(meter, metric.definition);
      this.#instruments.set(name, instruments);
      for (const o of [instruments.main, instruments.count, instruments.sum, instruments.bucket]) {
        if (o !== undefined) this.#observables.push(o);
      }
      added = true;
    }
    if (!added && this.#callback !== undefined) return;
    this.#unregister();
    const callback: BatchObservableCallback = (observer) => {
      const current = this.#collect();
      if (current === undefined) return;
      this.#exported++;
      let unknown = false;
      for (const metric of current.metrics) {
        const instruments = this.#instruments.get(metric.definition.name);
        if (instruments === undefined) {
          unknown = true;
          continue;
        }
        for (const series of metric.series) observeSeries(observer, instruments, series);
      }
      if (unknown && !this.#resyncQueued) {
        // Registering instruments inside the SDK's collection is unsafe: do it right after.
        this.#resyncQueued = true;
        queueMicrotask(() => {
          this.#resyncQueued = false;
          if (this.#context !== undefined) this.#sync(current);
        });
      }
    };
    this.#callback = callback;
    this.#registered = this.#observables.slice();
    meter.addBatchObservableCallback(callback, this.#registered);
  }

  #unregister(): void {
    if (this.#callback !== undefined && this.#meter !== undefined) {
      this.#meter.removeBatchObservableCallback(this.#callback, this.#registered);
    }
    this.#callback = undefined;
  }
}
