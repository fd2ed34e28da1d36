import { afterEach, describe, expect, it } from 'vitest';
import { withContext } from '../../errors/context.js';
import { emit, onTelemetry, telemetryEvent, type TelemetryMessage } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import type { MetricSnapshot } from '../types.js';
import { DROPPED_METRIC, MetricsRegistry } from './registry.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function values(snapshot: MetricSnapshot | undefined): Array<[string, unknown]> {
  return (snapshot?.series ?? []).map((s) => [
    JSON.stringify(s.tags),
    'value' in s.value ? s.value.value : { count: s.value.count, sum: s.value.sum },
  ]);
}

function attached(metrics: MetricsRegistry): MetricsRegistry {
  cleanups.push(metrics.attachEvents());
  return metrics;
}

describe('event-fed metrics', () => {
  it('counters add 1 per event (or the measurement), tags from metadata then measurements', () => {
    const metrics = attached(new MetricsRegistry({ clock: new FakeClock() }));
    metrics.define({
      name: 'fed.appended',
      kind: 'counter',
      event: 'test_fed:appended',
      tags: ['type', 'shard'],
    });
    metrics.define({
      name: 'fed.appended.events',
      kind: 'counter',
      event: 'test_fed:appended',
      measurement: 'count',
    });
    const appended = telemetryEvent('test_fed:appended');
    appended.emit({ count: 3, shard: 1 }, { type: 'order' });
    appended.emit({ count: 2 }, { type: 'order', shard: 'meta-wins' });
    emit('test_fed:appended', { count: 1 });
    expect(values(metrics.metric('fed.appended'))).toEqual([
      ['{"type":"order","shard":"1"}', 1],
      ['{"type":"order","shard":"meta-wins"}', 1],
      ['{"type":"","shard":""}', 1],
    ]);
    expect(values(metrics.metric('fed.appended.events'))).toEqual([['{}', 6]]);
  });

  it('sums, last values, summaries and distributions observe the measurement', () => {
    const metrics = attached(new MetricsRegistry({ clock: new FakeClock() }));
    metrics.define({ name: 'fed.bytes', kind: 'sum', event: 'test_fed:io', measurement: 'bytes' });
    metrics.define({
      name: 'fed.lag',
      kind: 'last_value',
      event: 'test_fed:io',
      measurement: 'lag',
      tags: ['name'],
    });
    metrics.define({ name: 'fed.duration', kind: 'summary', event: 'test_fed:io', measurement: 'duration' });
    metrics.define({
      name: 'fed.size',
      kind: 'distribution',
      event: 'test_fed:io',
      measurement: 'bytes',
      buckets: [10, 100],
    });
    emit('test_fed:io', { bytes: 10, lag: 5, duration: 2 }, { name: 'sub-a' });
    emit('test_fed:io', { bytes: 50, lag: 7, duration: 4 }, { name: 'sub-a' });
    expect(values(metrics.metric('fed.bytes'))).toEqual([['{}', 60]]);
    expect(values(metrics.metric('fed.lag'))).toEqual([['{"name":"sub-a"}', 7]]);
    expect(values(metrics.metric('fed.duration'))).toEqual([['{}', { count: 2, sum: 6 }]]);
    expect(values(metrics.metric('fed.size'))).toEqual([['{}', { count: 2, sum: 60 }]]);
  });

  it('a message without the measurement is dropped and counted', () => {
    const metrics = attached(new MetricsRegistry({ clock: new FakeClock() }));
    metrics.define({ name: 'fed.partial', kind: 'sum', event: 'test_fed:partial', measurement: 'bytes' });
    emit('test_fed:partial', { other: 1 });
    emit('test_fed:partial', { bytes: Number.NaN });
    expect(values(metrics.metric('fed.partial'))).toEqual([['{}', 0]]);
    expect(values(metrics.metric(DROPPED_METRIC))).toEqual([['{"metric":"fed.partial"}', 2]]);
  });

  it('attaches definitions made later while attached, and stops after detach', () => {
    const metrics = new MetricsRegistry({ clock: new FakeClock() });
    const detach = metrics.attachEvents();
    metrics.counter('fed.later', { event: 'test_fed:later' });
    emit('test_fed:later', {});
    detach();
    detach();
    emit('test_fed:later', {});
    metrics.counter('fed.after', { event: 'test_fed:later' });
    emit('test_fed:later', {});
    expect(values(metrics.metric('fed.later'))).toEqual([['{}', 1]]);
    expect(values(metrics.metric('fed.after'))).toEqual([['{}', 0]]);
  });

  it('exemplars carry the message correlation id', () => {
    const metrics = attached(new MetricsRegistry({ clock: new FakeClock({ now: 42 }) }));
    metrics.counter('fed.ex', { event: 'test_fed:ex', exemplars: true });
    withContext({ correlationId: 'corr-fed' }, () => {
      emit('test_fed:ex', {});
    });
    expect(metrics.metric('fed.ex')?.series[0]?.exemplar).toEqual({
      value: 1,
      correlationId: 'corr-fed',
      time: 42,
    });
  });

  it('two registries attached to the same event count independently', () => {
    const a = attached(new MetricsRegistry({ clock: new FakeClock() }));
    const b = attached(new MetricsRegistry({ clock: new FakeClock() }));
    a.counter('fed.shared', { event: 'test_fed:shared' });
    b.counter('fed.shared', { event: 'test_fed:shared' });
    emit('test_fed:shared', {});
    expect(values(a.metric('fed.shared'))).toEqual([['{}', 1]]);
    expect(values(b.metric('fed.shared'))).toEqual([['{}', 1]]);
  });

  it('a failing observation is isolated and reported like any handler', () => {
    const failures: TelemetryMessage[] = [];
    cleanups.push(onTelemetry('telemetry:handler_failed', (m) => failures.push(m)));
    const metrics = attached(new MetricsRegistry({ clock: new FakeClock() }));
    metrics.counter('fed.tags', { event: 'test_fed:hostile', tags: ['who'] });
    const hostile = {
      get who(): string {
        throw new Error('hostile getter');
      },
    };
    expect(() => {
      emit('test_fed:hostile', {}, hostile);
    }).not.toThrow();
    expect(failures.map((m) => m.metadata['event'])).toEqual(['test_fed:hostile']);
  });
});
