import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import type { MetricSnapshot, MetricsSnapshot } from '../types.js';
import { StatsdExporter } from './statsd.js';
import { StatsdLineBuilder, packLines } from './statsd-lines.js';

const WAIT = { timeout: 5000 };

interface Listener {
  readonly port: number;
  readonly packets: string[];
  lines(): string[];
  close(): Promise<void>;
}

/** A real UDP server on 127.0.0.1 recording every datagram. */
async function listen(port = 0): Promise<Listener> {
  const socket = dgram.createSocket('udp4');
  const packets: string[] = [];
  socket.on('message', (message) => packets.push(message.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      resolve();
    });
  });
  return {
    port: socket.address().port,
    packets,
    lines: () => packets.flatMap((p) => p.split('\n')),
    close: () =>
      new Promise<void>((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(options: ConstructorParameters<typeof StatsdExporter>[0]): Promise<StatsdExporter> {
  const exporter = new StatsdExporter(options);
  await exporter.start();
  cleanups.push(() => exporter.stop());
  return exporter;
}

function snap(...metrics: MetricSnapshot[]): MetricsSnapshot {
  return { time: 0, metrics };
}

function counter(value: number, tags: Record<string, string> = { type: 'a' }): MetricSnapshot {
  return {
    definition: { name: 'foundation.events.appended', kind: 'counter', tags: ['type'] },
    series: [{ tags, value: { kind: 'counter', value } }],
    overflowed: 0,
  };
}

const mixed = (n: number): MetricsSnapshot =>
  snap(
    counter(n),
    {
      definition: { name: 'foundation.runtime.heap_used', kind: 'last_value', unit: 'bytes' },
      series: [{ tags: {}, value: { kind: 'last_value', value: 1024 } }],
      overflowed: 0,
    },
    {
      definition: { name: 'foundation.balance', kind: 'sum', tags: ['pool'] },
      series: [{ tags: { pool: 'main.db' }, value: { kind: 'sum', value: -3 } }],
      overflowed: 0,
    },
    {
      definition: { name: 'foundation.http.latency', kind: 'summary', unit: 'ms', tags: ['route'] },
      series: [
        {
          tags: { route: '/a|b' },
          value: {
            kind: 'summary',
            count: 4,
            sum: 10,
            quantiles: [
              [0.5, 2],
              [0.999, 4],
              [0.9, NaN],
            ],
          },
        },
      ],
      overflowed: 0,
    },
    {
      definition: { name: 'foundation.http.duration', kind: 'distribution', buckets: [10] },
      series: [
        {
          tags: {},
          value: {
            kind: 'distribution',
            count: 7,
            sum: 70.5,
            buckets: [
              [10, 3],
              [Infinity, 7],
            ],
          },
        },
      ],
      overflowed: 0,
    },
  );

describe('StatsdLineBuilder', () => {
  it('DogStatsD: counter deltas, gauges, quantile tags, distribution count and sum', () => {
    const builder = new StatsdLineBuilder({ dogstatsd: true, prefix: 'app' });
    expect(builder.lines(mixed(5))).toEqual([
      'app.foundation.events.appended:5|c|#type:a',
      'app.foundation.runtime.heap_used:1024|g',
      'app.foundation.balance:-3|g|#pool:main.db',
      'app.foundation.http.latency:2|g|#route:/a_b,quantile:0.5',
      'app.foundation.http.latency:4|g|#route:/a_b,quantile:0.999',
      'app.foundation.http.latency.count:4|g|#route:/a_b',
      'app.foundation.http.latency.sum:10|g|#route:/a_b',
      'app.foundation.http.duration.count:7|g',
      'app.foundation.http.duration.sum:70.5|g',
    ]);
    // Deltas: +3, then nothing for no change, then a reset sends the whole value.
    expect(builder.lines(snap(counter(8)))).toEqual(['app.foundation.events.appended:3|c|#type:a']);
    expect(builder.lines(snap(counter(8)))).toEqual([]);
    expect(builder.lines(snap(counter(2)))).toEqual(['app.foundation.events.appended:2|c|#type:a']);
    // Series are tracked apart.
    expect(builder.lines(snap(counter(1, { type: 'b' })))).toEqual([
      'app.foundation.events.appended:1|c|#type:b',
    ]);
  });

  it('plain StatsD: tag values as name segments, quantiles as pNN, a negative gauge set through zero', () => {
    const builder = new StatsdLineBuilder({ dogstatsd: false });
    expect(builder.lines(mixed(5))).toEqual([
      'foundation.events.appended.a:5|c',
      'foundation.runtime.heap_used:1024|g',
      'foundation.balance.main_db:0|g',
      'foundation.balance.main_db:-3|g',
      'foundation.http.latency./a_b.p50:2|g',
      'foundation.http.latency./a_b.p99_9:4|g',
      'foundation.http.latency./a_b.count:4|g',
      'foundation.http.latency./a_b.sum:10|g',
      'foundation.http.duration.count:7|g',
      'foundation.http.duration.sum:70.5|g',
    ]);
  });
});

describe('packLines', () => {
  it('keeps every line in order in packets of at most maxBytes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }), { maxLength: 200 }),
        fc.integer({ min: 64, max: 600 }),
        (lines, max) => {
          const { packets, oversized } = packLines(lines, max);
          for (const p of packets) {
            expect(p.payload.length).toBeLessThanOrEqual(max);
            expect(p.payload.toString('utf8')).toBe(p.lines.join('\n'));
          }
          const fitting = lines.filter((l) => Buffer.byteLength(l) <= max);
          expect(packets.flatMap((p) => p.lines)).toEqual(fitting);
          expect(oversized).toBe(lines.length - fitting.length);
        },
      ),
    );
  });
});

describe('StatsdExporter over a real UDP socket', () => {
  it('sends DogStatsD lines that a listener receives and parses', async () => {
    const server = await listen();
    cleanups.push(() => server.close());
    const exporter = await started({
      host: '127.0.0.1',
      port: server.port,
      dogstatsd: true,
      clock: new FakeClock(),
    });
    await exporter.export(mixed(5));
    await expect.poll(() => server.lines().length, WAIT).toBe(9);
    const parsed = server.lines().map((line) => {
      const match = /^([^:|]+):(-?[0-9.e+-]+)\|(c|g)(?:\|#(.*))?$/.exec(line);
      expect(match, line).not.toBeNull();
      return {
        name: match![1],
        value: Number(match![2]),
        type: match![3],
        tags: match![4]?.split(',') ?? [],
      };
    });
    expect(parsed[0]).toEqual({ name: 'foundation.events.appended', value: 5, type: 'c', tags: ['type:a'] });
    expect(parsed.find((p) => p.name === 'foundation.http.duration.sum')).toEqual({
      name: 'foundation.http.duration.sum',
      value: 70.5,
      type: 'g',
      tags: [],
    });
    await exporter.export(mixed(12));
    await expect.poll(() => server.lines().length, WAIT).toBe(18);
    expect(server.lines()[9]).toBe('foundation.events.appended:7|c|#type:a');
    expect(exporter.status()).toEqual({ name: 'statsd', exported: 18, failed: 0, dropped: 0 });
  });

  it('packs many series into datagrams no larger than maxPacketBytes', async () => {
    const server = await listen();
    cleanups.push(() => server.close());
    const exporter = await started({
      host: '127.0.0.1',
      port: server.port,
      maxPacketBytes: 200,
      clock: new FakeClock(),
    });
    const series = Array.from({ length: 100 }, (_, i) => ({
      tags: { route: `/r${String(i)}` },
      value: { kind: 'last_value' as const, value: i },
    }));
    await exporter.export(
      snap({ definition: { name: 'm', kind: 'last_value', tags: ['route'] }, series, overflowed: 0 }),
    );
    await expect.poll(() => server.lines().length, WAIT).toBe(100);
    expect(server.packets.length).toBeGreaterThan(5);
    for (const p of server.packets) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(200);
    expect(new Set(server.lines())).toEqual(new Set(series.map((_, i) => `m./r${String(i)}:${String(i)}|g`)));
  });

  it('target down: failures counted, the buffer capped, lines dropped counted; recovery resends the buffer', async () => {
    const clock = new FakeClock();
    const down = await listen();
    const port = down.port;
    await down.close(); // nobody listens on the port: the kernel answers with ICMP port unreachable
    const exporter = await started({ host: '127.0.0.1', port, maxBuffered: 5, retryBaseMs: 1000, clock });
    const gauge = (v: number): MetricsSnapshot =>
      snap({
        definition: { name: 'g', kind: 'last_value' },
        series: [{ tags: {}, value: { kind: 'last_value', value: v } }],
        overflowed: 0,
      });
    let v = 0;
    // Each export returns after the local send; the refusal arrives later on the socket.
    await expect
      .poll(async () => {
        await exporter.export(gauge(++v));
        return exporter.status().failed;
      }, WAIT)
      .toBeGreaterThan(0);
    expect(exporter.status().lastError?.message).toMatch(/ECONNREFUSED/);
    // Backing off: exports only buffer, and the buffer never exceeds maxBuffered.
    const before = exporter.status();
    for (let i = 0; i < 50; i++) await exporter.export(gauge(++v));
    expect(exporter.buffered()).toBe(5);
    expect(exporter.status().dropped).toBeGreaterThanOrEqual(before.dropped + 45);
    expect(exporter.status().exported).toBe(before.exported);

    // The target comes back on the same port; after the backoff the buffered lines are sent.
    const server = await listen(port);
    cleanups.push(() => server.close());
    clock.advance(30_000);
    await exporter.export(gauge(++v));
    // The buffer held the newest five lines (this one included): they all arrive, oldest first.
    const expected = [v - 4, v - 3, v - 2, v - 1, v].map((x) => `g:${String(x)}|g`);
    await expect.poll(() => server.lines().length, WAIT).toBe(5);
    expect(server.lines()).toEqual(expected);
    expect(exporter.buffered()).toBe(0);
  });

  it('a host that does not resolve: start does not throw, the failure is counted and exports stay bounded', async () => {
    const clock = new FakeClock();
    const exporter = await started({ host: 'no-such-host.invalid', port: 8125, maxBuffered: 3, clock });
    expect(exporter.status().failed).toBe(1);
    expect(exporter.status().lastError?.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    for (let i = 0; i < 10; i++) await exporter.export(mixed(i));
    expect(exporter.buffered()).toBe(3);
    expect(exporter.status().dropped).toBeGreaterThan(0);
    expect(exporter.status().exported).toBe(0);
  });

  it('refuses garbage options and exports while stopped', async () => {
    for (const options of [
      { host: '', port: 8125 },
      { host: 'x', port: 0 },
      { host: 'x', port: 70_000 },
      { host: 'x', port: 8125, maxBuffered: 0 },
      { host: 'x', port: 8125, maxPacketBytes: 10 },
      { host: 'x', port: 8125, retryBaseMs: 100, retryMaxMs: 10 },
    ]) {
      expect(() => new StatsdExporter(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'FND_CONFIG_INVALID_VALUE' }),
      );
    }
    const exporter = new StatsdExporter({ host: '127.0.0.1', port: 8125 });
    const error: unknown = await exporter.export(snap()).catch((e: unknown) => e);
    expect(isFoundationError(error, 'FND_SYSTEM_SERVICE_UNAVAILABLE')).toBe(true);
  });
});
