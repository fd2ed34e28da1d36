/**
 * Contract cases: appending and reading back (ids, positions, stream versions, reads).
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isUuidV7 } from '../../../src/events/model/ids.js';
import { MAX_READ_LIMIT } from '../../../src/events/model/types.js';
import type { MakeEventStore } from './fixture.js';
import { everything, expectCode, ids, strictlyIncreasing, useStore } from './fixture.js';

/** Appends and reads. */
export function appendReadCases(make: MakeEventStore): void {
  const t = useStore(make);

  describe('append', () => {
    it('appends one event and returns it as stored', async () => {
      const result = await t.store.append({
        type: 'order.created',
        stream: 'order-1',
        data: { total: 42, items: [{ sku: 'a', qty: 2 }] },
        metadata: { source: 'web' },
      });
      expect(result.idempotent).toBe(false);
      expect(result.events).toHaveLength(1);
      const event = result.events[0]!;
      expect(event).toMatchObject({
        type: 'order.created',
        stream: 'order-1',
        streamVersion: 1,
        data: { total: 42, items: [{ sku: 'a', qty: 2 }] },
        metadata: { source: 'web' },
        correlationId: null,
        causationId: null,
        parentId: null,
      });
      expect(event.position).toBeGreaterThanOrEqual(1);
      expect(Number.isSafeInteger(event.position)).toBe(true);
      expect(typeof event.node).toBe('string');
      expect(event.node.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(event.time)).toBe(true);
      expect(typeof event.monotonic).toBe('number');
      expect(result.position).toBe(event.position);
      expect(result.streamVersion).toBe(1);
      expect(await t.store.get(event.id)).toEqual(event);
      expect(await everything(t.store)).toEqual([event]);
    });

    it('appends a batch in the given order with consecutive stream versions', async () => {
      const result = await t.store.append([
        { type: 'cart.opened', stream: 'cart-1', data: { n: 1 } },
        { type: 'cart.item_added', stream: 'cart-1', data: { n: 2 } },
        { type: 'cart.item_added', stream: 'cart-1', data: { n: 3 } },
      ]);
      expect(result.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(result.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(strictlyIncreasing(result.events.map((e) => e.position))).toBe(true);
      expect(result.streamVersion).toBe(3);
      expect(result.position).toBe(result.events[2]!.position);
      expect(await t.store.readStream('cart-1')).toEqual(result.events);
      expect(await t.store.streamVersion('cart-1')).toBe(3);
    });

    it('fills defaults: data {}, metadata {}, no correlation outside a context', async () => {
      const { events } = await t.store.append({ type: 'ping' });
      expect(events[0]).toMatchObject({
        data: {},
        metadata: {},
        stream: null,
        streamVersion: null,
        correlationId: null,
        causationId: null,
        parentId: null,
      });
    });

    it('generates UUIDv7 ids, unique and in append order', async () => {
      const appended: string[] = [];
      for (let i = 0; i < 20; i++) {
        const { events } = await t.store.append({ type: 'tick', data: { i } });
        appended.push(events[0]!.id);
      }
      const batch = await t.store.append(
        Array.from({ length: 30 }, (_, i) => ({ type: 'tock', data: { i } })),
      );
      appended.push(...ids(batch.events));
      expect(appended.every((id) => isUuidV7(id))).toBe(true);
      expect(new Set(appended).size).toBe(50);
      expect([...appended].sort()).toEqual(appended);
    });

    it('keeps a caller-given id', async () => {
      const { events } = await t.store.append({ id: 'my-event-1', type: 'thing.done' });
      expect(events[0]!.id).toBe('my-event-1');
      expect((await t.store.get('my-event-1'))?.type).toBe('thing.done');
    });

    it('gives strictly increasing positions across appends, streams and stream-less events', async () => {
      await t.store.append({ type: 'a.one', stream: 's-1' });
      await t.store.append([{ type: 'a.two' }, { type: 'a.three', stream: 's-2' }]);
      await t.store.append({ type: 'a.four', stream: 's-1' });
      const all = await everything(t.store);
      expect(all.map((e) => e.type)).toEqual(['a.one', 'a.two', 'a.three', 'a.four']);
      expect(strictlyIncreasing(all.map((e) => e.position))).toBe(true);
    });

    it('numbers each stream 1..n on its own, interleaved with other streams', async () => {
      for (let i = 0; i < 5; i++) {
        await t.store.append({ type: 'x.happened', stream: 'left', data: { i } });
        await t.store.append({ type: 'x.happened', stream: 'right', data: { i } });
        await t.store.append({ type: 'x.happened', data: { i } });
      }
      await t.store.append([
        { type: 'x.happened', stream: 'left', data: { i: 5 } },
        { type: 'x.happened', stream: 'right', data: { i: 5 } },
        { type: 'x.happened', stream: 'left', data: { i: 6 } },
      ]);
      const left = await t.store.readStream('left');
      const right = await t.store.readStream('right');
      expect(left.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(left.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(right.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await t.store.streamVersion('left')).toBe(7);
      expect(await t.store.streamVersion('right')).toBe(6);
    });

    it('stores events without a stream in the global log only', async () => {
      const result = await t.store.append([{ type: 'audit.logged' }, { type: 'audit.logged' }]);
      expect(result.events.map((e) => [e.stream, e.streamVersion])).toEqual([
        [null, null],
        [null, null],
      ]);
      expect(result.streamVersion).toBeNull();
      expect(ids(await everything(t.store))).toEqual(ids(result.events));
    });
  });

  describe('reads', () => {
    async function tenInStream() {
      const { events } = await t.store.append(
        Array.from({ length: 10 }, (_, i) => ({ type: 'row.added', stream: 'table', data: { i: i + 1 } })),
      );
      await t.store.append({ type: 'row.added', stream: 'other' });
      return events;
    }
    const versions = (events: readonly { streamVersion: number | null }[]) =>
      events.map((e) => e.streamVersion);

    it('readStream forward, from, limit', async () => {
      const events = await tenInStream();
      expect(await t.store.readStream('table')).toEqual(events);
      expect(versions(await t.store.readStream('table', { from: 4, limit: 3 }))).toEqual([4, 5, 6]);
      expect(versions(await t.store.readStream('table', { from: 9 }))).toEqual([9, 10]);
      expect(await t.store.readStream('table', { from: 11 })).toEqual([]);
      expect(versions(await t.store.readStream('table', { limit: 2, direction: 'forward' }))).toEqual([1, 2]);
    });

    it('readStream backward from the end or from a version', async () => {
      const events = await tenInStream();
      expect(await t.store.readStream('table', { direction: 'backward' })).toEqual([...events].reverse());
      expect(
        versions(await t.store.readStream('table', { direction: 'backward', from: 5, limit: 2 })),
      ).toEqual([5, 4]);
      expect(
        versions(await t.store.readStream('table', { direction: 'backward', from: 50, limit: 3 })),
      ).toEqual([10, 9, 8]);
      expect(versions(await t.store.readStream('table', { direction: 'backward', from: 1 }))).toEqual([1]);
    });

    it('readStream of an unknown stream is empty; its version is 0', async () => {
      await tenInStream();
      expect(await t.store.readStream('nobody')).toEqual([]);
      expect(await t.store.readStream('nobody', { direction: 'backward' })).toEqual([]);
      expect(await t.store.streamVersion('nobody')).toBe(0);
    });

    it('readAll after a position, with a limit', async () => {
      await tenInStream();
      const all = await everything(t.store);
      expect(all).toHaveLength(11);
      expect(await t.store.readAll()).toEqual(all);
      expect(await t.store.readAll({ afterPosition: all[2]!.position })).toEqual(all.slice(3));
      expect(await t.store.readAll({ afterPosition: all[2]!.position, limit: 2 })).toEqual(all.slice(3, 5));
      expect(await t.store.readAll({ afterPosition: all[10]!.position })).toEqual([]);
      expect(await t.store.readAll({ limit: 1 })).toEqual(all.slice(0, 1));
      expect(await t.store.readAll({ limit: MAX_READ_LIMIT })).toEqual(all);
    });

    it('get of an unknown id is undefined', async () => {
      await tenInStream();
      expect(await t.store.get('no-such-event')).toBeUndefined();
      expect(await t.store.get('01890a5d-ac96-774b-bcce-b302099a8057')).toBeUndefined();
    });

    it('rejects garbage read options with FND_EVENTS_INVALID_QUERY', async () => {
      await tenInStream();
      const bad: unknown[] = [
        { limit: 0 },
        { limit: MAX_READ_LIMIT + 1 },
        { limit: 1.5 },
        { limit: '10' },
        { from: 0 },
        { from: -1 },
        { from: Number.NaN },
        { direction: 'sideways' },
        { sideways: true },
        'options',
      ];
      for (const options of bad) {
        await expectCode(t.store.readStream('table', options as never), 'FND_EVENTS_INVALID_QUERY');
      }
      for (const options of [
        { afterPosition: -1 },
        { afterPosition: 'x' },
        { limit: 0 },
        { limit: 1e9 },
        7,
      ]) {
        await expectCode(t.store.readAll(options as never), 'FND_EVENTS_INVALID_QUERY');
      }
      for (const name of ['', 42, null, undefined, 'x'.repeat(1000)]) {
        await expectCode(t.store.readStream(name as never), 'FND_EVENTS_INVALID_QUERY');
        await expectCode(t.store.streamVersion(name as never), 'FND_EVENTS_INVALID_QUERY');
        await expectCode(t.store.get(name as never), 'FND_EVENTS_INVALID_QUERY');
        await expectCode(t.store.correlationChain(name as never), 'FND_EVENTS_INVALID_QUERY');
      }
    });
  });
}
