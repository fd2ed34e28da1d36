/**
 * The telemetry suite's metric cases: ours (a {@link MetricsRegistry}) against prom-client 15.1.3 and the
 * OpenTelemetry SDK 2.x with a reader attached, each implementation in its own registry / provider, all
 * fed the same tags and values (`inputs.ts`).
 *
 * @module
 */
import type { Counter as OtelCounter, Histogram as OtelHistogram } from '@opentelemetry/api';
import type { Counter, Histogram, Registry, Summary } from 'prom-client';
import type { BoundCounter, BoundObserver } from '../../src/telemetry/metrics/instruments.js';
import type { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import { asyncCase, asyncImpl, impl, type AsyncBenchCase, type BenchCase } from '../suite.js';
import {
  checkSameSamples,
  expositionSize,
  oursExposition,
  oursScrape,
  promExposition,
  seriesCount,
} from './exposition.js';
import { BOUND_TAGS, BUCKETS, QUANTILES, TAG_NAMES, tagsAt, valueAt, WINDOW_BUCKETS } from './inputs.js';
import {
  attributes,
  otelMeter,
  oursRegistry,
  promCounter,
  promHistogram,
  promRegistry,
  promSummary,
  stopOtel,
  type OtelMeter,
} from './peers.js';

const WINDOW_MS = 60_000;

type Label = (typeof TAG_NAMES)[number];

interface OtelState<I> {
  readonly otel: OtelMeter;
  readonly instrument: I;
}

function otelCounter(): OtelState<OtelCounter> {
  const otel = otelMeter();
  return { otel, instrument: otel.meter.createCounter('bench.counter') };
}

function otelHistogram(): OtelState<OtelHistogram> {
  const otel = otelMeter();
  return {
    otel,
    instrument: otel.meter.createHistogram('bench.histogram', {
      advice: { explicitBucketBoundaries: [...BUCKETS] },
    }),
  };
}

const OTEL_BOUND_ATTRIBUTES = attributes(BOUND_TAGS);

/** Bound counter increment: ours `bind(tags).add()`, prom-client's pre-bound child, OTel `add(1, attrs)`. */
export function boundCounterCase(): BenchCase {
  return {
    name: 'counter add, bound series (2 tags)',
    impls: [
      impl<BoundCounter>({
        impl: 'ours',
        role: 'ours',
        setup: () =>
          oursRegistry()
            .counter('bench.counter', { tags: [...TAG_NAMES] })
            .bind(BOUND_TAGS),
        fn: (bound) => {
          bound.add();
        },
      }),
      impl<ReturnType<Counter<Label>['labels']>>({
        impl: 'prom-client',
        role: 'peer',
        setup: () => promCounter(promRegistry(), 'bench_counter').labels('GET', '200'),
        fn: (child) => {
          child.inc();
        },
      }),
      impl<OtelState<OtelCounter>>({
        impl: 'otel-sdk',
        role: 'peer',
        setup: otelCounter,
        fn: ({ instrument }) => {
          instrument.add(1, OTEL_BOUND_ATTRIBUTES);
        },
        teardown: ({ otel }) => {
          stopOtel(otel);
        },
      }),
    ],
  };
}

/** Unbound counter increment, cycling over 8 combinations of 2 tags. */
export function unboundCounterCase(): BenchCase {
  return {
    name: 'counter add, unbound, 2 tags (8 series)',
    impls: [
      impl({
        impl: 'ours',
        role: 'ours',
        setup: () => oursRegistry().counter('bench.counter', { tags: [...TAG_NAMES] }),
        fn: (counter, i) => {
          counter.add(1, tagsAt(i));
        },
      }),
      impl<Counter<Label>>({
        impl: 'prom-client',
        role: 'peer',
        setup: () => promCounter(promRegistry(), 'bench_counter'),
        fn: (counter, i) => {
          counter.inc(tagsAt(i));
        },
      }),
      impl<OtelState<OtelCounter>>({
        impl: 'otel-sdk',
        role: 'peer',
        setup: otelCounter,
        fn: ({ instrument }, i) => {
          instrument.add(1, tagsAt(i));
        },
        teardown: ({ otel }) => {
          stopOtel(otel);
        },
      }),
    ],
  };
}

/** Histogram observe without tags: ours' distribution, prom-client's Histogram, OTel's histogram. */
export function histogramCase(): BenchCase {
  return {
    name: 'histogram observe, no tags (12 buckets)',
    impls: [
      impl({
        impl: 'ours',
        role: 'ours',
        setup: () => oursRegistry().distribution('bench.histogram', { buckets: [...BUCKETS] }),
        fn: (histogram, i) => {
          histogram.observe(valueAt(i));
        },
      }),
      impl<Histogram>({
        impl: 'prom-client',
        role: 'peer',
        setup: () => promHistogram(promRegistry(), 'bench_histogram', false),
        fn: (histogram, i) => {
          histogram.observe(valueAt(i));
        },
      }),
      impl<OtelState<OtelHistogram>>({
        impl: 'otel-sdk',
        role: 'peer',
        setup: otelHistogram,
        fn: ({ instrument }, i) => {
          instrument.record(valueAt(i));
        },
        teardown: ({ otel }) => {
          stopOtel(otel);
        },
      }),
    ],
  };
}

/** Histogram observe on a bound series with 2 tags (OTel has no binding: `record(v, attrs)`). */
export function boundHistogramCase(): BenchCase {
  return {
    name: 'histogram observe, bound series (2 tags, 12 buckets)',
    impls: [
      impl<BoundObserver>({
        impl: 'ours',
        role: 'ours',
        setup: () =>
          oursRegistry()
            .distribution('bench.histogram', { tags: [...TAG_NAMES], buckets: [...BUCKETS] })
            .bind(BOUND_TAGS),
        fn: (bound, i) => {
          bound.observe(valueAt(i));
        },
      }),
      impl<ReturnType<Histogram<Label>['labels']>>({
        impl: 'prom-client',
        role: 'peer',
        setup: () => promHistogram(promRegistry(), 'bench_histogram', true).labels('GET', '200'),
        fn: (child, i) => {
          child.observe(valueAt(i));
        },
      }),
      impl<OtelState<OtelHistogram>>({
        impl: 'otel-sdk',
        role: 'peer',
        setup: otelHistogram,
        fn: ({ instrument }, i) => {
          instrument.record(valueAt(i), OTEL_BOUND_ATTRIBUTES);
        },
        teardown: ({ otel }) => {
          stopOtel(otel);
        },
      }),
    ],
  };
}

/** Sliding-window quantiles: ours' summary vs prom-client's Summary (60 s window, 6 sub-windows, p50/90/99). */
export function summaryCase(): BenchCase {
  return {
    name: 'summary observe, 60 s sliding window (p50, p90, p99)',
    impls: [
      impl({
        impl: 'ours',
        role: 'ours',
        setup: () =>
          oursRegistry().summary('bench.summary', {
            quantiles: [...QUANTILES],
            windowMs: WINDOW_MS,
            windowBuckets: WINDOW_BUCKETS,
          }),
        fn: (summary, i) => {
          summary.observe(valueAt(i));
        },
      }),
      impl<Summary>({
        impl: 'prom-client',
        role: 'peer',
        setup: () => promSummary(promRegistry(), 'bench_summary'),
        fn: (summary, i) => {
          summary.observe(valueAt(i));
        },
      }),
    ],
  };
}

interface ExpositionState {
  readonly ours: MetricsRegistry;
  readonly prom: Registry;
}

/**
 * One scrape of 10k series (1k with `--quick`): ours `renderPrometheus(registry.collect())` vs prom-client
 * `await registry.metrics()`. Both are filled in the case's setup and checked to expose the same samples.
 */
export function expositionCase(quick: boolean): AsyncBenchCase {
  const size = expositionSize(quick);
  return asyncCase<ExpositionState>({
    name: `exposition, ${seriesCount(size).toLocaleString('en-US')} series (${String(size.counters)} counters + ${String(size.histograms)} histograms, × 10 series)`,
    setup: async () => {
      const state = { ours: oursExposition(size), prom: promExposition(size) };
      await checkSameSamples(state.ours, state.prom);
      return state;
    },
    impls: [
      asyncImpl<MetricsRegistry, ExpositionState>({
        impl: 'ours',
        role: 'ours',
        setup: ({ ours }) => ours,
        fn: oursScrape,
      }),
      asyncImpl<Registry, ExpositionState>({
        impl: 'prom-client',
        role: 'peer',
        setup: ({ prom }) => prom,
        fn: (prom) => prom.metrics(),
      }),
    ],
  });
}
