import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withContext } from '../../errors/context.js';
import { FakeClock } from '../../testing/fake-clock.js';
import {
  OVERFLOW_TAG_VALUE,
  type MetricDefinition,
  type MetricSnapshot,
  type SeriesValue,
} from '../types.js';
import { DEFAULT_MAX_SERIES } from './definition.js';
import { DROPPED_METRIC, MetricsRegistry } from './registry.js';

function registry(clock = new FakeClock()): MetricsRegistry {
  return new MetricsRegistry({ clock });
}

function seriesOf(snapshot: MetricSnapshot | undefined): Record<string, SeriesValue> {
  const out: Record<string, SeriesValue> = {};
  for (const s of snapshot?.series ?? []) out[JSON.stringify(s.tags)] = s.value;
  return out;
}

function scalar(value: SeriesValue | undefined): number | undefined {
  return value !== undefined && 'value' in value ? value.value : undefined;
}

function dropped(metrics: MetricsRegistry, name: string): number {
  return scalar(seriesOf(metrics.metric(DROPPED_METRIC))[JSON.stringify({ metric: name })]) ?? 0;
}

describe('MetricsRegistry.define', () => {
  it('normalizes definitions with their defaults and lists them', () => {
    const metrics = registry();
    metrics.define({ name: 'app.latency', kind: 'summary', unit: 'ms', tags: ['route'] });
    const def = metrics.definitions().find((d) => d.name === 'app.latency');
    expect(def).toEqual({
      name: 'app.latency',
      kind: 'summary',
      unit: 'ms',
      tags: ['route'],
      maxSeries: DEFAULT_MAX_SERIES,
      quantiles: [0.5, 0.9, 0.99],
      windowMs: 60_000,
      windowBuckets: 6,
      relativeAccuracy: 0.01,
    });
    expect(Object.isFrozen(def)).toBe(true);
  });

  it('accepts the same definition again and refuses a different one', () => {
    const metrics = registry();
    metrics.define({ name: 'app.requests', kind: 'counter', tags: ['route'] });
    expect(() => {
      metrics.define({ name: 'app.requests', kind: 'counter', tags: ['route'], maxSeries: 1000 });
    }).not.toThrow();
    expect(() => {
      metrics.define({ name: 'app.requests', kind: 'sum', tags: ['route'] });
    }).toThrow(expect.objectContaining({ code: 'FND_TELEMETRY_INVALID_METRIC' }));
    expect(() => {
      metrics.counter('app.requests', { tags: ['method'] });
    }).toThrow(expect.objectContaining({ code: 'FND_TELEMETRY_INVALID_METRIC' }));
    // The factory of an equal definition returns an instrument on the same metric.
    metrics.counter('app.requests', { tags: ['route'] }).add(2, { route: '/' });
    metrics.counter('app.requests', { tags: ['route'] }).add(3, { route: '/' });
    expect(scalar(seriesOf(metrics.metric('app.requests'))['{"route":"/"}'])).toBe(5);
  });

  const bad: Array<[string, unknown]> = [
    ['name', { name: 'App.requests', kind: 'counter' }],
    ['name', { name: 'app..requests', kind: 'counter' }],
    ['name', { name: `a${'b'.repeat(200)}`, kind: 'counter' }],
    ['name', { name: 42, kind: 'counter' }],
    ['kind', { name: 'a.b', kind: 'gauge' }],
    ['tags', { name: 'a.b', kind: 'counter', tags: ['Route'] }],
    ['tags', { name: 'a.b', kind: 'counter', tags: ['a', 'a'] }],
    ['tags', { name: 'a.b', kind: 'counter', tags: Array.from({ length: 11 }, (_, i) => `t${String(i)}`) }],
    ['tags', { name: 'a.b', kind: 'counter', tags: 'route' }],
    ['buckets', { name: 'a.b', kind: 'distribution' }],
    ['buckets', { name: 'a.b', kind: 'distribution', buckets: [] }],
    ['buckets', { name: 'a.b', kind: 'distribution', buckets: [2, 1] }],
    ['buckets', { name: 'a.b', kind: 'distribution', buckets: [1, Infinity] }],
    ['buckets', { name: 'a.b', kind: 'distribution', buckets: Array.from({ length: 101 }, (_, i) => i) }],
    ['buckets', { name: 'a.b', kind: 'counter', buckets: [1] }],
    ['quantiles', { name: 'a.b', kind: 'summary', quantiles: [0.5, 1] }],
    ['quantiles', { name: 'a.b', kind: 'summary', quantiles: [0] }],
    ['quantiles', { name: 'a.b', kind: 'summary', quantiles: [] }],
    ['windowMs', { name: 'a.b', kind: 'summary', windowMs: 999 }],
    ['windowMs', { name: 'a.b', kind: 'summary', windowMs: 1500.5 }],
    ['relativeAccuracy', { name: 'a.b', kind: 'summary', relativeAccuracy: 0 }],
    ['maxSeries', { name: 'a.b', kind: 'counter', maxSeries: 0 }],
    ['maxSeries', { name: 'a.b', kind: 'counter', maxSeries: 100_001 }],
    ['measurement', { name: 'a.b', kind: 'sum', event: 'x:y' }],
    ['measurement', { name: 'a.b', kind: 'counter', measurement: 'n' }],
    ['event', { name: 'a.b', kind: 'counter', event: 'not an event' }],
    ['unit', { name: 'a.b', kind: 'counter', unit: 'Milli Seconds' }],
    ['definition', { name: 'a.b', kind: 'counter', extra: true }],
    ['definition', null],
  ];
  it.each(bad)('refuses an invalid %s with FND_TELEMETRY_INVALID_METRIC', (field, definition) => {
    const metrics = registry();
    let caught: unknown;
    try {
      metrics.define(definition as MetricDefinition);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'FND_TELEMETRY_INVALID_METRIC', context: { field } });
  });
});

describe('instruments', () => {
  it('counters, sums and last values, unbound and bound, with tag normalization', () => {
    const metrics = registry();
    const requests = metrics.counter('app.requests', { tags: ['method', 'status'] });
    requests.add(1, { method: 'GET', status: '200' });
    requests.add(undefined, { method: 'GET', status: '200', extra: 'ignored' });
    requests.add(2, { method: 'GET' });
    requests.bind({ method: 'POST', status: '201' }).add();
    const long = 'x'.repeat(150);
    requests.add(1, { method: long, status: '200' });
    expect(seriesOf(metrics.metric('app.requests'))).toEqual({
      '{"method":"GET","status":"200"}': { kind: 'counter', value: 2 },
      '{"method":"GET","status":""}': { kind: 'counter', value: 2 },
      '{"method":"POST","status":"201"}': { kind: 'counter', value: 1 },
      [JSON.stringify({ method: 'x'.repeat(100), status: '200' })]: { kind: 'counter', value: 1 },
    });

    const queue = metrics.sum('app.queue');
    queue.add(5);
    queue.bind().add(-2);
    expect(seriesOf(metrics.metric('app.queue'))).toEqual({ '{}': { kind: 'sum', value: 3 } });

    const temp = metrics.lastValue('app.temperature', { tags: ['room'] });
    expect(metrics.metric('app.temperature')?.series).toEqual([]);
    temp.set(20, { room: 'a' });
    temp.bind({ room: 'a' }).set(21.5);
    expect(seriesOf(metrics.metric('app.temperature'))).toEqual({
      '{"room":"a"}': { kind: 'last_value', value: 21.5 },
    });
    // A last value without tags shows once set.
    const load = metrics.lastValue('app.load');
    expect(metrics.metric('app.load')?.series).toEqual([]);
    load.set(0.5);
    expect(seriesOf(metrics.metric('app.load'))).toEqual({ '{}': { kind: 'last_value', value: 0.5 } });
  });

  it('a counter without tags reads 0 before any observation', () => {
    const metrics = registry();
    metrics.counter('app.starts');
    expect(metrics.metric('app.starts')?.series).toEqual([
      { tags: {}, value: { kind: 'counter', value: 0 } },
    ]);
  });

  it('drops and counts invalid values, never throws', () => {
    const metrics = registry();
    const c = metrics.counter('app.c');
    const bound = c.bind();
    const s = metrics.sum('app.s');
    const lv = metrics.lastValue('app.lv');
    const sm = metrics.summary('app.sm');
    const d = metrics.distribution('app.d', { buckets: [1, 2] });
    expect(() => {
      c.add(-1);
      c.add(Number.NaN);
      bound.add(Infinity);
      bound.add(-0.5);
      bound.add('3' as unknown as number);
      s.add(Number.NaN);
      s.bind().add(-Infinity);
      lv.set(Number.NaN);
      lv.bind().set(Infinity);
      sm.observe(Number.NaN);
      sm.bind().observe(Infinity);
      d.observe(Number.NaN);
      d.bind().observe(-Infinity);
    }).not.toThrow();
    expect(dropped(metrics, 'app.c')).toBe(5);
    expect(dropped(metrics, 'app.s')).toBe(2);
    expect(dropped(metrics, 'app.lv')).toBe(2);
    expect(dropped(metrics, 'app.sm')).toBe(2);
    expect(dropped(metrics, 'app.d')).toBe(2);
    expect(scalar(seriesOf(metrics.metric('app.c'))['{}'])).toBe(0);
  });

  it('summaries give sliding-window quantiles and forget old values', () => {
    const clock = new FakeClock();
    const metrics = registry(clock);
    const latency = metrics.summary('app.latency', { tags: ['route'], windowMs: 10_000, windowBuckets: 5 });
    const home = latency.bind({ route: '/' });
    for (let v = 1; v <= 100; v++) home.observe(v);
    let value = metrics.metric('app.latency')?.series[0]?.value;
    expect(value).toMatchObject({ kind: 'summary', count: 100, sum: 5050 });
    const quantiles = value?.kind === 'summary' ? value.quantiles : [];
    expect(quantiles.map(([q]) => q)).toEqual([0.5, 0.9, 0.99]);
    for (const [q, v] of quantiles) {
      const exact = Math.ceil(q * 99) + 1;
      expect(Math.abs(v - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-9);
    }
    clock.advance(20_000);
    latency.observe(7, { route: '/' });
    value = metrics.metric('app.latency')?.series[0]?.value;
    expect(value).toMatchObject({ kind: 'summary', count: 1, sum: 7 });
  });

  it('distributions count per bucket, cumulatively', () => {
    const metrics = registry();
    const size = metrics.distribution('app.size', { buckets: [10, 100], unit: 'bytes' });
    for (const v of [1, 10, 11, 100, 1000]) size.observe(v);
    size.bind().observe(5);
    expect(metrics.metric('app.size')?.series[0]?.value).toEqual({
      kind: 'distribution',
      count: 6,
      sum: 1127,
      buckets: [
        [10, 3],
        [100, 5],
        [Infinity, 6],
      ],
    });
  });

  it('tags of any type are stringified; prototype names and NUL characters are harmless', () => {
    const metrics = registry();
    const c = metrics.counter('app.typed', { tags: ['constructor', 'code', 'ok'] });
    c.add(1, { code: 404, ok: false } as unknown as Record<string, string>);
    c.add(1, { constructor: 'a\u0000b', code: 'x' });
    c.add(1, { constructor: 'a', code: '\u0000bx' });
    expect(metrics.metric('app.typed')?.series.map((s) => s.tags)).toEqual([
      { constructor: '', code: '404', ok: 'false' },
      { constructor: 'a\uFFFDb', code: 'x', ok: '' },
      { constructor: 'a', code: '\uFFFDbx', ok: '' },
    ]);
  });

  it('collect returns every metric with the clock time', () => {
    const clock = new FakeClock({ now: 1_000_000 });
    const metrics = registry(clock);
    metrics.counter('app.a');
    metrics.sum('app.b');
    const snapshot = metrics.collect();
    expect(snapshot.time).toBe(1_000_000);
    expect(snapshot.metrics.map((m) => m.definition.name)).toEqual([DROPPED_METRIC, 'app.a', 'app.b']);
    expect(metrics.metric('nope')).toBeUndefined();
  });

  it('two registries never share metrics', () => {
    const a = registry();
    const b = registry();
    a.counter('app.x').add(3);
    b.counter('app.x').add(1);
    expect(scalar(a.metric('app.x')?.series[0]?.value)).toBe(3);
    expect(scalar(b.metric('app.x')?.series[0]?.value)).toBe(1);
  });
});

describe('exemplars', () => {
  it('are off by default', () => {
    const metrics = registry();
    const c = metrics.counter('app.c');
    withContext({ correlationId: 'corr-1' }, () => {
      c.add();
    });
    expect(metrics.metric('app.c')?.series[0]?.exemplar).toBeUndefined();
  });

  it('keep the latest observation with a correlation id per series when enabled', () => {
    const clock = new FakeClock({ now: 5000 });
    const metrics = registry(clock);
    const latency = metrics.distribution('app.latency', {
      buckets: [1, 10],
      exemplars: true,
      tags: ['route'],
    });
    const bound = latency.bind({ route: '/a' });
    withContext({ correlationId: 'corr-a' }, () => {
      bound.observe(3);
    });
    bound.observe(4); // no context: the exemplar stays
    clock.advance(10);
    withContext({ correlationId: 'corr-b' }, () => {
      latency.observe(7, { route: '/b' });
    });
    const series = metrics.metric('app.latency')?.series ?? [];
    expect(series.map((s) => s.exemplar)).toEqual([
      { value: 3, correlationId: 'corr-a', time: 5000 },
      { value: 7, correlationId: 'corr-b', time: 5010 },
    ]);
    const counter = metrics.counter('app.count', { exemplars: true });
    withContext({ correlationId: 'corr-c' }, () => {
      counter.bind().add(2);
    });
    expect(metrics.metric('app.count')?.series[0]?.exemplar).toMatchObject({
      value: 2,
      correlationId: 'corr-c',
    });
  });
});

describe('cardinality guard', () => {
  it('sends new tag combinations past maxSeries to one all-"other" series and counts them', () => {
    const metrics = registry();
    const c = metrics.counter('app.routes', { tags: ['route', 'method'], maxSeries: 2 });
    c.add(1, { route: '/a', method: 'GET' });
    c.add(1, { route: '/b', method: 'GET' });
    c.add(5, { route: '/c', method: 'GET' });
    c.add(1, { route: '/d', method: 'PUT' });
    const bound = c.bind({ route: '/e', method: 'GET' });
    bound.add(2);
    bound.add(1);
    c.add(1, { route: '/a', method: 'GET' });
    const snapshot = metrics.metric('app.routes');
    expect(seriesOf(snapshot)).toEqual({
      '{"route":"/a","method":"GET"}': { kind: 'counter', value: 2 },
      '{"route":"/b","method":"GET"}': { kind: 'counter', value: 1 },
      [JSON.stringify({ route: OVERFLOW_TAG_VALUE, method: OVERFLOW_TAG_VALUE })]: {
        kind: 'counter',
        value: 9,
      },
    });
    expect(snapshot?.overflowed).toBe(4);
  });
});

type Kind = 'counter' | 'sum' | 'last_value';
const TAG_NAMES = ['a', 'b', 'c'];

const observation = fc.record({
  tags: fc.record(
    { a: fc.constantFrom('x', 'y', 'z', ''), b: fc.string({ maxLength: 3 }), c: fc.constantFrom('1', '2') },
    { requiredKeys: [] },
  ),
  value: fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: false }),
    fc.constantFrom(Number.NaN, Infinity, -Infinity),
  ),
  bound: fc.boolean(),
});

function keyOf(tags: Record<string, string>): string {
  return JSON.stringify(TAG_NAMES.map((name) => tags[name] ?? ''));
}

describe('registry properties', () => {
  it('any sequence of observations gives exact counters, sums and last values (reference model)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('counter', 'sum', 'last_value'),
        fc.array(observation, { maxLength: 200 }),
        (kind, observations) => {
          const metrics = registry();
          const tags = TAG_NAMES;
          const expected = new Map<string, number>();
          let drops = 0;
          if (kind === 'counter') {
            const c = metrics.counter('p.m', { tags });
            for (const o of observations) {
              if (o.bound) c.bind(o.tags).add(o.value);
              else c.add(o.value, o.tags);
            }
          } else if (kind === 'sum') {
            const s = metrics.sum('p.m', { tags });
            for (const o of observations) {
              if (o.bound) s.bind(o.tags).add(o.value);
              else s.add(o.value, o.tags);
            }
          } else {
            const lv = metrics.lastValue('p.m', { tags });
            for (const o of observations) {
              if (o.bound) lv.bind(o.tags).set(o.value);
              else lv.set(o.value, o.tags);
            }
          }
          // The reference: exact per-key arithmetic with the same validity rules.
          const created = new Set<string>();
          for (const o of observations) {
            const key = keyOf(o.tags);
            const valid = Number.isFinite(o.value) && (kind !== 'counter' || o.value >= 0);
            // A bound instrument creates its series at bind time, even if its value is then dropped.
            if (o.bound) created.add(key);
            if (!valid) {
              drops += 1;
              continue;
            }
            created.add(key);
            const previous = expected.get(key) ?? 0;
            expected.set(key, kind === 'last_value' ? o.value : previous + o.value);
          }
          const actual = new Map<string, number>();
          for (const s of metrics.metric('p.m')?.series ?? []) {
            actual.set(keyOf(s.tags), scalar(s.value) ?? Number.NaN);
          }
          for (const key of created) {
            if (kind !== 'last_value' && !expected.has(key)) expected.set(key, 0);
          }
          expect(actual).toEqual(expected);
          expect(dropped(metrics, 'p.m')).toBe(drops);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the cardinality guard creates at most maxSeries + 1 series and counts overflow exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.record({
            a: fc.constantFrom('1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'),
            bound: fc.boolean(),
          }),
          { maxLength: 100 },
        ),
        (maxSeries, observations) => {
          const metrics = registry();
          const c = metrics.counter('p.guard', { tags: ['a'], maxSeries });
          const admitted = new Set<string>();
          let overflowed = 0;
          let total = 0;
          for (const o of observations) {
            if (o.bound) c.bind({ a: o.a }).add(1);
            else c.add(1, { a: o.a });
            total += 1;
            if (admitted.has(o.a)) continue;
            if (admitted.size < maxSeries) admitted.add(o.a);
            else overflowed += 1;
          }
          const snapshot = metrics.metric('p.guard');
          expect(snapshot?.series.length).toBeLessThanOrEqual(maxSeries + 1);
          expect(snapshot?.overflowed).toBe(overflowed);
          const values = seriesOf(snapshot);
          expect(scalar(values[JSON.stringify({ a: OVERFLOW_TAG_VALUE })]) ?? 0).toBe(overflowed);
          const sum = (snapshot?.series ?? []).reduce((acc, s) => acc + (scalar(s.value) ?? 0), 0);
          expect(sum).toBe(total);
          for (const a of admitted) expect(scalar(values[JSON.stringify({ a })])).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
