import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../kernel/clock.js';
import type { CliIo } from '../cli-io.js';
import { formatEventLine } from '../events-format.js';
import { runTail, tailPath } from './events-tail.js';
import type { StoredEvent } from '../../events/model/types.js';

const io = { out: () => undefined, err: () => undefined, env: {} };

describe('foundation events tail: flags', () => {
  it('builds the query string of GET /api/events/stream', () => {
    expect(tailPath({})).toBe('/api/events/stream');
    const path = tailPath({
      types: 'order.*,user.created',
      stream: 'order-1',
      'correlation-id': 'c-1',
      where: '[{"path":"data.total","op":"gt","value":10}]',
      from: 'start',
    });
    expect(Object.fromEntries(new URL(path, 'http://x').searchParams)).toEqual({
      types: 'order.*,user.created',
      stream: 'order-1',
      correlationId: 'c-1',
      where: '[{"path":"data.total","op":"gt","value":10}]',
      from: 'start',
    });
    expect(tailPath({ from: '42' })).toBe('/api/events/stream?from=42');
  });

  it('refuses bad flags with FND_CLI_INVALID_ARGUMENT before connecting', async () => {
    for (const args of [
      ['--where', '{"not":"an array"}'],
      ['--where', 'nope'],
      ['--from', ''],
      ['--retry-for', 'forever'],
      ['--idle-timeout', '0'],
      ['--url', 'ftp://x'],
      ['--bogus'],
      ['positional'],
    ]) {
      await expect(runTail(args, io), args.join(' ')).rejects.toMatchObject({
        code: 'FND_CLI_INVALID_ARGUMENT',
      });
    }
  });

  it('prints one line per event', () => {
    const event = {
      id: '0190',
      type: 'order.paid',
      stream: 'order-1',
      streamVersion: 2,
      position: 12,
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      correlationId: 'corr-1',
    } as unknown as StoredEvent;
    expect(formatEventLine(event)).toBe('12  2026-01-02T03:04:05.000Z  order.paid  order-1@2  corr-1');
    expect(formatEventLine({ ...event, stream: null, correlationId: null })).toBe(
      '12  2026-01-02T03:04:05.000Z  order.paid  -  -',
    );
  });
});

describe('foundation events tail: against a scripted server', () => {
  /** A server that answers every request with `body` (an event stream) and ends it. */
  async function scriptedServer(
    body: (request: IncomingMessage) => string,
  ): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
    const requests: IncomingMessage[] = [];
    const server = createServer((request, response) => {
      requests.push(request);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(body(request));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      requests,
      close: () =>
        new Promise((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    };
  }

  function capture(): { io: CliIo; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l) => out.push(l), err: (l) => err.push(l), env: {} }, out, err };
  }

  const event = (position: number): string =>
    `id: ${position}\nevent: event\ndata: ${JSON.stringify({ type: 'a.b', position, time: 0, stream: null, correlationId: null })}\n\n`;

  it('reconnects with Last-Event-ID after the stream ends, and gives up when the server keeps failing', async () => {
    const server = await scriptedServer((request) =>
      request.headers['last-event-id'] === undefined
        ? event(1) + event(2)
        : `event: problem\ndata: ${JSON.stringify({ code: 'FND_EVENTS_SUBSCRIPTION_FAILED', detail: 'store down' })}\n\n`,
    );
    try {
      const { io, out, err } = capture();
      const signals = { on: () => () => undefined };
      await expect(
        runTail(['--url', server.url, '--json', '--retry-for', '300ms'], io, { signals, clock: systemClock }),
      ).rejects.toMatchObject({ code: 'FND_EXTERNAL_NETWORK_ERROR' });
      expect(out.map((line) => (JSON.parse(line) as { position: number }).position)).toEqual([1, 2]);
      // every reconnection resumed after the last event printed
      expect(server.requests.length).toBeGreaterThan(1);
      expect(server.requests.slice(1).every((r) => r.headers['last-event-id'] === '2')).toBe(true);
      expect(err).toContain(
        'foundation: the control bus ended the stream: FND_EVENTS_SUBSCRIPTION_FAILED: store down',
      );
    } finally {
      await server.close();
    }
  });

  it('stops with exit 0 on SIGINT and names the checkpoint to resume from', async () => {
    let interrupt: (() => void) | undefined;
    const signals = {
      on(signal: 'SIGINT' | 'SIGTERM', handler: () => void) {
        if (signal === 'SIGINT') interrupt = handler;
        return () => undefined;
      },
    };
    const server = await scriptedServer(() => event(7));
    try {
      const { io, out, err } = capture();
      const running = runTail(
        ['--url', server.url],
        {
          ...io,
          out: (line) => {
            out.push(line);
            interrupt?.();
          },
        },
        {
          signals,
          clock: systemClock,
        },
      );
      expect(await running).toBe(0);
      expect(out).toEqual(['7  1970-01-01T00:00:00.000Z  a.b  -  -']);
      expect(err.at(-1)).toBe('foundation: stopped after 1 event; resume with --from 7');
    } finally {
      await server.close();
    }
  });
});
