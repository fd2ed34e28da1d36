import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createFoundation, FoundationError } from '../../src/index.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

/** A real UDP listener collecting the StatsD lines it receives. */
async function statsdListener(): Promise<{ port: number; lines: string[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const lines: string[] = [];
  socket.on('message', (packet) => {
    lines.push(
      ...packet
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== ''),
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, lines };
}

interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}

/** The independent parser (CommonJS, no types). */
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

describe('foundation.metrics', () => {
  it('counts what the capabilities emit and renders it for Prometheus', async () => {
    await using foundation = createFoundation({ store: 'memory:' });
    const orders = foundation.metrics.registry.counter('app.orders.placed', { tags: ['kind'] });
    await foundation.start();
    for (let i = 0; i < 3; i += 1) await foundation.events.append({ type: 'order.created' });
    orders.bind({ kind: 'web' }).add();
    orders.add(2, { kind: 'api' });
    const families = parsePrometheus(foundation.metrics.render().body);
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(
      byName.get('foundation_events_appended_total')?.metrics.reduce((n, m) => n + Number(m.value), 0),
    ).toBe(3);
    expect(byName.get('app_orders_placed_total')?.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { kind: 'web' }, value: '1' }),
        expect.objectContaining({ labels: { kind: 'api' }, value: '2' }),
      ]),
    );
    expect(byName.get('foundation_runtime_heap_used_bytes')?.type).toBe('GAUGE');
  });

  it('applies foundation.telemetry changes at run time: StatsD on, Prometheus off, and back', async () => {
    const statsd = await statsdListener();
    await using foundation = createFoundation({
      store: 'memory:',
      config: { defaults: { foundation: { telemetry: { exportIntervalMs: 100 } } } },
    });
    await foundation.start();
    foundation.metrics.registry.counter('app.pings').add(5);
    expect(foundation.metrics.exporters().map((status) => status.name)).toEqual(['prometheus']);

    await foundation.config.updateBatch(
      [
        { path: 'foundation.telemetry.statsd', value: { enabled: true, port: statsd.port, prefix: 'it' } },
        { path: 'foundation.telemetry.prometheus.enabled', value: false },
      ],
      { reason: 'switch exporters' },
    );
    await expect
      .poll(() => foundation.metrics.exporters().map((status) => status.name), { timeout: 5000 })
      .toEqual(['statsd']);
    await expect
      .poll(() => statsd.lines.some((line) => line.startsWith('it.app.pings:5|c')), { timeout: 5000 })
      .toBe(true);
    expect(() => foundation.metrics.render()).toThrow(FoundationError);

    await foundation.config.update('foundation.telemetry.prometheus.enabled', true);
    await expect.poll(() => foundation.metrics.prometheusEnabled, { timeout: 5000 }).toBe(true);
    expect(foundation.metrics.render().body).toContain('app_pings_total 5');
  });

  it('refuses invalid telemetry settings and keeps the running ones', async () => {
    await using foundation = createFoundation({ store: 'memory:' });
    await foundation.start();
    await expect(foundation.config.update('foundation.telemetry.statsd.port', 70_000)).rejects.toMatchObject({
      code: 'FND_CONFIG_INVALID_VALUE',
    });
    await expect(
      foundation.config.update('foundation.telemetry.exportIntervalMs', 'often'),
    ).rejects.toMatchObject({
      code: 'FND_CONFIG_INVALID_VALUE',
    });
    expect(foundation.metrics.exporters().map((status) => status.name)).toEqual(['prometheus']);
    expect(foundation.config.version).toBe(1);
  });
});
