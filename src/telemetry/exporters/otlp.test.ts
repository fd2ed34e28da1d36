import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import type { MetricSnapshot, MetricsSnapshot } from '../types.js';
import { OtelBridge } from './otlp.js';

interface Sdk {
  readonly provider: MeterProvider;
  /** Runs one collection through the SDK's reader into the in-memory exporter; returns its metrics. */
  readonly collect: () => Promise<MetricData[]>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sdk(): Sdk {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The interval never elapses during a test: collections are driven by forceFlush().
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  return {
    provider,
    async collect() {
      exporter.reset();
      await reader.forceFlush();
      const batches = exporter.getMetrics();
      return batches.flatMap((b) => b.scopeMetrics.flatMap((s) => s.metrics));
    },
  };
}

function points(
  all: MetricData[],
  name: string,
): Array<{ attributes: Record<string, unknown>; value: unknown }> {
  const metric = all.find((m) => m.descriptor.name === name);
  if (metric === undefined)
    throw new Error(`no metric ${name} in ${all.map((m) => m.descriptor.name).join(', ')}`);
  return (metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>).map((p) => ({
    attributes: p.attributes,
    value: p.value,
  }));
}

const metrics: MetricSnapshot[] = [
  {
    definition: {
      name: 'foundation.events.appended',
      kind: 'counter',
      description: 'Appended',
      tags: ['type'],
    },
    series: [
      { tags: { type: 'a' }, value: { kind: 'counter', value: 3 } },
      { tags: { type: 'b' }, value: { kind: 'counter', value: 1 } },
    ],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.pool.balance', kind: 'sum' },
    series: [{ tags: {}, value: { kind: 'sum', value: -2 } }],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.runtime.heap_used', kind: 'last_value', unit: 'bytes' },
    series: [{ tags: {}, value: { kind: 'last_value', value: 4096 } }],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.http.latency', kind: 'summary', unit: 'ms', tags: ['route'] },
    series: [
      {
        tags: { route: '/a' },
        value: {
          kind: 'summary',
          count: 4,
          sum: 10,
          quantiles: [
            [0.5, 2],
            [0.99, NaN],
          ],
        },
      },
    ],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.http.duration', kind: 'distribution', unit: 'ms', buckets: [10, 100] },
    series: [
      {
        tags: {},
        value: {
          kind: 'distribution',
          count: 5,
          sum: 150,
          buckets: [
            [10, 1],
            [100, 4],
            [Infinity, 5],
          ],
        },
      },
    ],
    overflowed: 0,
  },
];

describe('OtelBridge with the OpenTelemetry SDK', () => {
  it('reports every kind through the SDK with names, kinds, units, attributes and values', async () => {
    const { provider, collect } = sdk();
    const bridge = new OtelBridge({ meterProvider: provider });
    bridge.start({ collect: () => ({ time: 0, metrics }) });
    const all = await collect();

    const appended = all.find((m) => m.descriptor.name === 'foundation.events.appended')!;
    expect(appended.dataPointType).toBe(DataPointType.SUM);
    expect(appended.descriptor.description).toBe('Appended');
    expect(appended.dataPointType === DataPointType.SUM && appended.isMonotonic).toBe(true);
    expect(points(all, 'foundation.events.appended')).toEqual([
      { attributes: { type: 'a' }, value: 3 },
      { attributes: { type: 'b' }, value: 1 },
    ]);

    const balance = all.find((m) => m.descriptor.name === 'foundation.pool.balance')!;
    expect(balance.dataPointType === DataPointType.SUM && balance.isMonotonic).toBe(false);
    expect(points(all, 'foundation.pool.balance')).toEqual([{ attributes: {}, value: -2 }]);

    const heap = all.find((m) => m.descriptor.name === 'foundation.runtime.heap_used')!;
    expect(heap.dataPointType).toBe(DataPointType.GAUGE);
    expect(heap.descriptor.unit).toBe('By');
    expect(points(all, 'foundation.runtime.heap_used')).toEqual([{ attributes: {}, value: 4096 }]);

    // The empty quantile (NaN) is not observed.
    expect(points(all, 'foundation.http.latency')).toEqual([
      { attributes: { route: '/a', quantile: 0.5 }, value: 2 },
    ]);
    expect(all.find((m) => m.descriptor.name === 'foundation.http.latency')!.descriptor.unit).toBe('ms');
    expect(points(all, 'foundation.http.latency.count')).toEqual([{ attributes: { route: '/a' }, value: 4 }]);
    expect(points(all, 'foundation.http.latency.sum')).toEqual([{ attributes: { route: '/a' }, value: 10 }]);

    expect(points(all, 'foundation.http.duration.count')).toEqual([{ attributes: {}, value: 5 }]);
    expect(points(all, 'foundation.http.duration.sum')).toEqual([{ attributes: {}, value: 150 }]);
    expect(points(all, 'foundation.http.duration.bucket')).toEqual([
      { attributes: { le: 10 }, value: 1 },
      { attributes: { le: 100 }, value: 4 },
      { attributes: { le: Infinity }, value: 5 },
    ]);
  });

  it('collects once per SDK collection cycle and follows the values', async () => {
    const { provider, collect } = sdk();
    let value = 1;
    let calls = 0;
    const bridge = new OtelBridge({ meterProvider: provider });
    const snapshot = (): MetricsSnapshot => {
      calls++;
      return {
        time: 0,
        metrics: [
          {
            definition: { name: 'c', kind: 'counter' },
            series: [{ tags: {}, value: { kind: 'counter', value } }],
            overflowed: 0,
          },
          {
            definition: { name: 'g', kind: 'last_value' },
            series: [{ tags: {}, value: { kind: 'last_value', value: value * 10 } }],
            overflowed: 0,
          },
        ],
      };
    };
    bridge.start({ collect: snapshot });
    calls = 0;
    expect(points(await collect(), 'c')).toEqual([{ attributes: {}, value: 1 }]);
    expect(calls).toBe(1);
    value = 7;
    const second = await collect();
    expect(points(second, 'c')).toEqual([{ attributes: {}, value: 7 }]);
    expect(points(second, 'g')).toEqual([{ attributes: {}, value: 70 }]);
    expect(calls).toBe(2);
    expect(bridge.status()).toEqual({ name: 'otlp', exported: 2, failed: 0, dropped: 0 });

    await bridge.stop();
    await collect();
    expect(calls).toBe(2);
  });

  it('metrics defined after start are reported once known (export or the next cycle)', async () => {
    const { provider, collect } = sdk();
    const current: MetricSnapshot[] = [metrics[1]!];
    const bridge = new OtelBridge({ meterProvider: provider });
    bridge.start({ collect: () => ({ time: 0, metrics: current }) });
    current.push(metrics[2]!);
    await collect(); // the bridge learns the new metric during this cycle
    await Promise.resolve();
    expect(points(await collect(), 'foundation.runtime.heap_used')).toEqual([
      { attributes: {}, value: 4096 },
    ]);
    current.push(metrics[0]!);
    await bridge.export({ time: 0, metrics: current });
    expect(points(await collect(), 'foundation.events.appended')).toHaveLength(2);
  });

  it('a throwing collect() is counted and the SDK keeps collecting', async () => {
    const clock = new FakeClock();
    const { provider, collect } = sdk();
    let broken = false;
    const bridge = new OtelBridge({ meterProvider: provider, clock });
    bridge.start({
      collect: () => {
        if (broken) throw new Error('registry broke');
        return { time: 0, metrics: [metrics[1]!] };
      },
    });
    broken = true;
    await collect();
    expect(bridge.status()).toEqual({
      name: 'otlp',
      exported: 0,
      failed: 1,
      dropped: 0,
      lastError: { message: 'registry broke', at: clock.now() },
    });
    broken = false;
    expect(points(await collect(), 'foundation.pool.balance')).toEqual([{ attributes: {}, value: -2 }]);
  });
});
