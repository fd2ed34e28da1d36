/**
 * Contract cases: expected versions, idempotent retries and id conflicts.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { withContext } from '../../../src/errors/index.js';
import type { MakeEventStore } from './fixture.js';
import { everything, expectCode, useStore } from './fixture.js';

/** Expected versions and idempotency. */
export function versionIdempotencyCases(make: MakeEventStore): void {
  const t = useStore(make);

  describe('expected version', () => {
    const seed = async (stream: string, n: number) => {
      for (let i = 0; i < n; i++) await t.store.append({ type: 'seeded', stream, data: { i } });
    };

    it('any: appends to a new and to an existing stream', async () => {
      const a = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'any' });
      const b = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'any' });
      expect([a.streamVersion, b.streamVersion]).toEqual([1, 2]);
    });

    it('no_stream: ok on a new stream, conflict on an existing one', async () => {
      const ok = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'no_stream' });
      expect(ok.streamVersion).toBe(1);
      const error = await expectCode(
        t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'no_stream' }),
        'FND_EVENTS_VERSION_CONFLICT',
      );
      expect(error.context).toMatchObject({ stream: 's', expected: 'no_stream', actual: 1 });
    });

    it('stream_exists: conflict on a new stream, ok on an existing one', async () => {
      const error = await expectCode(
        t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'stream_exists' }),
        'FND_EVENTS_VERSION_CONFLICT',
      );
      expect(error.context).toMatchObject({ stream: 's', expected: 'stream_exists', actual: 0 });
      await seed('s', 2);
      const ok = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 'stream_exists' });
      expect(ok.streamVersion).toBe(3);
    });

    it('exact n: ok at n, conflict with { stream, expected, actual } otherwise', async () => {
      const first = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 0 });
      expect(first.streamVersion).toBe(1);
      await seed('s', 2);
      const ok = await t.store.append(
        [
          { type: 'e', stream: 's' },
          { type: 'f', stream: 's' },
        ],
        {
          expectedVersion: 3,
        },
      );
      expect(ok.events.map((e) => e.streamVersion)).toEqual([4, 5]);
      for (const expected of [0, 3, 4, 6, 100]) {
        const error = await expectCode(
          t.store.append({ type: 'e', stream: 's' }, { expectedVersion: expected }),
          'FND_EVENTS_VERSION_CONFLICT',
        );
        expect(error.context).toEqual({ stream: 's', expected, actual: 5 });
      }
    });

    it('a conflict writes nothing', async () => {
      await seed('s', 3);
      await t.store.append({ type: 'e', stream: 'other' });
      const before = await everything(t.store);
      await expectCode(
        t.store.append(
          [
            { type: 'e', stream: 's' },
            { type: 'e', stream: 's' },
          ],
          { expectedVersion: 2 },
        ),
        'FND_EVENTS_VERSION_CONFLICT',
      );
      expect(await everything(t.store)).toEqual(before);
      expect(await t.store.streamVersion('s')).toBe(3);
      const next = await t.store.append({ type: 'e', stream: 's' }, { expectedVersion: 3 });
      expect(next.streamVersion).toBe(4);
    });

    it('an expected version needs events of exactly one stream', async () => {
      await seed('s', 1);
      const before = await everything(t.store);
      await expectCode(
        t.store.append(
          [
            { type: 'e', stream: 's' },
            { type: 'e', stream: 't' },
          ],
          { expectedVersion: 1 },
        ),
        'FND_EVENTS_INVALID_EVENT',
      );
      await expectCode(
        t.store.append({ type: 'e' }, { expectedVersion: 'no_stream' }),
        'FND_EVENTS_INVALID_EVENT',
      );
      await expectCode(
        t.store.append([{ type: 'e', stream: 's' }, { type: 'e' }], { expectedVersion: 'stream_exists' }),
        'FND_EVENTS_INVALID_EVENT',
      );
      for (const expectedVersion of [-1, 1.5, 'latest', null, {}, Number.NaN]) {
        await expectCode(
          t.store.append({ type: 'e', stream: 's' }, { expectedVersion: expectedVersion as never }),
          'FND_EVENTS_INVALID_EVENT',
        );
      }
      expect(await everything(t.store)).toEqual(before);
    });
  });

  describe('idempotency', () => {
    const batch = [
      { id: 'evt-1', type: 'order.created', stream: 'order-9', data: { total: 5, lines: [1, 2] } },
      {
        id: 'evt-2',
        type: 'order.paid',
        stream: 'order-9',
        data: { by: 'card' },
        metadata: { ip: '10.0.0.1' },
      },
      { id: 'evt-3', type: 'audit.logged', data: 'free text' },
    ];

    it('a retried batch returns the same stored events and positions and writes nothing new', async () => {
      const first = await t.store.append(batch);
      await t.store.append({ type: 'later.event', stream: 'order-9' });
      const before = await everything(t.store);
      const retry = await t.store.append(batch);
      expect(retry.idempotent).toBe(true);
      expect(retry.events).toEqual(first.events);
      expect(retry.position).toBe(first.position);
      expect(retry.streamVersion).toBe(first.streamVersion);
      expect(await everything(t.store)).toEqual(before);
    });

    it('a retry is answered even when its expected version no longer holds', async () => {
      const checked = batch.slice(0, 2);
      const first = await t.store.append(checked, { expectedVersion: 'no_stream' });
      await t.store.append({ type: 'later.event', stream: 'order-9' });
      const before = await everything(t.store);
      const retry = await t.store.append(checked, { expectedVersion: 'no_stream' });
      expect(retry).toEqual({ ...first, idempotent: true });
      expect(await t.store.append(checked, { expectedVersion: 2 })).toEqual(retry);
      expect(await everything(t.store)).toEqual(before);
    });

    it('a retry with key order changed in data is still the same event', async () => {
      const first = await t.store.append({ id: 'k-1', type: 'x.y', data: { a: 1, b: { c: 2, d: 3 } } });
      const retry = await t.store.append({ id: 'k-1', type: 'x.y', data: { b: { d: 3, c: 2 }, a: 1 } });
      expect(retry.idempotent).toBe(true);
      expect(retry.events).toEqual(first.events);
    });

    it('a retry from another context is idempotent (context ids are not content)', async () => {
      const first = await withContext({ correlationId: 'req-1' }, () =>
        t.store.append({ id: 'ctx-1', type: 'x.y', stream: 'c' }),
      );
      const retry = await withContext({ correlationId: 'req-2' }, () =>
        t.store.append({ id: 'ctx-1', type: 'x.y', stream: 'c' }),
      );
      expect(retry.idempotent).toBe(true);
      expect(retry.events).toEqual(first.events);
      expect(retry.events[0]!.correlationId).toBe('req-1');
    });

    it('the same id with other content is FND_EVENTS_ID_CONFLICT and the original stays intact', async () => {
      const first = await t.store.append(batch);
      const before = await everything(t.store);
      const changes = [
        { ...batch[0]!, data: { total: 6, lines: [1, 2] } },
        { ...batch[0]!, type: 'order.updated' },
        { ...batch[0]!, stream: 'order-10' },
        { ...batch[0]!, metadata: { changed: true } },
        { ...batch[0]!, correlationId: 'corr-x' },
        { ...batch[0]!, parentId: 'evt-3' },
      ];
      for (const changed of changes) {
        const error = await expectCode(t.store.append(changed), 'FND_EVENTS_ID_CONFLICT');
        expect(error.context).toMatchObject({ id: 'evt-1' });
      }
      expect(await t.store.get('evt-1')).toEqual(first.events[0]);
      expect(await everything(t.store)).toEqual(before);
    });

    it('a batch of which only part is stored is FND_EVENTS_ID_CONFLICT and stores nothing', async () => {
      await t.store.append(batch.slice(0, 2));
      const before = await everything(t.store);
      await expectCode(t.store.append(batch), 'FND_EVENTS_ID_CONFLICT');
      await expectCode(t.store.append([{ id: 'evt-new', type: 'n.n' }, batch[0]!]), 'FND_EVENTS_ID_CONFLICT');
      expect(await everything(t.store)).toEqual(before);
      expect(await t.store.get('evt-3')).toBeUndefined();
      expect(await t.store.get('evt-new')).toBeUndefined();
    });

    it('the same id twice in one batch is FND_EVENTS_INVALID_EVENT', async () => {
      await expectCode(
        t.store.append([
          { id: 'twice', type: 'a.b' },
          { id: 'twice', type: 'a.b' },
        ]),
        'FND_EVENTS_INVALID_EVENT',
      );
      expect(await everything(t.store)).toEqual([]);
    });
  });
}
