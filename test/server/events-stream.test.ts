import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput, StoredEvent } from '../../src/events/model/types.js';
import { tempDir, type TempDir } from '../helpers/cli-process.js';
import { startControlBus, type RunningControlBus } from '../helpers/control-bus.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';
import { expectProblem } from '../helpers/problem-assertions.js';
import { openPaused, openSse } from './events-stream-client.js';

const TOKEN = 'events-stream-token';
const BUFFER = 32;

interface StoreUnderTest {
  /** Store URL for a fresh foundation. */
  url(): Promise<string>;
  /** Whether checkpoints are the event's position (memory, SQLite). */
  readonly positionCheckpoints: boolean;
  cleanup(): Promise<void>;
}

function positions(events: readonly StoredEvent[]): number[] {
  return events.map((e) => e.position);
}

/** The whole log, through the query API's store method. */
async function allEvents(running: RunningControlBus): Promise<StoredEvent[]> {
  return running.foundation.events.readAll({ limit: 10_000 });
}

function streamSuite(name: string, makeStore: () => StoreUnderTest): void {
  describe(`GET /api/events/stream (${name})`, () => {
    let store: StoreUnderTest;
    let running: RunningControlBus;
    const streamUrl = (query = ''): URL => new URL(`/api/events/stream${query}`, running.url);
    const append = (events: EventInput | EventInput[]) => running.foundation.events.append(events);
    const subscriptionCount = (): number => running.foundation.events.subscriptions().length;

    beforeAll(async () => {
      store = makeStore();
      running = await startControlBus({
        name: `stream-${name}`,
        store: await store.url(),
        bus: { token: TOKEN, maxEventStreamClients: 3, eventStreamBufferSize: BUFFER, heartbeatMs: 200 },
      });
    });
    afterAll(async () => {
      await running[Symbol.asyncDispose]();
      await store.cleanup();
    });
    afterEach(async () => {
      // clients closed by a test are gone on the server before the next one starts
      await expect.poll(() => running.bus.eventStreams().length).toBe(0);
      await expect.poll(subscriptionCount).toBe(0);
    });

    it('from=start replays the matching events, then delivers new ones live, each with its checkpoint as id', async () => {
      const before = await append([
        { type: 'order.created', stream: 'order-1', data: { total: 5 } },
        { type: 'user.signed_in', data: { user: 'ada' } },
        { type: 'order.paid', stream: 'order-1', data: { total: 5 } },
      ]);
      await using client = await openSse(streamUrl('?types=order.*&from=start'));
      expect(client.response.status).toBe(200);
      expect(client.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(client.response.headers.get('cache-control')).toBe('no-store');
      expect(client.response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
      const replayed = await client.waitForEvents(2);
      const orders = before.events.filter((e) => e.type.startsWith('order.'));
      expect(replayed).toEqual(orders);

      const live = await append([
        { type: 'user.signed_out', data: {} },
        { type: 'order.shipped', stream: 'order-1', data: {} },
      ]);
      const all = await client.waitForEvents(3);
      expect(all[2]).toEqual(live.events[1]);
      expect(client.events().map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.shipped']);
      const ids = client.messages.filter((m) => m.event === 'event').map((m) => m.id);
      expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
      if (store.positionCheckpoints) expect(ids).toEqual(all.map((e) => String(e.position)));
      // the server holds exactly one subscription for this client, named after the route
      expect(running.bus.eventStreams().map((s) => s.subscription.name)).toEqual([
        expect.stringMatching(/^control-bus:events-stream:\d+$/),
      ]);
    });

    it('filters by stream, correlation id and where; default from=end delivers only new events', async () => {
      await append({ type: 'cart.opened', stream: 'cart-9', data: { items: 1 } });
      const where = encodeURIComponent(JSON.stringify([{ path: 'data.items', op: 'gt', value: 2 }]));
      await using byStream = await openSse(streamUrl('?stream=cart-9'));
      await using byCorrelation = await openSse(streamUrl('?correlationId=corr-cart'));
      await using byWhere = await openSse(streamUrl(`?where=${where}`));
      // the streams are subscribed (from=end) before the next appends
      await expect.poll(() => running.bus.eventStreams().length).toBe(3);
      const appended = await append([
        { type: 'cart.item_added', stream: 'cart-9', data: { items: 2 } },
        { type: 'cart.item_added', stream: 'cart-8', data: { items: 3 }, correlationId: 'corr-cart' },
        { type: 'cart.item_added', stream: 'cart-9', data: { items: 4 }, correlationId: 'corr-cart' },
      ]);
      const [a, b, c] = appended.events;
      expect(await byStream.waitForEvents(2)).toEqual([a, c]);
      expect(await byCorrelation.waitForEvents(2)).toEqual([b, c]);
      expect(await byWhere.waitForEvents(2)).toEqual([b, c]);
      // nothing from before the subscriptions started (from=end), nothing else after
      const marker = await append({ type: 'cart.item_added', stream: 'cart-9', data: { items: 9 } });
      expect(await byStream.waitForEvents(3)).toEqual([a, c, marker.events[0]]);
      expect(byCorrelation.events()).toHaveLength(2);
    });

    it('Last-Event-ID resumes exactly after the last event received: the rest, in order, none twice', async () => {
      await append(Array.from({ length: 10 }, (_, i) => ({ type: 'resume.item', data: { i } })));
      const expected = (await allEvents(running)).filter((e) => e.type === 'resume.item');
      let lastId: string | undefined;
      {
        await using first = await openSse(streamUrl('?types=resume.*&from=start'));
        const got = await first.waitForEvents(4);
        expect(got.slice(0, 4)).toEqual(expected.slice(0, 4));
        lastId = first.messages.filter((m) => m.event === 'event')[3]?.id;
      }
      expect(lastId).toBeDefined();
      // appended while the client is away
      await append(Array.from({ length: 5 }, (_, i) => ({ type: 'resume.item', data: { i: 10 + i } })));
      const everything = (await allEvents(running)).filter((e) => e.type === 'resume.item');
      expect(everything).toHaveLength(15);
      // the header wins over from=start, as when an EventSource reconnects to the same URL
      await using second = await openSse(streamUrl('?types=resume.*&from=start'), {
        'last-event-id': lastId ?? '',
      });
      const rest = await second.waitForEvents(11);
      expect(rest).toEqual(everything.slice(4));
      // a checkpoint works as ?from= too
      await using third = await openSse(
        streamUrl(`?types=resume.*&from=${encodeURIComponent(lastId ?? '')}`),
      );
      expect(await third.waitForEvents(11)).toEqual(everything.slice(4));
      // and a position: after that event
      const position = everything[11]?.position ?? 0;
      await using fourth = await openSse(streamUrl(`?types=resume.*&from=${position}`));
      expect(positions(await fourth.waitForEvents(3))).toEqual(positions(everything.slice(12)));
    });

    it('refuses bad input with a problem+json 400 before the stream opens, changing nothing', async () => {
      const eventsBefore = await allEvents(running);
      const subscriptionsBefore = subscriptionCount();
      const cases: Array<[string, Record<string, string>, string]> = [
        ['?bogus=1', {}, 'FND_EVENTS_INVALID_QUERY'],
        ['?types=a.*&types=b', {}, 'FND_EVENTS_INVALID_QUERY'],
        ['?types=%20', {}, 'FND_EVENTS_INVALID_QUERY'],
        ['?where=not-json', {}, 'FND_EVENTS_INVALID_QUERY'],
        [
          `?where=${encodeURIComponent('[{"path":"data.x","op":"like","value":1}]')}`,
          {},
          'FND_EVENTS_INVALID_QUERY',
        ],
        ['?limit=5', {}, 'FND_EVENTS_INVALID_QUERY'],
        ['?from=yesterday', {}, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
        ['?from=-3', {}, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
        [`?from=${'9'.repeat(300)}`, {}, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
        ['?from=a%20b', {}, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
        ['', { 'last-event-id': 'not-a-checkpoint' }, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
        ['?from=start', { 'last-event-id': 'x'.repeat(201) }, 'FND_EVENTS_INVALID_SUBSCRIPTION'],
      ];
      for (const [query, headers, code] of cases) {
        const response = await fetch(streamUrl(query), {
          headers: { accept: 'text/event-stream', ...headers },
        });
        const problem = await expectProblem(response, 400, code);
        expect(problem.detail, query).not.toBe('');
      }
      expect(subscriptionCount()).toBe(subscriptionsBefore);
      expect(running.bus.eventStreams()).toHaveLength(0);
      expect(await allEvents(running)).toEqual(eventsBefore);
      // still serving
      await using client = await openSse(streamUrl('?from=start'));
      expect(await client.waitForEvents(eventsBefore.length)).toEqual(eventsBefore);
    });

    it('caps concurrent clients (503 problem with retry-after) and frees a slot when a client leaves', async () => {
      const clients = [await openSse(streamUrl()), await openSse(streamUrl()), await openSse(streamUrl())];
      try {
        await expect.poll(() => running.bus.eventStreams().length).toBe(3);
        const refused = await fetch(streamUrl('?from=start'));
        expect(refused.headers.get('retry-after')).toBe('5');
        await expectProblem(refused, 503, 'FND_SYSTEM_RESOURCE_EXHAUSTED');
        expect(running.bus.eventStreams()).toHaveLength(3);
        clients.pop()?.close();
        await expect.poll(() => running.bus.eventStreams().length).toBe(2);
        await using again = await openSse(streamUrl());
        expect(again.response.status).toBe(200);
      } finally {
        for (const client of clients) await client[Symbol.asyncDispose]();
      }
    });

    it('a client that goes away closes its store subscription', async () => {
      const before = subscriptionCount();
      const client = await openSse(streamUrl('?types=gone.*'));
      expect(client.response.status).toBe(200);
      await expect.poll(subscriptionCount).toBe(before + 1);
      expect(running.foundation.events.subscriptions().some((s) => s.name.startsWith('control-bus:'))).toBe(
        true,
      );
      await client[Symbol.asyncDispose]();
      await expect.poll(subscriptionCount).toBe(before);
      await expect.poll(() => running.bus.eventStreams().length).toBe(0);
    });

    it('sends heartbeat comments while idle', async () => {
      await using client = await openSse(streamUrl('?types=nothing.here'));
      await expect.poll(() => client.comments, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
      expect(client.events()).toEqual([]);
    });
  });
}

function slowReaderSuite(name: string, makeStore: () => StoreUnderTest): void {
  describe(`GET /api/events/stream: a slow reader (${name})`, () => {
    it('stops pulling while the socket is full: bounded buffers, and every event arrives once reading resumes', async () => {
      const store = makeStore();
      await using running = await startControlBus({
        name: `slow-${name}`,
        store: await store.url(),
        bus: { eventStreamBufferSize: BUFFER },
      });
      try {
        const pad = 'x'.repeat(16_000);
        const appendMany = async (from: number, count: number): Promise<void> => {
          for (let i = 0; i < count; i += 100) {
            await running.foundation.events.append(
              Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
                type: 'bulk.item',
                data: { n: from + i + j, pad },
              })),
            );
          }
        };
        await using client = await openPaused(new URL('/api/events/stream?from=start', running.url));
        expect(client.response.statusCode).toBe(200);
        await appendMany(0, 1500); // ~24 MB: far more than the socket buffers hold
        const stalled = async (): Promise<void> => {
          await expect
            .poll(() => running.bus.eventStreams()[0]?.waitingForDrain, { timeout: 20_000 })
            .toBe(true);
          const [stream] = running.bus.eventStreams();
          expect(stream?.subscription.buffered).toBeLessThanOrEqual(BUFFER);
          expect(stream?.subscription.delivered).toBeLessThan(1500);
          // one socket buffer (16 KiB) plus the message that overflowed it
          expect(stream?.writableBytes).toBeLessThanOrEqual(64 * 1024);
        };
        await stalled();
        const deliveredBefore = running.bus.eventStreams()[0]?.subscription.delivered;
        // more events while the reader is stalled: nothing more is pulled or buffered
        await appendMany(1500, 500);
        await stalled();
        expect(running.bus.eventStreams()[0]?.subscription.delivered).toBe(deliveredBefore);
        for (const status of running.foundation.events.subscriptions()) {
          expect(status.buffered).toBeLessThanOrEqual(BUFFER);
        }
        // the reader catches up: all 2000 events, in order, none lost or repeated
        const messages = await client.readAll(2000);
        const numbers = messages.map((m) => (JSON.parse(m.data) as { data: { n: number } }).data.n);
        expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      } finally {
        await store.cleanup();
      }
    });
  });
}

const memoryStore = (): StoreUnderTest => ({
  url: () => Promise.resolve('memory:'),
  positionCheckpoints: true,
  cleanup: () => Promise.resolve(),
});

const sqliteStore = (): StoreUnderTest => {
  let dir: TempDir | undefined;
  return {
    async url() {
      dir = await tempDir('events-stream-');
      return `sqlite:${join(dir.path, 'events.db')}`;
    },
    positionCheckpoints: true,
    async cleanup() {
      await dir?.[Symbol.asyncDispose]();
    },
  };
};

const pgStore = (): StoreUnderTest => {
  let schema: TestSchema | undefined;
  return {
    async url() {
      schema = await createTestSchema();
      return schema.url;
    },
    positionCheckpoints: false,
    async cleanup() {
      await schema?.drop();
    },
  };
};

streamSuite('memory', memoryStore);
streamSuite('SQLite', sqliteStore);
slowReaderSuite('memory', memoryStore);
slowReaderSuite('SQLite', sqliteStore);
describePg('event stream on PostgreSQL', () => {
  streamSuite('PostgreSQL', pgStore);
  slowReaderSuite('PostgreSQL', pgStore);
});

describe('GET /api/events/stream: stopping the bus', () => {
  it('ends open streams and closes their subscriptions', async () => {
    const running = await startControlBus({ name: 'stopper' });
    const client = await openSse(new URL('/api/events/stream?from=start', running.url));
    await expect.poll(() => running.foundation.events.subscriptions().length).toBe(1);
    await running.foundation.events.append({ type: 'before.stop', data: {} });
    await client.waitForEvents(1);
    await running.bus.close();
    await client.ended;
    expect(running.foundation.events.subscriptions()).toEqual([]);
    expect(running.bus.eventStreams()).toEqual([]);
    await running[Symbol.asyncDispose]();
  });
});
