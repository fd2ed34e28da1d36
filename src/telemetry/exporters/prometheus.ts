/**
 * Prometheus exposition: text format 0.0.4 and OpenMetrics 1.0 (with exemplars carrying correlation ids).
 *
 * Naming: a dotted name becomes an underscored one, the unit is appended (`foundation.http.duration` with
 * unit `ms` → `foundation_http_duration_ms`) and counters end in `_total`. Kinds map to Prometheus types:
 * counter → `counter`; sum and last_value → `gauge`; summary → `summary` (`{quantile="…"}` lines, `_sum`,
 * `_count`); distribution → `histogram` (`_bucket{le="…"}` lines ending with `+Inf`, `_sum`, `_count`).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type {
  ExporterContext,
  ExporterStatus,
  MetricDefinition,
  MetricsExporter,
  MetricsSnapshot,
  SeriesSnapshot,
} from '../types.js';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Content type of the OpenMetrics 1.0 text format. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Options of {@link renderPrometheus}. */
export interface PrometheusRenderOptions {
  /**
   * OpenMetrics 1.0 instead of the text format 0.0.4: counter families without `_total` (their samples keep
   * it), `# UNIT` lines, exemplars on counter and histogram bucket samples, a final `# EOF`.
   */
  readonly openMetrics?: boolean;
  /** Prepended to every name, joined with `_` (`app` → `app_foundation_…`). */
  readonly prefix?: string;
}

/** The OpenMetrics limit on an exemplar's label set (names and values), in characters. */
const EXEMPLAR_LABELS_MAX = 128;
const EXEMPLAR_LABEL = 'correlation_id';

const INVALID_NAME_CHARS = /[^a-zA-Z0-9_:]/g;
const INVALID_LABEL_CHARS = /[^a-zA-Z0-9_]/g;
const LABEL_NEEDS_ESCAPE = /[\\"\n]/;
const LABEL_ESCAPES = /[\\"\n]/g;
const HELP_ESCAPES_TEXT = /[\\\n]/g;
const HELP_ESCAPES_OPENMETRICS = /[\\"\n]/g;

function escapeChar(ch: string): string {
  return ch === '\n' ? '\\n' : `\\${ch}`;
}

function escapeLabelValue(value: string): string {
  return LABEL_NEEDS_ESCAPE.test(value) ? value.replace(LABEL_ESCAPES, escapeChar) : value;
}

/** A sample value: finite numbers as JavaScript prints them, `NaN`, `+Inf`, `-Inf`. */
function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** A `le` / `quantile` label value; OpenMetrics wants canonical floats (`1.0`, not `1`). */
function formatBound(value: number, openMetrics: boolean): string {
  if (openMetrics && Number.isInteger(value) && Math.abs(value) < 1e21) return `${String(value)}.0`;
  return formatValue(value);
}

function sanitizeName(name: string): string {
  const clean = name.replace(INVALID_NAME_CHARS, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

function sanitizeLabelName(name: string, reserved: string | undefined): string {
  let clean = name.replace(INVALID_LABEL_CHARS, '_');
  if (/^[0-9]/.test(clean)) clean = `_${clean}`;
  if (clean.startsWith('__')) clean = `tag${clean}`;
  return clean === reserved ? `tag_${clean}` : clean;
}

/**
 * The exported base name of a metric: prefix, underscored name, unit suffix — without the counter `_total`.
 *
 * @example
 * ```ts
 * prometheusBaseName({ name: 'foundation.http.duration', kind: 'distribution', unit: 'ms' }); // 'foundation_http_duration_ms'
 * ```
 */
export function prometheusBaseName(definition: MetricDefinition, prefix?: string): string {
  let base = definition.name.replaceAll('.', '_');
  if (prefix !== undefined && prefix !== '')
    base = prefix.endsWith('_') ? prefix + base : `${prefix}_${base}`;
  base = sanitizeName(base);
  if (definition.kind === 'counter' && base.endsWith('_total')) base = base.slice(0, -'_total'.length);
  const unit = definition.unit === undefined || definition.unit === '' ? '' : sanitizeName(definition.unit);
  if (unit !== '' && !base.endsWith(`_${unit}`)) base = `${base}_${unit}`;
  return base;
}

/**
 * The name of a metric's samples as exported: {@link prometheusBaseName}, plus `_total` for counters.
 * Summaries add `_sum` / `_count` samples, distributions `_bucket` / `_sum` / `_count`.
 */
export function prometheusName(definition: MetricDefinition, prefix?: string): string {
  const base = prometheusBaseName(definition, prefix);
  return definition.kind === 'counter' ? `${base}_total` : base;
}

const PROMETHEUS_TYPES = {
  counter: 'counter',
  sum: 'gauge',
  last_value: 'gauge',
  summary: 'summary',
  distribution: 'histogram',
} as const;

/** Per-metric label rendering: the `name="` openings of its labels, in definition order. */
interface LabelPlan {
  readonly names: readonly string[];
  readonly openings: readonly string[];
}

function labelPlan(names: readonly string[], reserved: string | undefined): LabelPlan {
  const clean = names.map((n) => sanitizeLabelName(n, reserved));
  return { names, openings: clean.map((n, i) => `${i === 0 ? '' : ','}${n}="`) };
}

/** `a="x",b="y"` (no braces) for a series; empty when the metric has no tags. */
function labelBody(plan: LabelPlan, series: SeriesSnapshot): string {
  const { names, openings } = plan;
  let body = '';
  for (let i = 0; i < names.length; i++) {
    const value = series.tags[names[i] as string];
    body += `${openings[i] as string}${value === undefined ? '' : escapeLabelValue(value)}"`;
  }
  return body;
}

function exemplarSuffix(series: SeriesSnapshot): string {
  const exemplar = series.exemplar;
  if (exemplar === undefined) return '';
  const id = exemplar.correlationId;
  if (EXEMPLAR_LABEL.length + id.length > EXEMPLAR_LABELS_MAX || !Number.isFinite(exemplar.value)) return '';
  return ` # {${EXEMPLAR_LABEL}="${escapeLabelValue(id)}"} ${formatValue(exemplar.value)} ${String(exemplar.time / 1000)}`;
}

/** Formatted `le` texts of one metric's bucket bounds, filled by the first series rendered. */
interface BoundTexts {
  readonly values: number[];
  readonly texts: string[];
}

function renderSeries(
  sample: string,
  series: SeriesSnapshot,
  body: string,
  openMetrics: boolean,
  bounds: BoundTexts,
): string {
  const value = series.value;
  switch (value.kind) {
    case 'counter':
    case 'sum':
    case 'last_value': {
      const exemplar = openMetrics && value.kind === 'counter' ? exemplarSuffix(series) : '';
      return `${body === '' ? sample : `${sample}{${body}}`} ${formatValue(value.value)}${exemplar}\n`;
    }
    case 'summary': {
      const open = body === '' ? `${sample}{quantile="` : `${sample}{${body},quantile="`;
      let out = '';
      for (const [q, v] of value.quantiles)
        out += `${open}${formatBound(q, openMetrics)}"} ${formatValue(v)}\n`;
      const labels = body === '' ? '' : `{${body}}`;
      return `${out}${sample}_sum${labels} ${formatValue(value.sum)}\n${sample}_count${labels} ${formatValue(value.count)}\n`;
    }
    case 'distribution': {
      const open = body === '' ? `${sample}_bucket{le="` : `${sample}_bucket{${body},le="`;
      const exemplar = openMetrics ? series.exemplar : undefined;
      let exemplarPending = exemplar !== undefined;
      let out = '';
      let sawInf = false;
      let last = 0;
      const buckets = value.buckets;
      for (let i = 0; i < buckets.length; i++) {
        const [bound, count] = buckets[i] as readonly [number, number];
        let suffix = '';
        if (exemplarPending && exemplar !== undefined && exemplar.value <= bound) {
          suffix = exemplarSuffix(series);
          exemplarPending = false;
        }
        if (bound === Infinity) sawInf = true;
        last = count;
        // Every series of a metric has the same bounds: their `…"} ` texts are formatted once per render.
        let le = bounds.texts[i];
        if (le === undefined || bounds.values[i] !== bound) {
          le = `${formatBound(bound, openMetrics)}"} `;
          bounds.values[i] = bound;
          bounds.texts[i] = le;
        }
        out += `${open}${le}${formatValue(count)}${suffix}\n`;
      }
      // A hand-built snapshot without the +Inf bucket still renders a valid histogram.
      if (!sawInf) out += `${open}+Inf"} ${formatValue(Math.max(last, value.count))}\n`;
      const labels = body === '' ? '' : `{${body}}`;
      return `${out}${sample}_sum${labels} ${formatValue(value.sum)}\n${sample}_count${labels} ${formatValue(value.count)}\n`;
    }
  }
}

/**
 * Renders a snapshot in the Prometheus text format 0.0.4 ({@link PROMETHEUS_CONTENT_TYPE}) or, with
 * `openMetrics`, OpenMetrics 1.0 ({@link OPENMETRICS_CONTENT_TYPE}) ending with `# EOF`.
 *
 * - `# HELP` (the description, escaped) and `# TYPE` precede every metric, even one without series.
 * - Label values are escaped (`\\`, `"`, `\n`); tags are rendered in definition order, a missing tag as `""`.
 *   A tag named `le` on a distribution (`quantile` on a summary) is renamed `tag_le` (`tag_quantile`).
 * - Non-finite values render as `NaN`, `+Inf`, `-Inf` (an empty summary window gives `NaN` quantiles).
 * - OpenMetrics exemplars (`# {correlation_id="…"} value seconds`) go on counter samples and on the first
 *   histogram bucket holding the exemplar's value; summaries and gauges carry none (the format forbids it).
 *   An exemplar whose id would exceed the format's 128-character label limit is left out.
 * - When two metrics map to the same exported name, the first one wins and the others are left out.
 *
 * @example
 * ```ts
 * const body = renderPrometheus(registry.collect());
 * reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(body);
 * ```
 */
export function renderPrometheus(snapshot: MetricsSnapshot, options: PrometheusRenderOptions = {}): string {
  const openMetrics = options.openMetrics === true;
  const helpEscapes = openMetrics ? HELP_ESCAPES_OPENMETRICS : HELP_ESCAPES_TEXT;
  const seen = new Set<string>();
  let out = '';
  for (const metric of snapshot.metrics) {
    const definition = metric.definition;
    const base = prometheusBaseName(definition, options.prefix);
    const sample = definition.kind === 'counter' ? `${base}_total` : base;
    // In 0.0.4 a counter's family is named like its samples; in OpenMetrics it is the name without `_total`.
    const family = openMetrics ? base : sample;
    if (seen.has(family) || seen.has(sample)) continue;
    seen.add(family);
    seen.add(sample);
    const type = PROMETHEUS_TYPES[definition.kind];
    const help = (definition.description ?? definition.name).replace(helpEscapes, escapeChar);
    out += `# HELP ${family} ${help}\n# TYPE ${family} ${type}\n`;
    if (openMetrics && definition.unit !== undefined && definition.unit !== '') {
      out += `# UNIT ${family} ${sanitizeName(definition.unit)}\n`;
    }
    const reserved =
      definition.kind === 'distribution' ? 'le' : definition.kind === 'summary' ? 'quantile' : undefined;
    const plan = definition.tags === undefined ? undefined : labelPlan(definition.tags, reserved);
    const bounds: BoundTexts = { values: [], texts: [] };
    for (const series of metric.series) {
      const body = labelBody(plan ?? labelPlan(Object.keys(series.tags), reserved), series);
      out += renderSeries(sample, series, body, openMetrics, bounds);
    }
  }
  return openMetrics ? `${out}# EOF\n` : out;
}

/**
 * Whether an HTTP `Accept` header asks for OpenMetrics (`application/openmetrics-text`), as Prometheus does
 * when it wants exemplars.
 */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}

/** What {@link PrometheusExporter.render} returns: the body and its content type. */
export interface PrometheusScrape {
  /** The `Content-Type` to serve: Prometheus text or OpenMetrics (with exemplars). */
  readonly contentType: string;
  /** The exposition text. */
  readonly body: string;
}

/** Options of the {@link PrometheusExporter} constructor. */
export interface PrometheusExporterOptions {
  /** Prepended to every name (see {@link PrometheusRenderOptions.prefix}). */
  readonly prefix?: string;
  /** Stamps `lastError`. Default the system clock. */
  readonly clock?: Clock;
}

/**
 * The pull exporter behind `GET /metrics`: `render()` collects a fresh snapshot and renders it; `export` does
 * nothing (Prometheus scrapes, nobody pushes).
 *
 * @example
 * ```ts
 * const prometheus = new PrometheusExporter();
 * prometheus.start({ collect: () => registry.collect() });
 * const { contentType, body } = prometheus.render({ openMetrics: acceptsOpenMetrics(request.headers.accept) });
 * ```
 */
export class PrometheusExporter implements MetricsExporter {
  /** Always `prometheus`. */
  readonly name = 'prometheus';
  readonly #prefix: string | undefined;
  readonly #clock: Clock;
  #context: ExporterContext | undefined;
  #exported = 0;
  #failed = 0;
  #lastError: { readonly message: string; readonly at: number } | undefined;

  /** Creates a stopped exporter. */
  constructor(options: PrometheusExporterOptions = {}) {
    this.#prefix = options.prefix;
    this.#clock = options.clock ?? systemClock;
  }

  /** Keeps the context; scrapes collect from it. */
  start(context: ExporterContext): void {
    this.#context = context;
  }

  /** Nothing to push: Prometheus pulls. */
  export(): Promise<void> {
    return Promise.resolve();
  }

  /** Forgets the context; later scrapes are refused. */
  stop(): Promise<void> {
    this.#context = undefined;
    return Promise.resolve();
  }

  /**
   * Collects and renders a scrape. Throws `FND_SYSTEM_SERVICE_UNAVAILABLE` when not started; a failing
   * `collect()` is counted in `failed` and rethrown.
   */
  render(options: { readonly openMetrics?: boolean } = {}): PrometheusScrape {
    const context = this.#context;
    if (context === undefined) {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: 'The Prometheus exporter is not started',
        context: { exporter: this.name },
      });
    }
    const openMetrics = options.openMetrics === true;
    let snapshot: MetricsSnapshot;
    try {
      snapshot = context.collect();
    } catch (error) {
      this.#failed++;
      this.#lastError = {
        message: error instanceof Error ? error.message : String(error),
        at: this.#clock.now(),
      };
      throw error;
    }
    const body = renderPrometheus(snapshot, {
      openMetrics,
      ...(this.#prefix === undefined ? {} : { prefix: this.#prefix }),
    });
    this.#exported++;
    return { contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, body };
  }

  /** Scrapes served (`exported`) and failed collections (`failed`). */
  status(): ExporterStatus {
    return {
      name: this.name,
      exported: this.#exported,
      failed: this.#failed,
      dropped: 0,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }
}
