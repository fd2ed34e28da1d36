import { describe, expect, it } from 'vitest';
import type { MetricsRegistry } from '../../src/telemetry/metrics/registry.js';
import {
  checkSameSamples,
  expositionSize,
  oursExposition,
  promExposition,
  seriesCount,
} from './exposition.js';
import { BOUND_TAGS, BUCKETS, TAG_NAMES, VALUE_COUNT, valueAt } from './inputs.js';
import { otelMeter, oursRegistry, promCounter, promHistogram, promRegistry, stopOtel } from './peers.js';

/** The data points of the first metric an OTel reader collects. */
async function otelPoints(reader: ReturnType<typeof otelMeter>['reader']): Promise<unknown[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints ?? [];
}

function oursSeries(registry: MetricsRegistry, name: string) {
  return registry.metric(name)?.series[0]?.value;
}

describe('telemetry bench peers', () => {
  it('counts a bound counter the same in ours, prom-client and the OTel SDK', async () => {
    const ours = oursRegistry();
    const bound = ours.counter('bench.counter', { tags: [...TAG_NAMES] }).bind(BOUND_TAGS);
    const prom = promRegistry();
    const child = promCounter(prom, 'bench_counter').labels('GET', '200');
    const otel = otelMeter();
    const counter = otel.meter.createCounter('bench.counter');
    for (let i = 0; i < 100; i++) {
      bound.add();
      child.inc();
      counter.add(1, BOUND_TAGS);
    }
    expect(oursSeries(ours, 'bench.counter')).toEqual({ kind: 'counter', value: 100 });
    expect((await prom.getSingleMetric('bench_counter')?.get())?.values).toEqual([
      { value: 100, labels: { method: 'GET', status: '200' } },
    ]);
    expect(await otelPoints(otel.reader)).toMatchObject([{ value: 100, attributes: BOUND_TAGS }]);
    stopOtel(otel);
  });

  it('buckets the same values identically in all three histograms', async () => {
    const ours = oursRegistry();
    const distribution = ours.distribution('bench.histogram', { buckets: [...BUCKETS] });
    const prom = promRegistry();
    const histogram = promHistogram(prom, 'bench_histogram', false);
    const otel = otelMeter();
    const recorder = otel.meter.createHistogram('bench.histogram', {
      advice: { explicitBucketBoundaries: [...BUCKETS] },
    });
    for (let i = 0; i < VALUE_COUNT; i++) {
      distribution.observe(valueAt(i));
      histogram.observe(valueAt(i));
      recorder.record(valueAt(i));
    }
    const value = oursSeries(ours, 'bench.histogram');
    if (value?.kind !== 'distribution') throw new Error('expected a distribution');
    const cumulative = value.buckets.map(([, count]) => count);
    const promBuckets = (await prom.getSingleMetric('bench_histogram')?.get())?.values
      .filter((v) => (v as { metricName?: string }).metricName === 'bench_histogram_bucket')
      .map((v) => v.value);
    expect(promBuckets).toEqual(cumulative);
    const [point] = (await otelPoints(otel.reader)) as [{ value: { buckets: { counts: number[] } } }];
    let running = 0;
    expect(point.value.buckets.counts.map((count) => (running += count))).toEqual(cumulative);
    // The values reach every bucket, +Inf included.
    expect(new Set(cumulative).size).toBe(BUCKETS.length + 1);
    stopOtel(otel);
  });

  it('exposes the same samples from ours and prom-client (10k series: 24k samples)', async () => {
    const quick = expositionSize(true);
    expect(seriesCount(quick)).toBe(1000);
    expect(seriesCount(expositionSize(false))).toBe(10_000);
    expect(await checkSameSamples(oursExposition(quick), promExposition(quick))).toBe(2400);
  });
});
