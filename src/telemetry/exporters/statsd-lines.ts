/**
 * StatsD / DogStatsD line building and packet packing for the {@link StatsdExporter} (pure: no I/O).
 *
 * @module
 */
import type { MetricDefinition, MetricsSnapshot, SeriesSnapshot } from '../types.js';

/** How snapshot values become StatsD lines. */
export interface StatsdLineOptions {
  /** Prepended to every name with a `.`. */
  readonly prefix?: string | undefined;
  /** DogStatsD tags (`|#k:v,…`); otherwise tag values become name segments. */
  readonly dogstatsd: boolean;
}

const INVALID_NAME_CHARS = /[:|@#,\s]/g;
const INVALID_SEGMENT_CHARS = /[:|@#,.\s]/g;
const INVALID_TAG_CHARS = /[|,#\s]/g;

function nameOf(definition: MetricDefinition, prefix: string | undefined): string {
  const name = definition.name.replace(INVALID_NAME_CHARS, '_');
  if (prefix === undefined || prefix === '') return name;
  return prefix.endsWith('.') ? prefix + name : `${prefix}.${name}`;
}

function tagNamesOf(definition: MetricDefinition, series: SeriesSnapshot): readonly string[] {
  return definition.tags ?? Object.keys(series.tags);
}

/** `q` as a plain-StatsD name segment: 0.5 → `p50`, 0.999 → `p99_9`. */
function quantileSegment(q: number): string {
  return `p${String(Math.round(q * 1e6) / 1e4).replace('.', '_')}`;
}

/** The text of a value; `undefined` when it cannot be sent (NaN, ±Infinity). */
function formatValue(value: number): string | undefined {
  return Number.isFinite(value) ? String(Object.is(value, -0) ? 0 : value) : undefined;
}

/**
 * Builds StatsD lines from snapshots. Counters are sent as deltas since the previous snapshot (`|c`; a
 * counter that went down — a restart — sends its whole value; zero deltas are not sent); sums and last
 * values as gauges (`|g`); summaries as one gauge per quantile (DogStatsD tag `quantile:0.5`, plain
 * StatsD segment `.p50`) plus `.count` and `.sum` gauges over the window; distributions as `.count` and
 * `.sum` gauges (totals since start). Plain StatsD reads a gauge with a sign as a relative change, so a
 * negative gauge is sent as `name:0|g` then `name:-v|g` (DogStatsD sends the value alone).
 */
export class StatsdLineBuilder {
  readonly #options: StatsdLineOptions;
  /** Last value sent per counter series (`name\0tag values…`). Bounded by the registry's series limits. */
  readonly #counters = new Map<string, number>();

  /** Creates a builder with no counter history. */
  constructor(options: StatsdLineOptions) {
    this.#options = options;
  }

  /** The lines of one snapshot, in metric and series order. */
  lines(snapshot: MetricsSnapshot): string[] {
    const out: string[] = [];
    const dogstatsd = this.#options.dogstatsd;
    for (const metric of snapshot.metrics) {
      const definition = metric.definition;
      const name = nameOf(definition, this.#options.prefix);
      for (const series of metric.series) {
        const names = tagNamesOf(definition, series);
        let suffix = '';
        let segments = '';
        let key = name;
        for (let i = 0; i < names.length; i++) {
          const tag = names[i] as string;
          const value = series.tags[tag] ?? '';
          key += `\u0000${value}`;
          if (dogstatsd) {
            suffix += `${i === 0 ? '|#' : ','}${tag.replace(INVALID_TAG_CHARS, '_')}:${value.replace(INVALID_TAG_CHARS, '_')}`;
          } else {
            segments += `.${value === '' ? '_' : value.replace(INVALID_SEGMENT_CHARS, '_')}`;
          }
        }
        const base = name + segments;
        const value = series.value;
        switch (value.kind) {
          case 'counter': {
            const previous = this.#counters.get(key) ?? 0;
            const delta = value.value >= previous ? value.value - previous : value.value;
            this.#counters.set(key, value.value);
            const text = formatValue(delta);
            if (delta !== 0 && text !== undefined) out.push(`${base}:${text}|c${suffix}`);
            break;
          }
          case 'sum':
          case 'last_value':
            this.#gauge(out, base, value.value, suffix);
            break;
          case 'summary':
            for (const [q, v] of value.quantiles) {
              if (dogstatsd) {
                this.#gauge(out, base, v, `${suffix === '' ? '|#' : `${suffix},`}quantile:${String(q)}`);
              } else {
                this.#gauge(out, `${base}.${quantileSegment(q)}`, v, suffix);
              }
            }
            this.#gauge(out, `${dogstatsd ? name : base}.count`, value.count, suffix);
            this.#gauge(out, `${dogstatsd ? name : base}.sum`, value.sum, suffix);
            break;
          case 'distribution':
            this.#gauge(out, `${dogstatsd ? name : base}.count`, value.count, suffix);
            this.#gauge(out, `${dogstatsd ? name : base}.sum`, value.sum, suffix);
            break;
        }
      }
    }
    return out;
  }

  #gauge(out: string[], name: string, value: number, suffix: string): void {
    const text = formatValue(value);
    if (text === undefined) return;
    if (value < 0 && !this.#options.dogstatsd) out.push(`${name}:0|g${suffix}`);
    out.push(`${name}:${text}|g${suffix}`);
  }
}

/** Packets built by {@link packLines}: each a `\n`-joined group of lines, and the lines it holds. */
export interface StatsdPacket {
  /** The datagram: the lines joined by newlines. */
  readonly payload: Buffer;
  /** The lines the datagram holds. */
  readonly lines: readonly string[];
}

/**
 * Packs lines, in order, into packets of at most `maxBytes` bytes (lines joined by `\n`). A line longer than
 * `maxBytes` alone is returned in `oversized` and sent nowhere.
 */
export function packLines(
  lines: readonly string[],
  maxBytes: number,
): { packets: StatsdPacket[]; oversized: number } {
  const packets: StatsdPacket[] = [];
  let oversized = 0;
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (size > maxBytes) {
      oversized++;
      continue;
    }
    if (current.length > 0 && bytes + 1 + size > maxBytes) {
      packets.push({ payload: Buffer.from(current.join('\n')), lines: current });
      current = [];
      bytes = 0;
    }
    bytes += current.length === 0 ? size : size + 1;
    current.push(line);
  }
  if (current.length > 0) packets.push({ payload: Buffer.from(current.join('\n')), lines: current });
  return { packets, oversized };
}
