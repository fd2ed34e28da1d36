import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendResult, CausationNode, StoredEvent } from '../../src/events/model/types.js';
import { startControlBus, type RunningControlBus } from '../helpers/control-bus.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const TOKEN = 'events-api-token';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Page {
  events: StoredEvent[];
  nextCursor: string | null;
}

describe('control bus: event store API (SQLite in memory)', () => {
  let running: RunningControlBus;

  const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    running.fetch('/api/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const getJson = async <T>(path: string): Promise<T> => {
    const response = await running.fetch(path);
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    running = await startControlBus({ name: 'events-node', store: 'sqlite::memory:', bus: { token: TOKEN } });
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  it('POST /api/events appends one event (201) and GET /api/events/:id returns it', async () => {
    const response = await post(
      { type: 'order.created', stream: 'order-1', data: { total: 12, items: ['a', 'b'] } },
      { 'x-correlation-id': 'corr-order-1' },
    );
    expect(response.status).toBe(201);
    const result = (await response.json()) as AppendResult;
    expect(result).toMatchObject({ streamVersion: 1, position: 1, idempotent: false });
    const [event] = result.events;
    expect(event).toMatchObject({
      type: 'order.created',
      stream: 'order-1',
      streamVersion: 1,
      position: 1,
      data: { total: 12, items: ['a', 'b'] },
      metadata: {},
      // the request's correlation id stamps the event
      correlationId: 'corr-order-1',
    });
    expect(event?.id).toMatch(UUID);
    const fetched = await getJson<StoredEvent>(`/api/events/${event?.id ?? ''}`);
    expect(fetched).toEqual(event);
    expect(await running.foundation.events.get(event?.id ?? '')).toEqual(event);
  });

  it('appends a batch (array) and an envelope with an expected version; conflicts answer 409', async () => {
    const batch = await post([
      { type: 'order.paid', stream: 'order-1', data: { total: 12 }, correlationId: 'corr-order-1' },
      { type: 'order.shipped', stream: 'order-1', data: { carrier: 'ups' }, correlationId: 'corr-order-1' },
    ]);
    expect(batch.status).toBe(201);
    expect(((await batch.json()) as AppendResult).events.map((e) => e.streamVersion)).toEqual([2, 3]);

    const checked = await post({
      events: [{ type: 'order.closed', stream: 'order-1', correlationId: 'corr-order-1' }],
      expectedVersion: 3,
    });
    expect(checked.status).toBe(201);
    expect(((await checked.json()) as AppendResult).streamVersion).toBe(4);

    const conflict = await expectProblem(
      await post({ events: [{ type: 'order.closed', stream: 'order-1' }], expectedVersion: 3 }),
      409,
      'FND_EVENTS_VERSION_CONFLICT',
    );
    expect(conflict.context).toMatchObject({ stream: 'order-1', expected: 3, actual: 4 });
    await expectProblem(
      await post({ events: [{ type: 'user.created', stream: 'user-1' }], expectedVersion: 'stream_exists' }),
      409,
      'FND_EVENTS_VERSION_CONFLICT',
    );
    expect(await running.foundation.events.streamVersion('order-1')).toBe(4);
    expect(await running.foundation.events.streamVersion('user-1')).toBe(0);
  });

  it('a retry with the same id and content is idempotent (200); other content is a 409 id conflict', async () => {
    const id = '01900000-0000-7000-8000-000000000001';
    const event = { id, type: 'user.created', stream: 'user-1', data: { name: 'Ada' } };
    const first = await post(event);
    expect(first.status).toBe(201);
    const stored = (await first.json()) as AppendResult;
    const retry = await post(event);
    expect(retry.status).toBe(200);
    const again = (await retry.json()) as AppendResult;
    expect(again.idempotent).toBe(true);
    expect(again.events).toEqual(stored.events);
    await expectProblem(await post({ ...event, data: { name: 'Grace' } }), 409, 'FND_EVENTS_ID_CONFLICT');
    expect((await running.foundation.events.get(id))?.data).toEqual({ name: 'Ada' });
  });

  it('GET /api/events filters by type patterns, stream, correlation, time and predicates', async () => {
    const all = await getJson<Page>('/api/events');
    expect(all.events.map((e) => e.type)).toEqual([
      'order.created',
      'order.paid',
      'order.shipped',
      'order.closed',
      'user.created',
    ]);
    expect(all.nextCursor).toBeNull();
    const types = await getJson<Page>('/api/events?types=order.*,user.created&order=desc&limit=2');
    expect(types.events.map((e) => e.position)).toEqual([5, 4]);
    expect(types.nextCursor).toEqual(expect.any(String));
    const stream = await getJson<Page>('/api/events?stream=user-1');
    expect(stream.events.map((e) => e.type)).toEqual(['user.created']);
    const correlated = await getJson<Page>('/api/events?correlationId=corr-order-1');
    expect(correlated.events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
    const where = encodeURIComponent(JSON.stringify([{ path: 'data.total', op: 'gte', value: 12 }]));
    const totals = await getJson<Page>(`/api/events?where=${where}`);
    expect(totals.events.map((e) => e.type)).toEqual(['order.created', 'order.paid']);
    const contains = encodeURIComponent(JSON.stringify([{ path: 'data.items', op: 'contains', value: 'b' }]));
    expect((await getJson<Page>(`/api/events?where=${contains}`)).events.map((e) => e.position)).toEqual([1]);
    const first = all.events[0];
    const fromIso = new Date(first?.time ?? 0).toISOString();
    const inRange = await getJson<Page>(
      `/api/events?from=${encodeURIComponent(fromIso)}&to=${Date.now() + 60_000}`,
    );
    expect(inRange.events).toHaveLength(5);
    const before = await getJson<Page>(`/api/events?to=${first?.time ?? 0}`);
    expect(before.events).toEqual([]);
  });

  it('pages with cursors until nextCursor is null, without gaps or repeats', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page: Page = await getJson<Page>(`/api/events?limit=2${suffix}`);
      seen.push(...page.events.map((e) => e.position));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(pages).toBe(3);
  });

  it('GET /api/events/aggregate counts by type and by time bucket', async () => {
    const byType = await getJson<{ groups: Array<{ key: string; count: number }> }>(
      '/api/events/aggregate?groupBy=type&types=order.*',
    );
    expect(byType.groups).toEqual([
      { key: 'order.closed', count: 1 },
      { key: 'order.created', count: 1 },
      { key: 'order.paid', count: 1 },
      { key: 'order.shipped', count: 1 },
    ]);
    const byTime = await getJson<{ groups: Array<{ key: number; count: number }> }>(
      '/api/events/aggregate?groupBy=time&bucketMs=3600000',
    );
    expect(byTime.groups.reduce((sum, g) => sum + g.count, 0)).toBe(5);
    for (const group of byTime.groups) expect(group.key % 3_600_000).toBe(0);
  });

  it('GET /api/streams/:stream reads forward and backward with the stream version', async () => {
    const forward = await getJson<{ stream: string; version: number; events: StoredEvent[] }>(
      '/api/streams/order-1?from=2&limit=2',
    );
    expect(forward.stream).toBe('order-1');
    expect(forward.version).toBe(4);
    expect(forward.events.map((e) => e.streamVersion)).toEqual([2, 3]);
    const backward = await getJson<{ events: StoredEvent[] }>('/api/streams/order-1?direction=backward');
    expect(backward.events.map((e) => e.streamVersion)).toEqual([4, 3, 2, 1]);
    const empty = await getJson<{ version: number; events: StoredEvent[] }>('/api/streams/nobody');
    expect(empty).toMatchObject({ version: 0, events: [] });
  });

  it('GET /api/events/correlation/:id returns the causation tree', async () => {
    const root = await post({ type: 'checkout.requested', correlationId: 'corr-tree' });
    const rootEvent = ((await root.json()) as AppendResult).events[0];
    const child = await post({
      type: 'payment.taken',
      correlationId: 'corr-tree',
      parentId: rootEvent?.id ?? '',
    });
    const childEvent = ((await child.json()) as AppendResult).events[0];
    await post({ type: 'receipt.sent', correlationId: 'corr-tree', causationId: childEvent?.id ?? '' });
    const tree = await getJson<{ correlationId: string; roots: CausationNode[] }>(
      '/api/events/correlation/corr-tree',
    );
    expect(tree.correlationId).toBe('corr-tree');
    const shape = (node: CausationNode): unknown => [node.event.type, node.children.map(shape)];
    expect(tree.roots.map(shape)).toEqual([
      ['checkout.requested', [['payment.taken', [['receipt.sent', []]]]]],
    ]);
    const none = await getJson<{ roots: CausationNode[] }>('/api/events/correlation/nobody');
    expect(none.roots).toEqual([]);
  });

  it('an unknown event id is 404 FND_EVENTS_NOT_FOUND', async () => {
    const problem = await expectProblem(
      await running.fetch('/api/events/01900000-0000-7000-8000-0000000000ff'),
      404,
      'FND_EVENTS_NOT_FOUND',
    );
    expect(problem.detail).toContain('01900000-0000-7000-8000-0000000000ff');
  });

  it('wrong methods on the events route answer 405 with the accurate Allow header', async () => {
    const response = await running.fetch('/api/events', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await expectProblem(response, 405, 'FND_HTTP_METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});
