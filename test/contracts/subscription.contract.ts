/**
 * The live subscription contract: one suite every event store passes (memory, SQLite, PostgreSQL).
 * Catch-up then live, every kind of `from`, filters with the query DSL's semantics, commit order, resume
 * from a checkpoint, backpressure, close / abort / break, the callback form, bad options.
 *
 * @example
 * ```ts
 * subscriptionContract('memory', async () => {
 *   const store = new EventStore(new MemoryEventStore());
 *   await store.start();
 *   return { store, cleanup: () => store.stop() };
 * });
 * ```
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { EventInput, StoredEvent } from '../../src/events/model/types.js';
import type { SubscriptionFilter } from '../../src/events/subscriptions/types.js';
import { expectCode, useStore, type MakeEventStore } from './event-store/fixture.js';
import { subscriptionPropertyCases } from './subscription/properties.js';
import { reader, statusReaches, watchBuffered } from './subscription/helpers.js';

const T = 30_000;

function inputs(n: number, make: (i: number) => EventInput): EventInput[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

async function appendEach(store: EventStore, events: readonly EventInput[]): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (const event of events) out.push(...(await store.append(event)).events);
  return out;
}

/** What a query with the same filter returns, in position order (the reference for filters). */
async function expected(store: EventStore, filter: SubscriptionFilter): Promise<string[]> {
  const page = await store.query({ ...filter, limit: 1000 });
  return page.events.map((e) => e.id);
}

const ids = (events: readonly StoredEvent[]): string[] => events.map((e) => e.id);

/** Registers the subscription contract for one store kind. `propertyRuns`: fast-check runs per property. */
export function subscriptionContract(name: string, make: MakeEventStore, propertyRuns = 25): void {
  describe(`subscription contract: ${name}`, () => {
    const t = useStore(make);

    it(
      'catches up from the start, then delivers live events, in order, each once',
      { timeout: T },
      async () => {
        const before = await t.store.append(inputs(3, (i) => ({ type: 'order.created', data: { i } })));
        const sub = t.store.subscribe({}, { from: 'start' });
        const r = reader(sub);
        expect(ids(await r.take(3))).toEqual(ids(before.events));
        await statusReaches(sub, (s) => s.state === 'live');
        const live = await appendEach(
          t.store,
          inputs(4, (i) => ({ type: 'order.paid', data: { i } })),
        );
        expect(ids(await r.take(4))).toEqual(ids(live));
        const status = sub.status();
        expect(status).toMatchObject({ state: 'live', delivered: 7, buffered: 0, lag: 0 });
        expect(status.position).toBe(live[3]?.position);
        expect(sub.checkpoint).toBe(status.checkpoint);
        expect(t.store.subscriptions().map((s) => s.name)).toEqual([status.name]);
        await r.stop();
        expect(sub.status().state).toBe('closed');
        expect(t.store.subscriptions()).toEqual([]);
        await sub.done;
      },
    );

    it(
      "from 'end' (the default) delivers only what is committed after subscribe()",
      { timeout: T },
      async () => {
        await t.store.append(inputs(3, () => ({ type: 'old.event' })));
        const byDefault = reader(t.store.subscribe({}));
        const explicit = reader(t.store.subscribe({}, { from: 'end' }));
        const fresh = await appendEach(
          t.store,
          inputs(2, () => ({ type: 'new.event' })),
        );
        expect(ids(await byDefault.take(2))).toEqual(ids(fresh));
        expect(ids(await explicit.take(2))).toEqual(ids(fresh));
        await byDefault.stop();
        await explicit.stop();
      },
    );

    it(
      'from a position starts after the event at that position; 0 is the start',
      { timeout: T },
      async () => {
        const all = (await t.store.append(inputs(6, (i) => ({ type: 'x.y', data: { i } })))).events;
        const third = all[2] as StoredEvent;
        const after = reader(t.store.subscribe({}, { from: third.position }));
        expect(ids(await after.take(3))).toEqual(ids(all.slice(3)));
        const zero = reader(t.store.subscribe({}, { from: 0 }));
        expect(ids(await zero.take(6))).toEqual(ids(all));
        await after.stop();
        await zero.stop();
      },
    );

    it('resuming from a checkpoint delivers exactly the rest', { timeout: T }, async () => {
      const all = await appendEach(
        t.store,
        inputs(8, (i) => ({ type: i % 2 === 0 ? 'a.even' : 'a.odd', data: { i } })),
      );
      const first = reader(t.store.subscribe({ types: ['a.even'] }, { from: 'start' }));
      const head = await first.take(2);
      const checkpoint = first.subscription.checkpoint;
      expect(typeof checkpoint).toBe('string');
      await first.stop();
      const more = await appendEach(
        t.store,
        inputs(2, (i) => ({ type: 'a.even', data: { late: i } })),
      );
      const resumed = reader(t.store.subscribe({ types: ['a.even'] }, { from: checkpoint as string }));
      const evens = all.filter((e) => e.type === 'a.even');
      expect(ids([...head, ...(await resumed.take(4))])).toEqual(ids([...evens, ...more]));
      await resumed.stop();
    });

    it(
      'filters with the query DSL: types, stream, correlation id and where predicates',
      { timeout: T },
      async () => {
        const events: EventInput[] = [];
        for (let i = 0; i < 30; i++) {
          events.push({
            type: ['order.created', 'order.paid', 'user.joined'][i % 3] as string,
            stream: `s-${i % 4}`,
            correlationId: i % 5 === 0 ? 'corr-1' : `corr-${i}`,
            data: { total: i * 10, tags: i % 2 === 0 ? ['vip'] : ['std'], name: `n${i}` },
            metadata: { region: i % 2 === 0 ? 'eu' : 'us' },
          });
        }
        const filters: SubscriptionFilter[] = [
          { types: ['order.*'] },
          { types: ['user.joined', 'order.paid'] },
          { stream: 's-1' },
          { correlationId: 'corr-1' },
          { where: [{ path: 'data.total', op: 'gte', value: 150 }] },
          { types: ['order.*'], where: [{ path: 'data.tags', op: 'contains', value: 'vip' }] },
          {
            where: [
              { path: 'metadata.region', op: 'eq', value: 'us' },
              { path: 'data.name', op: 'ne', value: 'n3' },
            ],
          },
          { where: [{ path: 'data.missing', op: 'exists', value: true }] },
        ];
        // Half before subscribing (catch-up), half after (live).
        await appendEach(t.store, events.slice(0, 15));
        const readers = filters.map((filter) =>
          reader(t.store.subscribe(filter, { from: 'start', batchSize: 3, bufferSize: 5 })),
        );
        await appendEach(t.store, events.slice(15));
        await t.store.append({
          type: 'end.marker',
          data: { total: 1000, tags: ['vip'] },
          metadata: { region: 'us' },
        });
        for (const [i, filter] of filters.entries()) {
          const want = await expected(t.store, filter);
          const r = readers[i]!;
          expect(ids(await r.take(want.length)), JSON.stringify(filter)).toEqual(want);
          expect(r.subscription.status().delivered).toBe(want.length);
          await r.stop();
        }
      },
    );

    it(
      'backpressure: a consumer that does not pull leaves at most bufferSize events buffered',
      { timeout: T },
      async () => {
        const sub = t.store.subscribe(
          {},
          { from: 'start', batchSize: 2, bufferSize: 4, name: 'slow-consumer' },
        );
        const watch = watchBuffered('slow-consumer');
        try {
          const appended = await appendEach(
            t.store,
            inputs(20, (i) => ({ type: 'bp.event', data: { i } })),
          );
          // It reads while a whole page fits: the buffer fills to more than bufferSize - batchSize, never beyond.
          const full = await statusReaches(sub, (s) => s.buffered > 2);
          expect(full.delivered).toBe(0);
          expect(full.lag).toBeGreaterThanOrEqual(16);
          // More commits wake it; it still reads nothing while full.
          await appendEach(
            t.store,
            inputs(5, () => ({ type: 'bp.more' })),
          );
          expect(sub.status().buffered).toBe(full.buffered);
          expect(full.buffered).toBeLessThanOrEqual(4);
          const r = reader(sub);
          const got = await r.take(25);
          expect(ids(got.slice(0, 20))).toEqual(ids(appended));
          expect(watch.max).toBeLessThanOrEqual(4);
          expect(sub.status()).toMatchObject({ delivered: 25, lag: 0 });
          await r.stop();
        } finally {
          watch.stop();
        }
      },
    );

    it('close, abort and break end the subscription; close is idempotent', { timeout: T }, async () => {
      await t.store.append(inputs(3, () => ({ type: 'c.event' })));
      // close() ends a pending next().
      const a = t.store.subscribe({}, { from: 'end' });
      const pending = a[Symbol.asyncIterator]().next();
      await a.close();
      await a.close();
      expect(await pending).toEqual({ done: true, value: undefined });
      await a.done;
      expect(a.status().state).toBe('closed');
      // abort
      const controller = new AbortController();
      const b = t.store.subscribe({}, { from: 'start', signal: controller.signal });
      const rb = reader(b);
      expect((await rb.take(1)).length).toBe(1);
      controller.abort();
      await b.done;
      expect(b.status().state).toBe('closed');
      // an already aborted signal: closed at once
      const c = t.store.subscribe({}, { from: 'start', signal: AbortSignal.abort() });
      await c.done;
      expect(c.status().state).toBe('closed');
      // break out of for await
      const d = t.store.subscribe({}, { from: 'start' });
      let seen = 0;
      for await (const event of d) {
        expect(event.type).toBe('c.event');
        seen++;
        if (seen === 2) break;
      }
      await d.done;
      expect(d.status()).toMatchObject({ state: 'closed', delivered: 2, buffered: 0 });
      expect(t.store.subscriptions()).toEqual([]);
      // the store still appends and reads
      await t.store.append({ type: 'c.after' });
      expect((await t.store.readAll()).length).toBe(4);
    });

    it('stopping the store closes its subscriptions', { timeout: T }, async () => {
      const sub = t.store.subscribe({}, { from: 'start' });
      const next = sub[Symbol.asyncIterator]().next();
      await t.store.stop();
      expect(await next).toEqual({ done: true, value: undefined });
      await sub.done;
      expect(sub.status().state).toBe('closed');
      expect(() => t.store.subscribe({})).toThrow(/stopped/);
    });

    it('callback form: one event at a time, in order, with its checkpoint', { timeout: T }, async () => {
      const first = await t.store.append(inputs(5, (i) => ({ type: 'cb.event', data: { i } })));
      const got: { id: string; checkpoint: string; deliveredBefore: number; previous: string | undefined }[] =
        [];
      let running = 0;
      let maxRunning = 0;
      let release: (() => void) | undefined;
      const allSeen = new Promise<void>((resolve) => {
        release = resolve;
      });
      const sub = t.store.subscribe(
        { types: ['cb.*'] },
        { from: 'start', batchSize: 2, bufferSize: 2 },
        async (event, checkpoint) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          // The status counts an event once its handler finished: the earlier ones, not this one.
          const deliveredBefore = sub.status().delivered;
          const previous = sub.checkpoint;
          await Promise.resolve();
          got.push({ id: event.id, checkpoint, deliveredBefore, previous });
          running--;
          if (got.length === 8) release?.();
        },
      );
      const more = await appendEach(
        t.store,
        inputs(3, (i) => ({ type: 'cb.live', data: { i } })),
      );
      await allSeen;
      expect(got.map((g) => g.id)).toEqual([...ids(first.events), ...ids(more)]);
      expect(maxRunning).toBe(1);
      expect(new Set(got.map((g) => g.checkpoint)).size).toBe(8);
      expect(got.map((g) => g.deliveredBefore)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(got.map((g) => g.previous)).toEqual([undefined, ...got.slice(0, 7).map((g) => g.checkpoint)]);
      await sub.close();
      await sub.done;
      expect(sub.status().state).toBe('closed');
    });

    it(
      'callback form: a throwing handler fails the subscription with FND_EVENTS_SUBSCRIPTION_FAILED',
      { timeout: T },
      async () => {
        await t.store.append(inputs(4, (i) => ({ type: 'cb.event', data: { i } })));
        const handled: number[] = [];
        const sub = t.store.subscribe({}, { from: 'start' }, (event) => {
          const i = (event.data as { i: number }).i;
          if (i === 2) throw new Error('handler broke');
          handled.push(i);
        });
        const error = await expectCode(sub.done, 'FND_EVENTS_SUBSCRIPTION_FAILED');
        expect((error.cause as Error).message).toBe('handler broke');
        expect(handled).toEqual([0, 1]);
        expect(sub.status()).toMatchObject({ state: 'failed', delivered: 2 });
        expect(t.store.subscriptions()).toEqual([]);
        // A rejecting async handler too.
        const rejecting = t.store.subscribe({}, { from: 'start' }, () =>
          Promise.reject(new Error('async broke')),
        );
        await expectCode(rejecting.done, 'FND_EVENTS_SUBSCRIPTION_FAILED');
        expect((await t.store.readAll()).length).toBe(4);
      },
    );

    it(
      'garbage filter or options are FND_EVENTS_INVALID_SUBSCRIPTION and the data stays intact',
      { timeout: T },
      async () => {
        const stored = await t.store.append(inputs(3, (i) => ({ type: 'keep.me', data: { i } })));
        const bad: [unknown, unknown][] = [
          ['not an object', {}],
          [{ types: [42] }, {}],
          [{ types: ['Bad Type'] }, {}],
          [{ limit: 5 }, {}],
          [{ where: [{ path: 'data.x', op: 'like', value: 1 }] }, {}],
          [{ where: [{ path: 'nodata.x', op: 'eq', value: 1 }] }, {}],
          [{}, 'options'],
          [{}, { from: 'garbage' }],
          [{}, { from: '' }],
          [{}, { from: -1 }],
          [{}, { from: 1.5 }],
          [{}, { from: 'x'.repeat(201) }],
          [{}, { from: {} }],
          [{}, { batchSize: 0 }],
          [{}, { batchSize: 10_001 }],
          [{}, { bufferSize: 2, batchSize: 3 }],
          [{}, { bufferSize: 'many' }],
          [{}, { signal: {} }],
          [{}, { name: '' }],
          [{}, { name: 'x'.repeat(201) }],
          [{}, { follow: true }],
        ];
        for (const [filter, options] of bad) {
          let caught: unknown;
          try {
            t.store.subscribe(filter as SubscriptionFilter, options as never);
          } catch (error) {
            caught = error;
          }
          expect(isFoundationError(caught) && caught.code, JSON.stringify([filter, options])).toBe(
            'FND_EVENTS_INVALID_SUBSCRIPTION',
          );
        }
        expect(() => t.store.subscribe({}, {}, 'not a function' as never)).toThrow(/handler/);
        expect(t.store.subscriptions()).toEqual([]);
        expect(ids(await t.store.readAll())).toEqual(ids(stored.events));
        const r = reader(t.store.subscribe({}, { from: 'start' }));
        expect(ids(await r.take(3))).toEqual(ids(stored.events));
        await r.stop();
      },
    );

    describe('properties', () => {
      subscriptionPropertyCases(() => t.store, propertyRuns);
    });
  });
}
