import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emit } from '../kernel/telemetry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FOUNDATION_METRICS } from './foundation-metrics.js';
import { MetricsRegistry } from './metrics/registry.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

/** Every `telemetryEvent('…')` / `telemetrySpan('…')` name declared in the sources. */
function declaredEvents(): Set<string> {
  const root = new URL('..', import.meta.url).pathname;
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(
          /telemetry(?:Event|Span)\('([a-z_:.]+)'\)/g,
        )) {
          names.add(match[1] as string);
        }
      }
    }
  };
  visit(root);
  names.add('telemetry:handler_failed'); // emitted by the kernel through emit()
  return names;
}

describe('FOUNDATION_METRICS', () => {
  it('are valid definitions with distinct names, all event-fed from events the sources declare', () => {
    const metrics = new MetricsRegistry({ clock: new FakeClock() });
    for (const definition of FOUNDATION_METRICS) metrics.define(definition);
    const names = FOUNDATION_METRICS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    const declared = declaredEvents();
    for (const definition of FOUNDATION_METRICS) {
      expect(definition.name.startsWith('foundation.')).toBe(true);
      expect(declared, definition.name).toContain(definition.event);
    }
  });

  it('feed from the events as the capabilities emit them', () => {
    const metrics = new MetricsRegistry({ clock: new FakeClock() });
    for (const definition of FOUNDATION_METRICS) metrics.define(definition);
    cleanups.push(metrics.attachEvents());
    emit(
      'control_bus:request',
      { durationMs: 12, statusCode: 200 },
      { method: 'GET', route: '/api/status', status: '2xx' },
    );
    emit(
      'control_bus:request',
      { durationMs: 3, statusCode: 404 },
      { method: 'GET', route: '(unmatched)', status: '4xx' },
    );
    emit('events:appended', { count: 3, duration: 1.5 }, { idempotent: false });
    emit('events:subscription_lag', { lag: 42, buffered: 0, delivered: 10 }, { name: 'projector' });
    emit('supervisor:restart', { restarts: 2 }, { service: 'db' });
    emit('config:refused', { count: 1 }, { code: 'FND_CONFIG_INVALID_VALUE' });
    const snapshot = metrics.collect();
    const byName = new Map(snapshot.metrics.map((m) => [m.definition.name, m]));
    expect(byName.get('foundation.control_bus.requests')?.series.map((s) => [s.tags, s.value])).toEqual([
      [
        { method: 'GET', route: '/api/status', status: '2xx' },
        { kind: 'counter', value: 1 },
      ],
      [
        { method: 'GET', route: '(unmatched)', status: '4xx' },
        { kind: 'counter', value: 1 },
      ],
    ]);
    expect(byName.get('foundation.control_bus.request_latency')?.series[0]?.value).toMatchObject({
      kind: 'summary',
      count: 2,
      sum: 15,
    });
    expect(byName.get('foundation.events.appended')?.series.map((s) => [s.tags, s.value])).toEqual([
      [{ idempotent: 'false' }, { kind: 'counter', value: 3 }],
    ]);
    expect(byName.get('foundation.events.subscription_lag')?.series[0]).toMatchObject({
      tags: { name: 'projector' },
      value: { kind: 'last_value', value: 42 },
    });
    expect(byName.get('foundation.supervisor.restarts')?.series[0]?.value).toEqual({
      kind: 'counter',
      value: 1,
    });
    expect(byName.get('foundation.config.refusals')?.series[0]?.tags).toEqual({
      code: 'FND_CONFIG_INVALID_VALUE',
    });
    // Nothing was dropped.
    expect(byName.get('foundation.telemetry.dropped')?.series).toEqual([]);
  });
});
