/**
 * Contract cases: the query DSL (filters, every predicate operator with its edge cases, order, limits,
 * cursor pagination, invalid queries) and aggregations.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { EventInput, QueryPredicate, StoredEvent } from '../../../src/events/model/types.js';
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from '../../../src/events/model/types.js';
import type { MakeEventStore } from './fixture.js';
import { everything, expectCode, ids, useStore } from './fixture.js';

/** A small log with every JSON shape the predicates care about. */
const DATASET: EventInput[] = [
  {
    id: 'e1',
    type: 'order.created',
    stream: 'order-1',
    correlationId: 'corr-a',
    data: { total: 10, status: 'new', tags: ['a', 'b'], customer: { name: 'Ann' } },
    metadata: { source: 'web' },
  },
  {
    id: 'e2',
    type: 'order.paid',
    stream: 'order-1',
    correlationId: 'corr-a',
    data: { total: 10, paid: true },
  },
  { id: 'e3', type: 'order.created', stream: 'order-2', data: { total: 25, status: null, tags: ['b'] } },
  { id: 'e4', type: 'user.signed_up', data: { name: 'Bob', total: '10' }, metadata: { source: 'app' } },
  {
    id: 'e5',
    type: 'order.shipped',
    stream: 'order-2',
    correlationId: 'corr-b',
    data: { total: 25.5, carrier: 'ups', tags: 'b-string' },
    metadata: { source: 'web' },
  },
  { id: 'e6', type: 'orders.legacy', data: { total: 1, paid: false } },
  { id: 'e7', type: 'order', data: [1, 2, 3] },
  { id: 'e8', type: 'user.deleted', data: 'just text' },
];

/** Query DSL and aggregation. */
export function queryCases(make: MakeEventStore): void {
  const t = useStore(make);
  const load = () => t.store.append(DATASET);
  const q = async (query: unknown) => ids((await t.store.query(query)).events);
  const where = (...predicates: QueryPredicate[]) => q({ where: predicates });

  describe('query filters', () => {
    it('without filters returns everything in position order', async () => {
      await load();
      expect(await q({})).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']);
      expect(await q(undefined)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']);
    });

    it('types: exact, prefix pattern, *, several ORed', async () => {
      await load();
      expect(await q({ types: ['order.created'] })).toEqual(['e1', 'e3']);
      expect(await q({ types: ['order.*'] })).toEqual(['e1', 'e2', 'e3', 'e5']);
      expect(await q({ types: ['order'] })).toEqual(['e7']);
      expect(await q({ types: ['*'] })).toHaveLength(8);
      expect(await q({ types: ['user.*', 'order.paid'] })).toEqual(['e2', 'e4', 'e8']);
      expect(await q({ types: ['nothing.here'] })).toEqual([]);
    });

    it('stream and correlation id', async () => {
      await load();
      expect(await q({ stream: 'order-2' })).toEqual(['e3', 'e5']);
      expect(await q({ correlationId: 'corr-a' })).toEqual(['e1', 'e2']);
      expect(await q({ correlationId: 'corr-a', types: ['order.paid'] })).toEqual(['e2']);
      expect(await q({ stream: 'order-2', correlationId: 'corr-a' })).toEqual([]);
    });

    it('time range: from inclusive, to exclusive', async () => {
      await load();
      await t.store.append({ id: 'e9', type: 'late.event' });
      const all = await everything(t.store);
      const times = all.map((e) => e.time);
      const min = Math.min(...times);
      const max = Math.max(...times);
      const inRange = (from: number, to: number) =>
        ids(all.filter((e: StoredEvent) => e.time >= from && e.time < to));
      expect(await q({ from: min, to: max + 1 })).toEqual(ids(all));
      expect(await q({ from: max + 1 })).toEqual([]);
      expect(await q({ to: min })).toEqual([]);
      expect(await q({ from: max, to: max + 1 })).toEqual(inRange(max, max + 1));
      expect(await q({ from: min, to: min + 1 })).toEqual(inRange(min, min + 1));
      expect(await q({ from: new Date(min).toISOString() })).toEqual(ids(all));
    });
  });

  describe('query predicates', () => {
    it('eq: same JSON type and value; eq null matches null, not a missing path', async () => {
      await load();
      expect(await where({ path: 'data.total', op: 'eq', value: 10 })).toEqual(['e1', 'e2']);
      expect(await where({ path: 'data.total', op: 'eq', value: '10' })).toEqual(['e4']);
      expect(await where({ path: 'data.status', op: 'eq', value: null })).toEqual(['e3']);
      expect(await where({ path: 'data.paid', op: 'eq', value: true })).toEqual(['e2']);
      expect(await where({ path: 'data.paid', op: 'eq', value: false })).toEqual(['e6']);
      expect(await where({ path: 'data.paid', op: 'eq', value: 0 })).toEqual([]);
      expect(await where({ path: 'data.customer.name', op: 'eq', value: 'Ann' })).toEqual(['e1']);
      expect(await where({ path: 'data.tags.0', op: 'eq', value: 'b' })).toEqual(['e3']);
      expect(await where({ path: 'metadata.source', op: 'eq', value: 'web' })).toEqual(['e1', 'e5']);
    });

    it('ne: also matches a missing path', async () => {
      await load();
      expect(await where({ path: 'data.status', op: 'ne', value: 'new' })).toEqual([
        'e2',
        'e3',
        'e4',
        'e5',
        'e6',
        'e7',
        'e8',
      ]);
      expect(await where({ path: 'data.status', op: 'ne', value: null })).toEqual([
        'e1',
        'e2',
        'e4',
        'e5',
        'e6',
        'e7',
        'e8',
      ]);
      expect(await where({ path: 'data.total', op: 'ne', value: 10 })).toEqual([
        'e3',
        'e4',
        'e5',
        'e6',
        'e7',
        'e8',
      ]);
    });

    it('gt gte lt lte: numbers with numbers, strings with strings, never mixed', async () => {
      await load();
      expect(await where({ path: 'data.total', op: 'gt', value: 10 })).toEqual(['e3', 'e5']);
      expect(await where({ path: 'data.total', op: 'gte', value: 25 })).toEqual(['e3', 'e5']);
      expect(await where({ path: 'data.total', op: 'gte', value: 10 })).toEqual(['e1', 'e2', 'e3', 'e5']);
      expect(await where({ path: 'data.total', op: 'lt', value: 25 })).toEqual(['e1', 'e2', 'e6']);
      expect(await where({ path: 'data.total', op: 'lte', value: 10 })).toEqual(['e1', 'e2', 'e6']);
      expect(await where({ path: 'data.total', op: 'gt', value: '0' })).toEqual(['e4']);
      expect(await where({ path: 'data.total', op: 'lt', value: '2' })).toEqual(['e4']);
      expect(await where({ path: 'data.name', op: 'gte', value: 'B' })).toEqual(['e4']);
      expect(await where({ path: 'data.name', op: 'gt', value: 'Bob' })).toEqual([]);
      expect(await where({ path: 'data.status', op: 'lt', value: 'z' })).toEqual(['e1']);
      expect(await where({ path: 'data.paid', op: 'gte', value: 0 })).toEqual([]);
    });

    it('in: equals one of the values (types respected)', async () => {
      await load();
      expect(await where({ path: 'data.total', op: 'in', value: [10, 25] })).toEqual(['e1', 'e2', 'e3']);
      expect(await where({ path: 'data.total', op: 'in', value: ['10'] })).toEqual(['e4']);
      expect(await where({ path: 'data.status', op: 'in', value: [null, 'new'] })).toEqual(['e1', 'e3']);
      expect(await where({ path: 'data.paid', op: 'in', value: [true] })).toEqual(['e2']);
    });

    it('contains: substring of a string, element of an array, nothing otherwise', async () => {
      await load();
      expect(await where({ path: 'data.tags', op: 'contains', value: 'b' })).toEqual(['e1', 'e3', 'e5']);
      expect(await where({ path: 'data.tags', op: 'contains', value: 'a' })).toEqual(['e1']);
      expect(await where({ path: 'data.carrier', op: 'contains', value: 'p' })).toEqual(['e5']);
      expect(await where({ path: 'data.carrier', op: 'contains', value: 'UPS' })).toEqual([]);
      expect(await where({ path: 'data.total', op: 'contains', value: 1 })).toEqual([]);
      expect(await where({ path: 'data.tags', op: 'contains', value: 'b-' })).toEqual(['e5']);
    });

    it('exists: present (even null) or absent', async () => {
      await load();
      expect(await where({ path: 'data.status', op: 'exists', value: true })).toEqual(['e1', 'e3']);
      expect(await where({ path: 'data.status', op: 'exists', value: false })).toEqual([
        'e2',
        'e4',
        'e5',
        'e6',
        'e7',
        'e8',
      ]);
      expect(await where({ path: 'data.customer.name', op: 'exists', value: true })).toEqual(['e1']);
      expect(await where({ path: 'metadata.source', op: 'exists', value: true })).toEqual(['e1', 'e4', 'e5']);
    });

    it('several predicates and filters are ANDed', async () => {
      await load();
      expect(
        await q({
          types: ['order.*'],
          where: [
            { path: 'data.total', op: 'gte', value: 10 },
            { path: 'metadata.source', op: 'eq', value: 'web' },
          ],
        }),
      ).toEqual(['e1', 'e5']);
    });
  });

  describe('order, limits, pagination', () => {
    it('order desc returns newest first', async () => {
      await load();
      expect(await q({ order: 'desc' })).toEqual(['e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
      expect(await q({ order: 'desc', types: ['order.*'], limit: 2 })).toEqual(['e5', 'e3']);
    });

    it('default limit, maximum limit', async () => {
      await t.store.append(
        Array.from({ length: DEFAULT_QUERY_LIMIT + 5 }, (_, i) => ({ type: 'bulk.row', data: { i } })),
      );
      const page = await t.store.query({});
      expect(page.events).toHaveLength(DEFAULT_QUERY_LIMIT);
      expect(page.nextCursor).toEqual(expect.any(String));
      const max = await t.store.query({ limit: MAX_QUERY_LIMIT });
      expect(max.events).toHaveLength(DEFAULT_QUERY_LIMIT + 5);
      expect(max.nextCursor).toBeUndefined();
      await expectCode(t.store.query({ limit: MAX_QUERY_LIMIT + 1 }), 'FND_EVENTS_INVALID_QUERY');
    });

    it('cursor pagination walks every page without duplicates or gaps, in both orders', async () => {
      await t.store.append(
        Array.from({ length: 23 }, (_, i) => ({
          type: i % 3 === 0 ? 'page.third' : 'page.row',
          data: { i },
        })),
      );
      const all = await everything(t.store);
      for (const order of ['asc', 'desc'] as const) {
        for (const filter of [{}, { types: ['page.row'] }]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await t.store.query({
              ...filter,
              order,
              limit: 5,
              ...(cursor === undefined ? {} : { cursor }),
            });
            seen.push(...ids(page.events));
            cursor = page.nextCursor;
            pages++;
          } while (cursor !== undefined && pages < 20);
          const expected = ids(all.filter((e) => !('types' in filter) || e.type === 'page.row'));
          expect(seen).toEqual(order === 'asc' ? expected : [...expected].reverse());
        }
      }
    });

    it('rejects garbage queries of every field and changes nothing', async () => {
      await load();
      const before = await everything(t.store);
      const bad: unknown[] = [
        'all',
        42,
        [],
        { unknown: 1 },
        { types: [] },
        { types: [42] },
        { types: ['Order Created'] },
        { types: ['order.**'] },
        { types: Array.from({ length: 21 }, () => 'a.b') },
        { stream: 42 },
        { stream: '' },
        { correlationId: {} },
        { correlationId: 'has space' },
        { from: 'yesterday' },
        { from: -1 },
        { to: Number.NaN },
        { from: 10, to: 5 },
        { where: 'data.total = 1' },
        { where: [{ path: 'total', op: 'eq', value: 1 }] },
        { where: [{ path: 'data.a b', op: 'eq', value: 1 }] },
        { where: [{ path: 'data.a', op: 'like', value: 1 }] },
        { where: [{ path: 'data.a', op: 'eq' }] },
        { where: [{ path: 'data.a', op: 'eq', value: { nested: true } }] },
        { where: [{ path: 'data.a', op: 'eq', value: Number.POSITIVE_INFINITY }] },
        { where: [{ path: 'data.a', op: 'in', value: [] }] },
        { where: [{ path: 'data.a', op: 'in', value: 5 }] },
        { where: [{ path: 'data.a', op: 'gt', value: true }] },
        { where: [{ path: 'data.a', op: 'exists', value: 'yes' }] },
        { where: [{ path: 'data.a', op: 'eq', value: 1, extra: 1 }] },
        { order: 'up' },
        { limit: 0 },
        { limit: 1.5 },
        { limit: -5 },
      ];
      for (const query of bad) await expectCode(t.store.query(query), 'FND_EVENTS_INVALID_QUERY');
      await expectCode(t.store.query({ cursor: 'garbage' }), 'FND_EVENTS_INVALID_CURSOR');
      const desc = await t.store.query({ order: 'desc', limit: 1 });
      await expectCode(t.store.query({ order: 'asc', cursor: desc.nextCursor }), 'FND_EVENTS_INVALID_CURSOR');
      expect(await everything(t.store)).toEqual(before);
    });
  });

  describe('aggregate', () => {
    it('counts by type, keys ascending, with a filter', async () => {
      await load();
      expect(await t.store.aggregate({ groupBy: 'type' })).toEqual([
        { key: 'order', count: 1 },
        { key: 'order.created', count: 2 },
        { key: 'order.paid', count: 1 },
        { key: 'order.shipped', count: 1 },
        { key: 'orders.legacy', count: 1 },
        { key: 'user.deleted', count: 1 },
        { key: 'user.signed_up', count: 1 },
      ]);
      expect(
        await t.store.aggregate({
          groupBy: 'type',
          filter: { types: ['order.*'], where: [{ path: 'data.total', op: 'gte', value: 10 }] },
        }),
      ).toEqual([
        { key: 'order.created', count: 2 },
        { key: 'order.paid', count: 1 },
        { key: 'order.shipped', count: 1 },
      ]);
      expect(await t.store.aggregate({ groupBy: 'type', filter: { stream: 'none' } })).toEqual([]);
    });

    it('counts by time bucket (bucket start = floor(time / bucketMs) * bucketMs)', async () => {
      await load();
      const all = await everything(t.store);
      for (const bucketMs of [1000, 60_000, 86_400_000]) {
        const expected = new Map<number, number>();
        for (const e of all) {
          const key = Math.floor(e.time / bucketMs) * bucketMs;
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        const groups = await t.store.aggregate({ groupBy: 'time', bucketMs });
        expect(groups).toEqual(
          [...expected.entries()].sort((a, b) => a[0] - b[0]).map(([key, count]) => ({ key, count })),
        );
      }
      const orders = await t.store.aggregate({
        groupBy: 'time',
        bucketMs: 86_400_000,
        filter: { types: ['order.*'] },
      });
      expect(orders.reduce((n, g) => n + g.count, 0)).toBe(4);
    });

    it('rejects invalid aggregations', async () => {
      for (const bad of [
        undefined,
        { groupBy: 'stream' },
        { groupBy: 'time', bucketMs: 10 },
        { groupBy: 'type', bucketMs: 1000 },
        { groupBy: 'type', filter: { limit: 5 } },
        { groupBy: 'type', filter: { types: 'Bad Type' } },
      ]) {
        await expectCode(t.store.aggregate(bad), 'FND_EVENTS_INVALID_QUERY');
      }
    });
  });
}
