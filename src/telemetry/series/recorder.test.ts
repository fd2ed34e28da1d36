import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { SeriesRecorder } from './recorder.js';

/** A whole minute, so coarse slots start at T0. */
const T0 = 1_699_999_980_000;

function setup(options: { maxSeriesPerMetric?: number } = {}): {
  clock: FakeClock;
  metrics: MetricsRegistry;
  recorder: SeriesRecorder;
} {
  const clock = new FakeClock({ now: T0 });
  const metrics = new MetricsRegistry({ clock });
  const recorder = new SeriesRecorder(metrics, { clock, ...options });
  return { clock, metrics, recorder };
}

function points(
  recorder: SeriesRecorder,
  name: string,
  tags: Record<string, string> = {},
): Array<[number, number]> {
  const found = recorder.series(name, 'fine').find((s) => JSON.stringify(s.tags) === JSON.stringify(tags));
  return (found?.points ?? []).map((p) => [p.t - T0, p.v]);
}

describe('SeriesRecorder', () => {
  it('counts a series that appears after the first sample from 0 at the sample before', () => {
    const { clock, metrics, recorder } = setup();
    const appended = metrics.counter('app.appended', { tags: ['type'] });
    recorder.start();
    clock.advance(1000);
    appended.add(3, { type: 'order' }); // the series does not exist before this
    clock.advance(1000);
    expect(points(recorder, 'app.appended', { type: 'order' })).toEqual([[2000, 3]]);
  });

  it('records counter and sum rates per second, last values as they are', () => {
    const { clock, metrics, recorder } = setup();
    const requests = metrics.counter('app.requests', { tags: ['route'] }).bind({ route: '/' });
    const queue = metrics.sum('app.queue');
    const temp = metrics.lastValue('app.temp');
    recorder.start();
    requests.add(10);
    queue.add(4);
    temp.set(20);
    clock.advance(1000);
    requests.add(5);
    queue.add(-6);
    temp.set(21);
    clock.advance(1000);
    clock.advance(1000);
    expect(points(recorder, 'app.requests', { route: '/' })).toEqual([
      [1000, 10],
      [2000, 5],
      [3000, 0],
    ]);
    expect(points(recorder, 'app.queue')).toEqual([
      [1000, 4],
      [2000, -6],
      [3000, 0],
    ]);
    expect(points(recorder, 'app.temp')).toEqual([
      [1000, 20],
      [2000, 21],
      [3000, 21],
    ]);
    // The dropped counter has a tag (metric): no series until something is dropped.
    expect(recorder.names()).toEqual(['app.queue', 'app.requests', 'app.temp']);
  });

  it('records summary quantiles as separate series and distribution rate and interval mean', () => {
    const { clock, metrics, recorder } = setup();
    const latency = metrics.summary('app.latency', { windowMs: 10_000 });
    const size = metrics.distribution('app.size', { buckets: [10] });
    recorder.start();
    expect(recorder.series('app.latency', 'fine')).toEqual([]);
    for (let v = 1; v <= 100; v++) latency.observe(v);
    size.observe(2);
    size.observe(4);
    clock.advance(2000);
    size.observe(30);
    clock.advance(1000);
    const quantiles = recorder.series('app.latency', 'fine').map((s) => s.tags['quantile']);
    expect(quantiles).toEqual(['0.5', '0.9', '0.99']);
    const p50 = points(recorder, 'app.latency', { quantile: '0.5' });
    expect(p50.map(([t]) => t)).toEqual([1000, 2000, 3000]);
    expect(Math.abs((p50[0]?.[1] ?? 0) - 51) / 51).toBeLessThanOrEqual(0.01 + 1e-9);
    expect(points(recorder, 'app.size', { stat: 'rate' })).toEqual([
      [1000, 2],
      [2000, 0],
      [3000, 1],
    ]);
    expect(points(recorder, 'app.size', { stat: 'mean' })).toEqual([
      [1000, 3],
      [3000, 30],
    ]);
    // Once the window has passed, quantiles are NaN: no more points.
    clock.advance(20_000);
    const last = points(recorder, 'app.latency', { quantile: '0.5' }).at(-1)?.[0] ?? -1;
    expect(last).toBeGreaterThanOrEqual(3000);
    expect(last).toBeLessThanOrEqual(10_000);
  });

  it('keeps at most maxSeriesPerMetric series per metric and counts the rest', () => {
    const { clock, metrics, recorder } = setup({ maxSeriesPerMetric: 3 });
    const gauge = metrics.lastValue('app.gauge', { tags: ['id'] });
    for (let i = 0; i < 10; i++) gauge.set(i, { id: String(i) });
    recorder.start();
    clock.advance(1000);
    expect(recorder.series('app.gauge', 'fine').map((s) => s.tags['id'])).toEqual(['0', '1', '2']);
    expect(recorder.skipped).toBe(14);
  });

  it('coarse points, since, stop and restart', () => {
    const { clock, metrics, recorder } = setup();
    const gauge = metrics.lastValue('app.gauge');
    gauge.set(1);
    recorder.start();
    expect(clock.pending()).toBe(1);
    clock.advance(60_000);
    gauge.set(2);
    clock.advance(60_000);
    const coarse = recorder.series('app.gauge', 'coarse')[0]?.points ?? [];
    expect(coarse.map((p) => [p.t - T0, p.v])).toEqual([
      [0, 1],
      [60_000, 2],
      [120_000, 2],
    ]);
    expect(recorder.series('app.gauge', 'fine', T0 + 119_000)[0]?.points.map((p) => p.v)).toEqual([2, 2]);
    recorder.stop();
    expect(clock.pending()).toBe(0);
    expect(recorder.running).toBe(false);
    clock.advance(5000);
    expect(recorder.series('app.gauge', 'fine')[0]?.points.at(-1)?.t).toBe(T0 + 120_000);
    recorder.start();
    recorder.start();
    expect(clock.pending()).toBe(1);
    recorder.stop();
  });

  it('refuses bad options', () => {
    const clock = new FakeClock();
    const metrics = new MetricsRegistry({ clock });
    expect(() => new SeriesRecorder(metrics, { clock, intervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
    );
    expect(() => new SeriesRecorder(metrics, { clock, maxSeriesPerMetric: 1.5 })).toThrow(
      expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
    );
  });
});
