/**
 * Control bus: the metrics routes on a real fastify server over a real foundation (memory store, real
 * clock; the runtime sampler and the series recorder run every 100 ms). `GET /metrics` is parsed by an
 * independent parser (`parse-prometheus-text-format`); OpenMetrics is negotiated through `accept`; a
 * foundation with Prometheus disabled answers 404; the in-memory series are served as JSON; garbage query
 * strings are refused with 400 and leave everything as it was.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { expectProblem } from '../helpers/problem-assertions.js';

/** The independent parser's output (prom2json-compatible). */
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

interface SeriesBody {
  name: string;
  resolution: string;
  series: Array<{ tags: Record<string, string>; key: string; points: Array<{ t: number; v: number }> }>;
}

interface MetricsBody {
  names: string[];
  exporters: Array<{ name: string; exported: number; failed: number; dropped: number }>;
}

/** A generous wait for samplers running on the real clock. */
const WAIT = { timeout: 20_000, interval: 50 } as const;

interface Node {
  readonly foundation: Foundation;
  readonly url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

async function startNode(name: string, telemetry: Record<string, unknown>): Promise<Node> {
  const foundation = createFoundation({
    name,
    store: 'memory:',
    config: {
      defaults: {
        foundation: {
          telemetry: { runtime: { intervalMs: 100 }, series: { intervalMs: 100 }, ...telemetry },
        },
      },
    },
  });
  foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0 }));
  await foundation.start();
  const url = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE).url;
  return { foundation, url, fetch: (path, init) => fetch(new URL(path, url), init) };
}

async function json<T>(response: Response): Promise<T> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return (await response.json()) as T;
}

function family(families: ParsedFamily[], name: string): ParsedFamily | undefined {
  return families.find((f) => f.name === name);
}

describe('control bus: metrics routes', () => {
  let node: Node;

  beforeAll(async () => {
    node = await startNode('metrics-node', {});
    for (let i = 0; i < 3; i += 1) expect((await node.fetch('/api/status')).status).toBe(200);
    await node.foundation.events.append([
      { type: 'order.created', stream: 'order-1', data: { total: 3 } },
      { type: 'order.paid', stream: 'order-1', data: { total: 3 } },
    ]);
  });
  afterAll(async () => {
    await node.foundation.stop();
  });

  it('GET /metrics serves the Prometheus text format with the request and runtime metrics', async () => {
    // The runtime sampler runs every 100 ms: wait for its samples.
    let families: ParsedFamily[] = [];
    await expect
      .poll(async () => {
        const response = await node.fetch('/metrics');
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        families = parsePrometheus(await response.text());
        // The event-loop delay needs a full interval of samples (its first sample may be empty).
        return (
          family(families, 'foundation_runtime_heap_used_bytes') !== undefined &&
          (family(families, 'foundation_runtime_event_loop_delay_ms')?.metrics.length ?? 0) === 4
        );
      }, WAIT)
      .toBe(true);

    const requests = family(families, 'foundation_control_bus_requests_total');
    expect(requests?.type).toBe('COUNTER');
    const status = requests?.metrics.find(
      (m) => m.labels?.route === '/api/status' && m.labels.method === 'GET',
    );
    expect(Number(status?.value)).toBeGreaterThanOrEqual(3);
    const responses = family(families, 'foundation_control_bus_responses_total');
    expect(responses?.type).toBe('COUNTER');
    expect(responses?.metrics.reduce((sum, m) => sum + Number(m.value), 0)).toBeGreaterThanOrEqual(3);

    const heap = family(families, 'foundation_runtime_heap_used_bytes');
    expect(heap?.type).toBe('GAUGE');
    expect(Number(heap?.metrics[0]?.value)).toBeGreaterThan(0);
    const delay = family(families, 'foundation_runtime_event_loop_delay_ms');
    expect(delay?.type).toBe('GAUGE');
    expect(delay?.metrics.map((m) => m.labels?.stat).sort()).toEqual(['max', 'mean', 'p50', 'p99']);
    expect(family(families, 'foundation_runtime_rss_bytes')?.type).toBe('GAUGE');
    expect(family(families, 'foundation_control_bus_request_latency_ms')?.type).toBe('SUMMARY');

    const appended = family(families, 'foundation_events_appended_total');
    expect(appended?.metrics.reduce((sum, m) => sum + Number(m.value), 0)).toBe(2);

    const head = await node.fetch('/metrics', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('GET /metrics serves OpenMetrics when accept asks for it', async () => {
    const response = await node.fetch('/metrics', {
      headers: {
        accept:
          'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const body = await response.text();
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toMatch(/^foundation_control_bus_requests_total\{/m);

    const plain = await node.fetch('/metrics', { headers: { accept: 'text/plain' } });
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await plain.text()).not.toContain('# EOF');
  });

  it('GET /api/metrics lists the recorded metrics and the exporters', async () => {
    await expect
      .poll(async () => {
        const body = await json<MetricsBody>(await node.fetch('/api/metrics'));
        return ['foundation.runtime.heap_used', 'foundation.control_bus.responses'].every((name) =>
          body.names.includes(name),
        );
      }, WAIT)
      .toBe(true);
    const body = await json<MetricsBody>(await node.fetch('/api/metrics'));
    expect(body.names).toEqual([...body.names].sort());
    expect(body.exporters.map((e) => e.name)).toEqual(['prometheus']);
    expect(body.exporters[0]).toMatchObject({ failed: 0, dropped: 0 });
  });

  it('GET /api/metrics/series serves the recorded series of a metric', async () => {
    // Requests keep coming (the polls themselves): the responses counter gets a rate from its second sample.
    await expect
      .poll(async () => {
        const body = await json<SeriesBody>(
          await node.fetch('/api/metrics/series?name=foundation.control_bus.responses'),
        );
        const ok = body.series.find((s) => s.tags.status === '2xx');
        return (ok?.points.length ?? 0) >= 2 && (ok?.points.some((p) => p.v > 0) ?? false);
      }, WAIT)
      .toBe(true);

    const heap = await json<SeriesBody>(
      await node.fetch('/api/metrics/series?name=foundation.runtime.heap_used&resolution=fine'),
    );
    expect(heap).toMatchObject({ name: 'foundation.runtime.heap_used', resolution: 'fine' });
    expect(heap.series).toHaveLength(1);
    const points = heap.series[0]?.points ?? [];
    expect(points.length).toBeGreaterThan(0);
    for (const point of points) expect(point.v).toBeGreaterThan(0);
    for (let i = 1; i < points.length; i += 1) {
      expect(points[i]?.t).toBeGreaterThan(points[i - 1]?.t ?? Infinity);
    }

    // since: only the points from that time on
    const last = points.at(-1)?.t ?? 0;
    const since = await json<SeriesBody>(
      await node.fetch(`/api/metrics/series?name=foundation.runtime.heap_used&since=${last}`),
    );
    expect(since.series[0]?.points.every((p) => p.t >= last)).toBe(true);
    expect(since.series[0]?.points.length).toBeGreaterThanOrEqual(1);
    const future = await json<SeriesBody>(
      await node.fetch(`/api/metrics/series?name=foundation.runtime.heap_used&since=${last + 3_600_000}`),
    );
    expect(future.series[0]?.points).toEqual([]);

    // quantile tags of a summary; stat tags of the event-loop delay
    await expect
      .poll(async () => {
        const body = await json<SeriesBody>(
          await node.fetch('/api/metrics/series?name=foundation.control_bus.request_latency'),
        );
        return body.series.map((s) => s.tags.quantile).sort();
      }, WAIT)
      .toEqual(['0.5', '0.9', '0.99']);
    const delay = await json<SeriesBody>(
      await node.fetch('/api/metrics/series?name=foundation.runtime.event_loop_delay'),
    );
    expect(delay.series.map((s) => s.tags.stat).sort()).toEqual(['max', 'mean', 'p50', 'p99']);

    const coarse = await json<SeriesBody>(
      await node.fetch('/api/metrics/series?name=foundation.runtime.heap_used&resolution=coarse'),
    );
    expect(coarse.resolution).toBe('coarse');
    expect(coarse.series).toHaveLength(1);

    // a declared metric that recorded nothing yet: no series; an unknown one: 404
    const quiet = await json<SeriesBody>(
      await node.fetch('/api/metrics/series?name=foundation.supervisor.escalations'),
    );
    expect(quiet).toEqual({ name: 'foundation.supervisor.escalations', resolution: 'fine', series: [] });
    await expectProblem(
      await node.fetch('/api/metrics/series?name=no.such.metric'),
      404,
      'FND_DATA_NOT_FOUND',
    );
  });

  it('refuses garbage query strings with 400 and changes nothing', async () => {
    const definitions = node.foundation.metrics.registry.definitions().length;
    const version = node.foundation.config.version;
    const garbage = [
      '/metrics?format=json',
      '/api/metrics?name=foundation.runtime.heap_used',
      '/api/metrics/series',
      '/api/metrics/series?name=',
      '/api/metrics/series?resolution=fine',
      '/api/metrics/series?name=Foundation.Runtime',
      '/api/metrics/series?name=foundation..heap',
      '/api/metrics/series?name=foundation.runtime.heap_used%00',
      `/api/metrics/series?name=${'a'.repeat(201)}`,
      '/api/metrics/series?name=foundation.runtime.heap_used&name=foundation.runtime.rss',
      '/api/metrics/series?name=foundation.runtime.heap_used&resolution=hourly',
      '/api/metrics/series?name=foundation.runtime.heap_used&resolution=',
      '/api/metrics/series?name=foundation.runtime.heap_used&since=-1',
      '/api/metrics/series?name=foundation.runtime.heap_used&since=1.5',
      '/api/metrics/series?name=foundation.runtime.heap_used&since=1e12',
      '/api/metrics/series?name=foundation.runtime.heap_used&since=99999999999999999',
      '/api/metrics/series?name=foundation.runtime.heap_used&since=',
      '/api/metrics/series?name=foundation.runtime.heap_used&limit=10',
      '/api/metrics/series?name[]=foundation.runtime.heap_used',
      '/api/metrics/series?__proto__=x&name=foundation.runtime.heap_used',
    ];
    for (const path of garbage) {
      const problem = await expectProblem(await node.fetch(path), 400, 'FND_HTTP_BAD_REQUEST');
      expect(problem.detail).not.toContain('\u0000');
    }
    expect(node.foundation.metrics.registry.definitions()).toHaveLength(definitions);
    expect(node.foundation.config.version).toBe(version);
    expect(node.foundation.status().state).toBe('running');
    expect(node.foundation.status().services.every((s) => s.state === 'running')).toBe(true);
    // The refusals are counted as 4xx responses, and nothing answered 5xx.
    await expect
      .poll(async () => {
        const body = await json<SeriesBody>(
          await node.fetch('/api/metrics/series?name=foundation.control_bus.responses'),
        );
        return body.series.map((s) => s.tags.status).sort();
      }, WAIT)
      .toEqual(['2xx', '4xx']);
  });
});

describe('control bus: metrics routes with Prometheus disabled', () => {
  let node: Node;

  beforeAll(async () => {
    node = await startNode('no-prometheus', { prometheus: { enabled: false } });
  });
  afterAll(async () => {
    await node.foundation.stop();
  });

  it('GET /metrics answers 404 while the JSON routes still work', async () => {
    expect(node.foundation.metrics.prometheusEnabled).toBe(false);
    const problem = await expectProblem(await node.fetch('/metrics'), 404, 'FND_CONFIG_NOT_FOUND');
    expect(problem.detail).toContain('foundation.telemetry.prometheus.enabled');
    await expectProblem(
      await node.fetch('/metrics', { headers: { accept: 'application/openmetrics-text' } }),
      404,
      'FND_CONFIG_NOT_FOUND',
    );
    const body = await json<MetricsBody>(await node.fetch('/api/metrics'));
    expect(body.exporters).toEqual([]);
    await expect
      .poll(async () => {
        const heap = await json<SeriesBody>(
          await node.fetch('/api/metrics/series?name=foundation.runtime.heap_used'),
        );
        return heap.series[0]?.points.length ?? 0;
      }, WAIT)
      .toBeGreaterThan(0);
  });
});
