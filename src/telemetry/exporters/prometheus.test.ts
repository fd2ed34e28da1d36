import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import type { MetricSnapshot, MetricsSnapshot } from '../types.js';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  PrometheusExporter,
  acceptsOpenMetrics,
  prometheusName,
  renderPrometheus,
} from './prometheus.js';

/** The independent parser's output (prom2json-compatible). */
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

/** Every sample by name (TYPE lines removed so that the parser keeps each sample with its labels). */
function parseSamples(text: string): Map<string, Array<{ labels?: Record<string, string>; value?: string }>> {
  const untyped = text
    .split('\n')
    .filter((l) => !l.startsWith('# TYPE '))
    .join('\n');
  const byName = new Map<string, Array<{ labels?: Record<string, string>; value?: string }>>();
  // A series' _sum/_count lines follow its quantiles/buckets: untyped, each run becomes its own family.
  for (const f of parse(untyped)) byName.set(f.name, [...(byName.get(f.name) ?? []), ...f.metrics]);
  return byName;
}

const T = 1_700_000_000_000;

function snapshot(...metrics: MetricSnapshot[]): MetricsSnapshot {
  return { time: T, metrics };
}

const sample: MetricsSnapshot = snapshot(
  {
    definition: {
      name: 'foundation.events.appended',
      kind: 'counter',
      description: 'Events appended',
      tags: ['type'],
    },
    series: [
      { tags: { type: 'user.created' }, value: { kind: 'counter', value: 3 } },
      {
        tags: { type: 'odd "quoted"\\ \nline' },
        value: { kind: 'counter', value: 1 },
        exemplar: { value: 1, correlationId: 'corr-1', time: T + 500 },
      },
    ],
    overflowed: 0,
  },
  {
    definition: {
      name: 'foundation.runtime.heap_used',
      kind: 'last_value',
      unit: 'bytes',
      description: 'Heap\nused \\ "x"',
    },
    series: [{ tags: {}, value: { kind: 'last_value', value: 123456 } }],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.config.balance', kind: 'sum' },
    series: [{ tags: {}, value: { kind: 'sum', value: -2.5 } }],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.http.latency', kind: 'summary', unit: 'ms', tags: ['route'] },
    series: [
      {
        tags: { route: '/a' },
        value: {
          kind: 'summary',
          count: 10,
          sum: 55,
          quantiles: [
            [0.5, 5],
            [0.99, 9.9],
          ],
        },
      },
      {
        tags: { route: '/empty' },
        value: {
          kind: 'summary',
          count: 0,
          sum: 0,
          quantiles: [
            [0.5, NaN],
            [0.99, NaN],
          ],
        },
      },
    ],
    overflowed: 0,
  },
  {
    definition: {
      name: 'foundation.http.duration',
      kind: 'distribution',
      unit: 'ms',
      tags: ['method', 'le'],
      buckets: [10, 100],
    },
    series: [
      {
        tags: { method: 'GET', le: 'x' },
        value: {
          kind: 'distribution',
          count: 4,
          sum: 250.5,
          buckets: [
            [10, 1],
            [100, 3],
            [Infinity, 4],
          ],
        },
        exemplar: { value: 42, correlationId: 'req-42', time: T },
      },
    ],
    overflowed: 0,
  },
  {
    definition: { name: 'foundation.empty', kind: 'last_value' },
    series: [],
    overflowed: 0,
  },
);

describe('renderPrometheus (text 0.0.4)', () => {
  it('is parsed by an independent parser with the right names, types, labels and values', () => {
    const text = renderPrometheus(sample);
    const families = parse(text);
    const byName = new Map(families.map((f) => [f.name, f]));

    const appended = byName.get('foundation_events_appended_total')!;
    expect(appended.type).toBe('COUNTER');
    expect(appended.help).toBe('Events appended');
    expect(appended.metrics).toEqual([
      { value: '3', labels: { type: 'user.created' } },
      { value: '1', labels: { type: 'odd "quoted"\\ \nline' } },
    ]);

    const heap = byName.get('foundation_runtime_heap_used_bytes')!;
    expect(heap.type).toBe('GAUGE');
    expect(heap.help).toBe('Heap\nused \\ "x"');
    expect(heap.metrics).toEqual([{ value: '123456' }]);

    expect(byName.get('foundation_config_balance')!.metrics).toEqual([{ value: '-2.5' }]);

    expect(byName.get('foundation_http_latency_ms')!.type).toBe('SUMMARY');
    expect(byName.get('foundation_http_duration_ms')!.type).toBe('HISTOGRAM');
    // The parser groups summary/histogram samples only when they carry no other label: check the labeled
    // ones sample by sample.
    const samples = parseSamples(text);
    expect(samples.get('foundation_http_latency_ms')).toEqual([
      { labels: { route: '/a', quantile: '0.5' }, value: '5' },
      { labels: { route: '/a', quantile: '0.99' }, value: '9.9' },
      { labels: { route: '/empty', quantile: '0.5' }, value: 'NaN' },
      { labels: { route: '/empty', quantile: '0.99' }, value: 'NaN' },
    ]);
    expect(samples.get('foundation_http_latency_ms_sum')).toEqual([
      { labels: { route: '/a' }, value: '55' },
      { labels: { route: '/empty' }, value: '0' },
    ]);
    expect(samples.get('foundation_http_latency_ms_count')).toEqual([
      { labels: { route: '/a' }, value: '10' },
      { labels: { route: '/empty' }, value: '0' },
    ]);
    expect(samples.get('foundation_http_duration_ms_bucket')).toEqual([
      { labels: { method: 'GET', tag_le: 'x', le: '10' }, value: '1' },
      { labels: { method: 'GET', tag_le: 'x', le: '100' }, value: '3' },
      { labels: { method: 'GET', tag_le: 'x', le: '+Inf' }, value: '4' },
    ]);
    expect(samples.get('foundation_http_duration_ms_sum')).toEqual([
      { labels: { method: 'GET', tag_le: 'x' }, value: '250.5' },
    ]);
    expect(samples.get('foundation_http_duration_ms_count')).toEqual([
      { labels: { method: 'GET', tag_le: 'x' }, value: '4' },
    ]);

    expect(byName.get('foundation_empty')!.metrics).toEqual([]);
    expect(text).not.toContain('# EOF');
    expect(text).not.toContain('correlation_id');
  });

  it('renders summaries and histograms without tags as the parser groups them', () => {
    const families = parse(
      renderPrometheus(
        snapshot(
          {
            definition: { name: 'q', kind: 'summary', quantiles: [0.5, 0.9] },
            series: [
              {
                tags: {},
                value: {
                  kind: 'summary',
                  count: 3,
                  sum: 6,
                  quantiles: [
                    [0.5, 2],
                    [0.9, 3],
                  ],
                },
              },
            ],
            overflowed: 0,
          },
          {
            definition: { name: 'h', kind: 'distribution', buckets: [0.5, 1] },
            series: [
              {
                tags: {},
                value: {
                  kind: 'distribution',
                  count: 2,
                  sum: 1.25,
                  buckets: [
                    [0.5, 1],
                    [1, 2],
                    [Infinity, 2],
                  ],
                },
              },
            ],
            overflowed: 0,
          },
        ),
      ),
    );
    expect(families).toEqual([
      {
        name: 'q',
        help: 'q',
        type: 'SUMMARY',
        metrics: [{ quantiles: { '0.5': '2', '0.9': '3' }, count: '3', sum: '6' }],
      },
      {
        name: 'h',
        help: 'h',
        type: 'HISTOGRAM',
        metrics: [{ buckets: { '0.5': '1', '1': '2', '+Inf': '2' }, count: '2', sum: '1.25' }],
      },
    ]);
  });

  it('escapes HELP and label values as the format says', () => {
    const text = renderPrometheus(sample);
    expect(text).toContain('# HELP foundation_runtime_heap_used_bytes Heap\\nused \\\\ "x"\n');
    expect(text).toContain('foundation_events_appended_total{type="odd \\"quoted\\"\\\\ \\nline"} 1\n');
  });

  it('applies a prefix and keeps the first of two metrics exported under one name', () => {
    const text = renderPrometheus(
      snapshot(
        {
          definition: { name: 'a.b', kind: 'last_value' },
          series: [{ tags: {}, value: { kind: 'last_value', value: 1 } }],
          overflowed: 0,
        },
        {
          definition: { name: 'a_b', kind: 'last_value' },
          series: [{ tags: {}, value: { kind: 'last_value', value: 2 } }],
          overflowed: 0,
        },
      ),
      { prefix: 'app' },
    );
    expect(parse(text)).toEqual([{ name: 'app_a_b', help: 'a.b', type: 'GAUGE', metrics: [{ value: '1' }] }]);
  });

  it('names counters with _total after the unit, once', () => {
    expect(prometheusName({ name: 'foundation.io.read', kind: 'counter', unit: 'bytes' })).toBe(
      'foundation_io_read_bytes_total',
    );
    expect(prometheusName({ name: 'foundation.jobs_total', kind: 'counter' })).toBe('foundation_jobs_total');
    expect(prometheusName({ name: 'x.delay_ms', kind: 'last_value', unit: 'ms' })).toBe('x_delay_ms');
    expect(prometheusName({ name: 'x.y', kind: 'sum' }, 'my_')).toBe('my_x_y');
  });

  it('round-trips any label values and finite values through the parser (property)', () => {
    const labelValue = fc.string({ unit: 'binary', maxLength: 20 });
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(labelValue, labelValue, fc.double({ noNaN: true, noDefaultInfinity: true })),
          {
            selector: (t) => JSON.stringify([t[0], t[1]]),
            minLength: 1,
            maxLength: 20,
          },
        ),
        (rows) => {
          const text = renderPrometheus(
            snapshot({
              definition: { name: 'p.metric', kind: 'last_value', tags: ['a', 'b'] },
              series: rows.map(([a, b, v]) => ({
                tags: { a, b },
                value: { kind: 'last_value' as const, value: v },
              })),
              overflowed: 0,
            }),
          );
          const [family] = parse(text);
          expect(family!.metrics.map((m) => [m.labels!.a, m.labels!.b, Number(m.value)])).toEqual(
            rows.map(([a, b, v]) => [a, b, Object.is(v, -0) ? 0 : v]),
          );
        },
      ),
    );
  });
});

describe('renderPrometheus (OpenMetrics 1.0)', () => {
  const text = renderPrometheus(sample, { openMetrics: true });
  const lines = text.split('\n');

  it('ends with # EOF and a newline', () => {
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(lines.filter((l) => l === '# EOF')).toHaveLength(1);
  });

  it('names counter families without _total and their samples with it; UNIT lines for units', () => {
    expect(lines).toContain('# TYPE foundation_events_appended counter');
    expect(lines).toContain('foundation_events_appended_total{type="user.created"} 3');
    expect(lines).toContain('# TYPE foundation_runtime_heap_used_bytes gauge');
    expect(lines).toContain('# UNIT foundation_runtime_heap_used_bytes bytes');
    expect(lines).toContain('# HELP foundation_runtime_heap_used_bytes Heap\\nused \\\\ \\"x\\"');
  });

  it('puts exemplars on counters and on the first bucket holding the value, with seconds timestamps', () => {
    expect(lines).toContain(
      'foundation_events_appended_total{type="odd \\"quoted\\"\\\\ \\nline"} 1 # {correlation_id="corr-1"} 1 1700000000.5',
    );
    expect(lines).toContain('foundation_http_duration_ms_bucket{method="GET",tag_le="x",le="10.0"} 1');
    expect(lines).toContain(
      'foundation_http_duration_ms_bucket{method="GET",tag_le="x",le="100.0"} 3 # {correlation_id="req-42"} 42 1700000000',
    );
    expect(lines).toContain('foundation_http_duration_ms_bucket{method="GET",tag_le="x",le="+Inf"} 4');
    expect(lines.filter((l) => l.includes('# {'))).toHaveLength(2);
  });

  it('renders summaries with canonical quantiles and NaN for an empty window', () => {
    expect(lines).toContain('foundation_http_latency_ms{route="/a",quantile="0.5"} 5');
    expect(lines).toContain('foundation_http_latency_ms{route="/empty",quantile="0.99"} NaN');
    expect(lines).toContain('foundation_http_latency_ms_count{route="/a"} 10');
  });

  it('leaves out an exemplar whose id exceeds the 128-character label limit', () => {
    const long = renderPrometheus(
      snapshot({
        definition: { name: 'c', kind: 'counter' },
        series: [
          {
            tags: {},
            value: { kind: 'counter', value: 1 },
            exemplar: { value: 1, correlationId: 'x'.repeat(200), time: T },
          },
        ],
        overflowed: 0,
      }),
      { openMetrics: true },
    );
    expect(long).toBe('# HELP c c\n# TYPE c counter\nc_total 1\n# EOF\n');
  });

  it('every sample line is well-formed', () => {
    const sampleLine =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|-?[0-9.e+-]+)( # \{correlation_id="[^"]*"\} [0-9.e+-]+ [0-9.]+)?$/;
    for (const line of lines) {
      if (line === '' || line.startsWith('# ')) continue;
      expect(line).toMatch(sampleLine);
    }
  });
});

describe('PrometheusExporter', () => {
  it('renders a fresh collect() per scrape with the negotiated content type', async () => {
    const exporter = new PrometheusExporter({ clock: new FakeClock() });
    let n = 0;
    exporter.start({
      collect: () =>
        snapshot({
          definition: { name: 'scrapes', kind: 'counter' },
          series: [{ tags: {}, value: { kind: 'counter', value: ++n } }],
          overflowed: 0,
        }),
    });
    await exporter.export();
    expect(exporter.render()).toEqual({
      contentType: PROMETHEUS_CONTENT_TYPE,
      body: '# HELP scrapes_total scrapes\n# TYPE scrapes_total counter\nscrapes_total 1\n',
    });
    const om = exporter.render({
      openMetrics: acceptsOpenMetrics('application/openmetrics-text;version=1.0.0'),
    });
    expect(om.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(om.body).toContain('scrapes_total 2\n# EOF\n');
    expect(exporter.status()).toEqual({ name: 'prometheus', exported: 2, failed: 0, dropped: 0 });
    expect(acceptsOpenMetrics('text/plain')).toBe(false);
    expect(acceptsOpenMetrics(undefined)).toBe(false);
  });

  it('counts a failing collect and refuses scrapes when stopped', async () => {
    const clock = new FakeClock();
    const exporter = new PrometheusExporter({ clock });
    exporter.start({
      collect: () => {
        throw new Error('boom');
      },
    });
    expect(() => exporter.render()).toThrow('boom');
    expect(exporter.status()).toEqual({
      name: 'prometheus',
      exported: 0,
      failed: 1,
      dropped: 0,
      lastError: { message: 'boom', at: clock.now() },
    });
    await exporter.stop();
    let error: unknown;
    try {
      exporter.render();
    } catch (e) {
      error = e;
    }
    expect(isFoundationError(error, 'FND_SYSTEM_SERVICE_UNAVAILABLE')).toBe(true);
  });
});
