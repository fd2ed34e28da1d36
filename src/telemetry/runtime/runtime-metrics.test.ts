import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { MetricsSnapshot, SeriesValue } from '../types.js';
import { RUNTIME_METRICS, RuntimeMetrics } from './runtime-metrics.js';

const running: RuntimeMetrics[] = [];
afterEach(() => {
  while (running.length > 0) running.pop()?.stop();
});

function setup(): { clock: FakeClock; metrics: MetricsRegistry; runtime: RuntimeMetrics } {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry({ clock });
  const runtime = new RuntimeMetrics(metrics, { clock, intervalMs: 1000 });
  running.push(runtime);
  return { clock, metrics, runtime };
}

function value(
  metrics: MetricsRegistry,
  name: string,
  tags: Record<string, string> = {},
): SeriesValue | undefined {
  return metrics.metric(name)?.series.find((s) => JSON.stringify(s.tags) === JSON.stringify(tags))?.value;
}

function scalar(
  metrics: MetricsRegistry,
  name: string,
  tags: Record<string, string> = {},
): number | undefined {
  const v = value(metrics, name, tags);
  return v !== undefined && 'value' in v ? v.value : undefined;
}

/** Yields to the event loop (no sleep: the poll loop lets real time pass for the 10 ms delay monitor). */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('RuntimeMetrics', () => {
  it('declares every runtime metric in the registry at construction', () => {
    const { metrics } = setup();
    const names = metrics.definitions().map((d) => d.name);
    for (const def of RUNTIME_METRICS) expect(names).toContain(def.name);
    const snapshot: MetricsSnapshot = metrics.collect();
    expect(snapshot.metrics.find((m) => m.definition.name === 'foundation.runtime.rss')?.series).toEqual([]);
  });

  it('samples memory and active handles at start with plausible values', () => {
    const { metrics, runtime } = setup();
    runtime.start();
    const heapUsed = scalar(metrics, 'foundation.runtime.heap_used') ?? 0;
    const heapTotal = scalar(metrics, 'foundation.runtime.heap_total') ?? 0;
    const rss = scalar(metrics, 'foundation.runtime.rss') ?? 0;
    expect(heapUsed).toBeGreaterThan(1024 * 1024);
    expect(heapTotal).toBeGreaterThanOrEqual(heapUsed);
    expect(rss).toBeGreaterThan(heapUsed);
    expect(scalar(metrics, 'foundation.runtime.external')).toBeGreaterThan(0);
    expect(scalar(metrics, 'foundation.runtime.active_handles')).toBeGreaterThanOrEqual(0);
  });

  it('samples event-loop delay and utilization every interval of the clock', async () => {
    const { clock, metrics, runtime } = setup();
    runtime.start();
    expect(clock.pending()).toBe(1);
    await expect
      .poll(
        async () => {
          await tick();
          clock.advance(1000);
          return scalar(metrics, 'foundation.runtime.event_loop_delay', { stat: 'p99' });
        },
        { timeout: 20_000, interval: 1 },
      )
      .toBeGreaterThan(0);
    const p50 = scalar(metrics, 'foundation.runtime.event_loop_delay', { stat: 'p50' }) ?? -1;
    const p99 = scalar(metrics, 'foundation.runtime.event_loop_delay', { stat: 'p99' }) ?? -1;
    const max = scalar(metrics, 'foundation.runtime.event_loop_delay', { stat: 'max' }) ?? -1;
    const mean = scalar(metrics, 'foundation.runtime.event_loop_delay', { stat: 'mean' }) ?? -1;
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(max).toBeGreaterThanOrEqual(p99 * 0.99);
    expect(mean).toBeGreaterThan(0);
    expect(max).toBeLessThan(60_000);
    const utilization = scalar(metrics, 'foundation.runtime.event_loop_utilization');
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
  });

  it('observes GC pauses by kind', async () => {
    const { metrics, runtime } = setup();
    runtime.start();
    let keep: unknown[] = [];
    await expect
      .poll(
        async () => {
          // Young-generation garbage: scavenges happen after a few MB.
          for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${String(i)}` });
          keep = [];
          await tick();
          return (metrics.metric('foundation.runtime.gc_pause')?.series ?? []).length;
        },
        { timeout: 20_000, interval: 1 },
      )
      .toBeGreaterThan(0);
    const series = metrics.metric('foundation.runtime.gc_pause')?.series ?? [];
    for (const s of series) {
      expect(['minor', 'major', 'incremental', 'weakcb', 'unknown']).toContain(s.tags['kind']);
      expect(s.value).toMatchObject({ kind: 'distribution' });
      if (s.value.kind === 'distribution') {
        expect(s.value.count).toBeGreaterThan(0);
        expect(s.value.sum).toBeGreaterThanOrEqual(0);
        expect(s.value.sum / s.value.count).toBeLessThan(10_000);
      }
    }
  });

  it('stop clears the timer and disconnects; start again works; a bad interval is refused', () => {
    const { clock, runtime } = setup();
    runtime.start();
    runtime.start();
    expect(clock.pending()).toBe(1);
    expect(runtime.running).toBe(true);
    runtime.stop();
    expect(clock.pending()).toBe(0);
    expect(runtime.running).toBe(false);
    runtime.stop();
    runtime.start();
    expect(clock.pending()).toBe(1);
    runtime.stop();
    const metrics = new MetricsRegistry({ clock });
    expect(() => new RuntimeMetrics(metrics, { clock, intervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
    );
  });

  it('two instances on one registry share the metric definitions', () => {
    const clock = new FakeClock();
    const metrics = new MetricsRegistry({ clock });
    expect(() => {
      new RuntimeMetrics(metrics, { clock });
      new RuntimeMetrics(metrics, { clock });
    }).not.toThrow();
  });
});
