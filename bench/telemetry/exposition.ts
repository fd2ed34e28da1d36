/**
 * The exposition case's data: the same metrics, series and values in ours and in prom-client (its own
 * `Registry`). Full size: 900 counters × 10 series + 100 histograms × 10 series = 10,000 series (histogram
 * series render 12 bounds + `+Inf`, `_sum` and `_count`: 24,000 sample lines in all).
 *
 * @module
 */
import type { Registry } from 'prom-client';
import { renderPrometheus } from '../../src/telemetry/exporters/prometheus.js';
import type { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import type { Tags } from '../../src/telemetry/types.js';
import { BUCKETS, TAG_NAMES, valueAt } from './inputs.js';
import { oursRegistry, promCounter, promHistogram, promRegistry } from './peers.js';

/** How many metrics of each kind; every metric gets {@link SERIES_PER_METRIC} series. */
export interface ExpositionSize {
  readonly counters: number;
  readonly histograms: number;
}

/** 10 tag combinations: 5 methods × 2 statuses. */
const SERIES_TAGS: readonly Tags[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].flatMap((method) =>
  ['200', '500'].map((status) => ({ method, status })),
);

/** Series of every metric. */
export const SERIES_PER_METRIC = SERIES_TAGS.length;

/** Observations per histogram series. */
const OBSERVATIONS = 20;

/** The size of a real run (10k series) and of a `--quick` one (1k). */
export function expositionSize(quick: boolean): ExpositionSize {
  return quick ? { counters: 90, histograms: 10 } : { counters: 900, histograms: 100 };
}

/** Total series of `size`. */
export function seriesCount(size: ExpositionSize): number {
  return (size.counters + size.histograms) * SERIES_PER_METRIC;
}

function counterAmount(metric: number, series: number): number {
  return metric * 7 + series * 13 + 1;
}

/** Ours, filled: counters `bench.expo.c<k>` (exported `bench_expo_c<k>_total`), histograms `bench.expo.h<k>`. */
export function oursExposition(size: ExpositionSize): MetricsRegistry {
  const registry = oursRegistry();
  for (let k = 0; k < size.counters; k++) {
    const name = `bench.expo.c${String(k)}`;
    const counter = registry.counter(name, { description: name, tags: [...TAG_NAMES] });
    SERIES_TAGS.forEach((tags, s) => {
      counter.add(counterAmount(k, s), tags);
    });
  }
  for (let k = 0; k < size.histograms; k++) {
    const name = `bench.expo.h${String(k)}`;
    const histogram = registry.distribution(name, {
      description: name,
      tags: [...TAG_NAMES],
      buckets: [...BUCKETS],
    });
    SERIES_TAGS.forEach((tags, s) => {
      for (let o = 0; o < OBSERVATIONS; o++) histogram.observe(valueAt(k * 311 + s * 31 + o), tags);
    });
  }
  return registry;
}

/** prom-client, filled with the same metrics (named as ours exports them), series and values. */
export function promExposition(size: ExpositionSize): Registry {
  const registry = promRegistry();
  for (let k = 0; k < size.counters; k++) {
    const counter = promCounter(registry, `bench_expo_c${String(k)}_total`);
    SERIES_TAGS.forEach((tags, s) => {
      counter.inc(tags, counterAmount(k, s));
    });
  }
  for (let k = 0; k < size.histograms; k++) {
    const histogram = promHistogram(registry, `bench_expo_h${String(k)}`, true);
    SERIES_TAGS.forEach((tags, s) => {
      for (let o = 0; o < OBSERVATIONS; o++) histogram.observe(tags, valueAt(k * 311 + s * 31 + o));
    });
  }
  return registry;
}

/** Ours' scrape: collect, then render the text format 0.0.4. */
export function oursScrape(registry: MetricsRegistry): string {
  return renderPrometheus(registry.collect());
}

/** Sample lines (not `#` comments, not blank) of an exposition. */
export function sampleLines(text: string): number {
  let count = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) count++;
  return count;
}

/**
 * Checks that both scrapes expose the same number of samples (the case compares equal work), and returns
 * that number.
 */
export async function checkSameSamples(ours: MetricsRegistry, prom: Registry): Promise<number> {
  const a = sampleLines(oursScrape(ours));
  const b = sampleLines(await prom.metrics());
  if (a !== b) throw new Error(`exposition: ours renders ${String(a)} samples, prom-client ${String(b)}`);
  return a;
}
