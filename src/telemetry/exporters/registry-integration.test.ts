import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { withContext } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { OtelBridge } from './otlp.js';
import { renderPrometheus } from './prometheus.js';
import { StatsdExporter } from './statsd.js';

interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }>;
}
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A registry with one metric of each kind, fed through its real instruments. */
function fedRegistry(clock: FakeClock): MetricsRegistry {
  const registry = new MetricsRegistry({ clock });
  const requests = registry.counter('app.http.requests', { tags: ['route'], exemplars: true });
  withContext({ correlationId: 'corr-xyz' }, () => {
    requests.add(2, { route: '/a' });
  });
  requests.bind({ route: '/b' }).add();
  registry.lastValue('app.runtime.heap_used', { unit: 'bytes' }).set(2048);
  registry.sum('app.pool.balance').add(-4);
  const latency = registry.summary('app.http.latency', { unit: 'ms', quantiles: [0.5] });
  for (const v of [10, 20, 30]) latency.observe(v);
  const duration = registry.distribution('app.http.duration', {
    unit: 'ms',
    buckets: [10, 100],
    exemplars: true,
  });
  withContext({ correlationId: 'corr-hist' }, () => {
    duration.observe(5);
    duration.observe(50);
  });
  duration.observe(500);
  return registry;
}

describe('exporters fed by the real MetricsRegistry', () => {
  it('Prometheus: the independent parser reads what the registry collected; OpenMetrics carries exemplars', () => {
    const registry = fedRegistry(new FakeClock());
    const families = new Map(parse(renderPrometheus(registry.collect())).map((f) => [f.name, f]));
    expect(families.get('app_http_requests_total')).toMatchObject({
      type: 'COUNTER',
      metrics: [
        { value: '2', labels: { route: '/a' } },
        { value: '1', labels: { route: '/b' } },
      ],
    });
    expect(families.get('app_runtime_heap_used_bytes')?.metrics).toEqual([{ value: '2048' }]);
    expect(families.get('app_pool_balance')?.metrics).toEqual([{ value: '-4' }]);
    expect(families.get('app_http_latency_ms')?.type).toBe('SUMMARY');
    expect(families.get('app_http_duration_ms')?.metrics).toEqual([
      { buckets: { '10': '1', '100': '2', '+Inf': '3' }, count: '3', sum: '555' },
    ]);
    const median = Number(
      renderPrometheus(registry.collect())
        .split('\n')
        .find((l) => l.startsWith('app_http_latency_ms{quantile="0.5"}'))
        ?.split(' ')[1],
    );
    expect(Math.abs(median - 20) / 20).toBeLessThanOrEqual(0.01);

    const openMetrics = renderPrometheus(registry.collect(), { openMetrics: true }).split('\n');
    expect(openMetrics.find((l) => l.startsWith('app_http_requests_total{route="/a"}'))).toMatch(
      /^app_http_requests_total\{route="\/a"\} 2 # \{correlation_id="corr-xyz"\} 2 [0-9.]+$/,
    );
    expect(openMetrics.find((l) => l.includes('le="100.0"'))).toMatch(/# \{correlation_id="corr-hist"\} 50 /);
  });

  it('StatsD: a real UDP listener receives the registry through the exporter', async () => {
    const server = dgram.createSocket('udp4');
    const lines: string[] = [];
    server.on('message', (m) => lines.push(...m.toString('utf8').split('\n')));
    await new Promise<void>((resolve) => {
      server.bind(0, '127.0.0.1', () => {
        resolve();
      });
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    );
    const clock = new FakeClock();
    const registry = fedRegistry(clock);
    const exporter = new StatsdExporter({
      host: '127.0.0.1',
      port: server.address().port,
      dogstatsd: true,
      clock,
    });
    await exporter.start();
    cleanups.push(() => exporter.stop());
    await exporter.export(registry.collect());
    await expect.poll(() => lines, { timeout: 5000 }).toContain('app.http.duration.count:3|g');
    expect(lines).toContain('app.http.requests:2|c|#route:/a');
    expect(lines).toContain('app.http.requests:1|c|#route:/b');
    expect(lines).toContain('app.runtime.heap_used:2048|g');
    expect(lines).toContain('app.pool.balance:-4|g');
    expect(lines).toContain('app.http.latency.count:3|g');
    registry.counter('app.http.requests', { tags: ['route'] }).add(5, { route: '/a' });
    const before = lines.length;
    await exporter.export(registry.collect());
    await expect.poll(() => lines.length, { timeout: 5000 }).toBeGreaterThan(before);
    await expect
      .poll(() => lines.slice(before), { timeout: 5000 })
      .toContain('app.http.requests:5|c|#route:/a');
    expect(lines.slice(before).filter((l) => l.startsWith('app.http.requests:'))).toEqual([
      'app.http.requests:5|c|#route:/a',
    ]);
  });

  it('OpenTelemetry: the SDK reads the registry through the bridge', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    const registry = fedRegistry(new FakeClock());
    const bridge = new OtelBridge({ meterProvider: provider });
    bridge.start({ collect: () => registry.collect() });
    cleanups.push(() => bridge.stop());
    await reader.forceFlush();
    const all = exporter.getMetrics().flatMap((b) => b.scopeMetrics.flatMap((s) => s.metrics));
    const values = (name: string): unknown[] =>
      all.find((m) => m.descriptor.name === name)?.dataPoints.map((p) => [p.attributes, p.value]) ?? [];
    expect(values('app.http.requests')).toEqual([
      [{ route: '/a' }, 2],
      [{ route: '/b' }, 1],
    ]);
    expect(values('app.runtime.heap_used')).toEqual([[{}, 2048]]);
    expect(values('app.pool.balance')).toEqual([[{}, -4]]);
    expect(values('app.http.latency.count')).toEqual([[{}, 3]]);
    expect(values('app.http.duration.bucket')).toEqual([
      [{ le: 10 }, 1],
      [{ le: 100 }, 2],
      [{ le: Infinity }, 3],
    ]);
  });
});
