import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlBus, type RunningControlBus } from '../helpers/control-bus.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const TOKEN = 'bad-input-token';

/** A GET that must be refused: path, status, code. */
type Refusal = readonly [path: string, status: number, code: string];

const where = (value: unknown): string => `where=${encodeURIComponent(JSON.stringify(value))}`;

const BAD_QUERIES: readonly Refusal[] = [
  ['/api/events?bogus=1', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?types=a.b&types=c.d', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?types=', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?types=Order..Created', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?types=a,,b', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?limit=abc', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?limit=0', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?limit=-1', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?limit=1.5', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?limit=1000000', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?order=sideways', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?from=yesterday', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?to=1e999', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?from=2025-13-45', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events?cursor=garbage', 400, 'FND_EVENTS_INVALID_CURSOR'],
  ['/api/events?cursor=', 400, 'FND_EVENTS_INVALID_CURSOR'],
  ['/api/events?where=not-json', 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where({ path: 'data.x', op: 'eq', value: 1 })}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where([{ path: 'data.x', op: 'like', value: 1 }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where([{ path: 'data..x', op: 'eq', value: 1 }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where([{ path: 'id', op: 'eq', value: 1 }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where([{ path: 'data.x', op: 'eq', value: { a: 1 } }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?${where([{ path: 'data.x', op: 'in', value: [] }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [
    `/api/events?${where([{ path: 'data.x', op: 'in', value: Array.from({ length: 101 }, (_, i) => i) }])}`,
    400,
    'FND_EVENTS_INVALID_QUERY',
  ],
  [`/api/events?${where([{ path: 'data.x', op: 'gt' }])}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/events?where=${'%5B'.repeat(1200)}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/aggregate', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/aggregate?groupBy=color', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/aggregate?groupBy=time&bucketMs=10', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/aggregate?groupBy=time&bucketMs=soon', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/aggregate?groupBy=type&limit=3', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/streams/order-1?from=-1', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/streams/order-1?direction=up', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/streams/order-1?limit=0', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/streams/order-1?types=a', 400, 'FND_EVENTS_INVALID_QUERY'],
  [`/api/streams/${'s'.repeat(600)}`, 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/some-id?x=1', 400, 'FND_EVENTS_INVALID_QUERY'],
  ['/api/events/correlation/c-1?x=1', 400, 'FND_EVENTS_INVALID_QUERY'],
  [
    `/api/events?${where([{ path: 'data.x', op: 'eq', value: 'y'.repeat(5000) }])}`,
    400,
    'FND_HTTP_BAD_REQUEST',
  ],
];

/** A POST body that must be refused: label, body (a string is sent as is), status, code. */
type BadAppend = readonly [label: string, body: unknown, status: number, code: string];

const BIG = 'x'.repeat(1024 * 1024 + 10);

const BAD_APPENDS: readonly BadAppend[] = [
  ['a JSON string', 'just text', 400, 'FND_EVENTS_INVALID_EVENT'],
  ['a number', 42, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['null', null, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['an empty array', [], 400, 'FND_EVENTS_INVALID_EVENT'],
  ['no type', { stream: 's-1' }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['an empty type', { type: '' }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['a malformed type', { type: 'Order Created!' }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['a numeric type', { type: 7 }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['a bad id', { type: 'a.b', id: 'not an id!' }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['an unknown field', { type: 'a.b', color: 'red' }, 400, 'FND_EVENTS_INVALID_EVENT'],
  [
    'a duplicate id in the batch',
    [
      { type: 'a.b', id: 'dup-1' },
      { type: 'a.c', id: 'dup-1' },
    ],
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
  ['metadata that is not an object', { type: 'a.b', metadata: [1] }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['a bad stream', { type: 'a.b', stream: 12 }, 400, 'FND_EVENTS_INVALID_EVENT'],
  ['an oversized event', { type: 'a.b', data: { text: BIG } }, 413, 'FND_EVENTS_TOO_LARGE'],
  [
    'a batch with one bad event',
    [{ type: 'good.one', stream: 'batch' }, { type: 'good.two', stream: 'batch' }, { type: '' }],
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
  [
    'an envelope with an unknown member',
    { events: [{ type: 'a.b' }], extra: 1 },
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
  ['an envelope whose events are not an array', { events: { type: 'a.b' } }, 400, 'FND_EVENTS_INVALID_EVENT'],
  [
    'a negative expected version',
    { events: [{ type: 'a.b', stream: 's-1' }], expectedVersion: -1 },
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
  [
    'an unknown expected version keyword',
    { events: [{ type: 'a.b', stream: 's-1' }], expectedVersion: 'sometimes' },
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
  [
    'an expected version over two streams',
    {
      events: [
        { type: 'a.b', stream: 's-1' },
        { type: 'a.b', stream: 's-2' },
      ],
      expectedVersion: 0,
    },
    400,
    'FND_EVENTS_INVALID_EVENT',
  ],
];

describe('control bus: bad event-store input is refused and the store is unchanged', () => {
  let running: RunningControlBus;
  let baseline: readonly unknown[] = [];

  const snapshot = async (): Promise<readonly unknown[]> =>
    running.foundation.events.readAll({ limit: 10_000 });
  const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    running.fetch('/api/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body,
    });

  beforeAll(async () => {
    running = await startControlBus({ name: 'bad-input', store: 'sqlite::memory:', bus: { token: TOKEN } });
    await running.foundation.events.append([
      { type: 'order.created', stream: 'order-1', data: { total: 3 } },
      { type: 'order.paid', stream: 'order-1', data: { total: 3 } },
    ]);
    baseline = await snapshot();
    expect(baseline).toHaveLength(2);
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  it.each(BAD_QUERIES.map((refusal) => [refusal[0].slice(0, 90), ...refusal] as const))(
    'GET %s → refused',
    async (_label, path, status, code) => {
      await expectProblem(await running.fetch(path), status, code);
      expect(await snapshot()).toEqual(baseline);
    },
  );

  it.each(BAD_APPENDS)('POST %s → refused, nothing stored', async (_label, body, status, code) => {
    await expectProblem(await post(JSON.stringify(body)), status, code);
    expect(await snapshot()).toEqual(baseline);
  });

  it('malformed JSON, an empty JSON body and a non-JSON content type are refused', async () => {
    await expectProblem(await post('{"type": "a.b",'), 400, 'FND_HTTP_BAD_REQUEST');
    await expectProblem(await post(''), 400, 'FND_HTTP_BAD_REQUEST');
    await expectProblem(
      await post('type=a.b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await snapshot()).toEqual(baseline);
  });

  it('a body over the append limit is 413 FND_HTTP_PAYLOAD_TOO_LARGE', async () => {
    const huge = JSON.stringify({ type: 'a.b', data: { text: 'y'.repeat(2 * 1024 * 1024 + 100) } });
    await expectProblem(await post(huge), 413, 'FND_HTTP_PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toEqual(baseline);
  });

  it('appending needs the bearer token', async () => {
    const body = JSON.stringify({ type: 'a.b' });
    await expectProblem(
      await running.fetch('/api/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    await expectProblem(
      await post(body, { authorization: 'Bearer wrong-token' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    expect(await snapshot()).toEqual(baseline);
  });

  it('while the event store is not running, reads and appends answer 503', async () => {
    const host = await startControlBus({ name: 'host', bus: { token: TOKEN } });
    try {
      await host.foundation.supervisor.stop();
      // the bus itself is stopped with the rest: serve the stopped foundation from another one
      const watcher = await startControlBus({ name: 'watcher' });
      try {
        const { controlBusService } = await import('../../src/server/index.js');
        watcher.foundation.add({
          ...controlBusService(host.foundation, { port: 0, token: TOKEN }),
          name: 'bus-2',
        });
        const bus = await watcher.foundation.registry.waitFor<{ url: string }>('services', 'bus-2');
        await expectProblem(await fetch(`${bus.url}/api/events`), 503, 'FND_SYSTEM_SERVICE_UNAVAILABLE');
        await expectProblem(
          await fetch(`${bus.url}/api/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'a.b' }),
          }),
          503,
          'FND_SYSTEM_SERVICE_UNAVAILABLE',
        );
      } finally {
        await watcher[Symbol.asyncDispose]();
      }
    } finally {
      await host[Symbol.asyncDispose]();
    }
  });
});
