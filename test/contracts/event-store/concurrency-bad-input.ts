/**
 * Contract cases: concurrent appends, bad input (a catalog error and nothing stored) and reopening.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors/index.js';
import { isFoundationError } from '../../../src/errors/index.js';
import type { EventInput } from '../../../src/events/model/types.js';
import type { MakeEventStore } from './fixture.js';
import { everything, expectCode, ids, strictlyIncreasing, useStore } from './fixture.js';

/** Concurrency, bad input, reopen. */
export function concurrencyBadInputCases(make: MakeEventStore): void {
  const t = useStore(make);

  describe('concurrency', () => {
    it('50 concurrent single appends to one stream get versions 1..50 without gaps', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.store.append({ type: 'hit.counted', stream: 'counter', data: { i } }),
        ),
      );
      const versions = results.map((r) => r.streamVersion as number).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const stream = await t.store.readStream('counter');
      expect(stream.map((e) => e.streamVersion)).toEqual(versions);
      expect(strictlyIncreasing(stream.map((e) => e.position))).toBe(true);
      expect(new Set(stream.map((e) => (e.data as { i: number }).i)).size).toBe(50);
      expect(await t.store.streamVersion('counter')).toBe(50);
    });

    it('20 concurrent appends expecting the same version: exactly one wins, the others conflict', async () => {
      await t.store.append({ type: 'account.opened', stream: 'acct' });
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          t.store.append({ type: 'account.debited', stream: 'acct', data: { i } }, { expectedVersion: 1 }),
        ),
      );
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s) => s.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      for (const loss of lost) {
        const reason: unknown = loss.reason;
        expect(isFoundationError(reason, 'FND_EVENTS_VERSION_CONFLICT')).toBe(true);
        expect(isFoundationError(reason) && reason.context).toEqual({
          stream: 'acct',
          expected: 1,
          actual: 2,
        });
      }
      expect(await t.store.streamVersion('acct')).toBe(2);
      const stream = await t.store.readStream('acct');
      expect(stream).toHaveLength(2);
      expect(stream[1]).toEqual(won[0]!.value.events[0]);
    });

    it('concurrent appends of different callers each get their own outcome', async () => {
      await t.store.append({ id: 'taken', type: 'a.b' });
      const settled = await Promise.allSettled([
        t.store.append({ type: 'ok.one', stream: 'm' }),
        t.store.append({ id: 'taken', type: 'other.content' }),
        t.store.append({ type: 'ok.two', stream: 'm' }, { expectedVersion: 'no_stream' }),
        t.store.append({ id: 'taken', type: 'a.b' }),
        t.store.append({ type: 'ok.three', stream: 'n' }),
      ]);
      expect(settled.map((s) => s.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      const codes = settled.map((s) =>
        s.status === 'rejected' && isFoundationError(s.reason) ? s.reason.code : null,
      );
      expect(codes).toEqual([null, 'FND_EVENTS_ID_CONFLICT', 'FND_EVENTS_VERSION_CONFLICT', null, null]);
      expect((await everything(t.store)).map((e) => e.type)).toEqual(['a.b', 'ok.one', 'ok.three']);
    });
  });

  describe('bad input', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const cases: [string, unknown, ErrorCode][] = [
      [
        'oversized data',
        { type: 'big.one', data: { blob: 'x'.repeat(1024 * 1024 + 1) } },
        'FND_EVENTS_TOO_LARGE',
      ],
      ['a function in data', { type: 'a.b', data: { fn: () => 1 } }, 'FND_EVENTS_NOT_JSON'],
      ['a cycle in data', { type: 'a.b', data: cycle }, 'FND_EVENTS_NOT_JSON'],
      ['a BigInt in data', { type: 'a.b', data: { n: 10n } }, 'FND_EVENTS_NOT_JSON'],
      ['a symbol in data', { type: 'a.b', data: { s: Symbol('s') } }, 'FND_EVENTS_NOT_JSON'],
      ['NaN in data', { type: 'a.b', data: { n: Number.NaN } }, 'FND_EVENTS_NOT_JSON'],
      ['U+0000 in a string', { type: 'a.b', data: { s: 'a\u0000b' } }, 'FND_EVENTS_NOT_JSON'],
      ['a Date in metadata', { type: 'a.b', metadata: { at: new Date(0) } }, 'FND_EVENTS_NOT_JSON'],
      ['an empty type', { type: '' }, 'FND_EVENTS_INVALID_EVENT'],
      ['a type with spaces', { type: 'Order Created' }, 'FND_EVENTS_INVALID_EVENT'],
      ['a type with an empty segment', { type: 'order..created' }, 'FND_EVENTS_INVALID_EVENT'],
      ['a type that is not a string', { type: 42 }, 'FND_EVENTS_INVALID_EVENT'],
      ['a missing type', { data: {} }, 'FND_EVENTS_INVALID_EVENT'],
      ['an empty stream', { type: 'a.b', stream: '' }, 'FND_EVENTS_INVALID_EVENT'],
      ['a stream that is not a string', { type: 'a.b', stream: 7 }, 'FND_EVENTS_INVALID_EVENT'],
      ['a stream with a control character', { type: 'a.b', stream: 'a\u0000b' }, 'FND_EVENTS_INVALID_EVENT'],
      ['an empty id', { type: 'a.b', id: '' }, 'FND_EVENTS_INVALID_EVENT'],
      ['an id with spaces', { type: 'a.b', id: 'has space' }, 'FND_EVENTS_INVALID_EVENT'],
      ['an id too long', { type: 'a.b', id: 'x'.repeat(129) }, 'FND_EVENTS_INVALID_EVENT'],
      ['a bad correlation id', { type: 'a.b', correlationId: 'a/b' }, 'FND_EVENTS_INVALID_EVENT'],
      ['a bad causation id', { type: 'a.b', causationId: 5 }, 'FND_EVENTS_INVALID_EVENT'],
      ['a bad parent id', { type: 'a.b', parentId: '' }, 'FND_EVENTS_INVALID_EVENT'],
      ['metadata that is an array', { type: 'a.b', metadata: [1] }, 'FND_EVENTS_INVALID_EVENT'],
      ['an unknown field', { type: 'a.b', stram: 'typo' }, 'FND_EVENTS_INVALID_EVENT'],
      ['an event that is not an object', 'order.created', 'FND_EVENTS_INVALID_EVENT'],
      ['an event that is null', null, 'FND_EVENTS_INVALID_EVENT'],
    ];

    for (const [name, input, code] of cases) {
      it(`${name} → ${code}, alone or in a batch, and nothing is stored`, async () => {
        await t.store.append({ type: 'existing.event', stream: 's' });
        const before = await everything(t.store);
        await expectCode(t.store.append(input as EventInput), code);
        const batch = [{ type: 'good.one', stream: 's' }, input, { type: 'good.two' }] as EventInput[];
        const error = await expectCode(t.store.append(batch), code);
        expect(error.context).toMatchObject({ index: 1 });
        expect(await everything(t.store)).toEqual(before);
        expect(await t.store.streamVersion('s')).toBe(1);
      });
    }

    it('an empty batch and a batch over the limit are FND_EVENTS_INVALID_EVENT', async () => {
      await expectCode(t.store.append([]), 'FND_EVENTS_INVALID_EVENT');
      await expectCode(
        t.store.append(Array.from({ length: 1001 }, () => ({ type: 'a.b' }))),
        'FND_EVENTS_INVALID_EVENT',
      );
      expect(await everything(t.store)).toEqual([]);
      const full = await t.store.append(Array.from({ length: 1000 }, () => ({ type: 'a.b' })));
      expect(full.events).toHaveLength(1000);
    });

    it('keeps JSON edge values exactly', async () => {
      const data = {
        unicode: 'é中😀\u2028',
        big: 2 ** 53 - 1,
        neg: -0.5,
        exp: 1e-7,
        nested: [[], {}, [null]],
      };
      const { events } = await t.store.append({
        type: 'edge.values',
        data,
        metadata: { 'key with space': 'ok' },
      });
      const read = await t.store.get(events[0]!.id);
      expect(read?.data).toEqual(data);
      expect(read?.metadata).toEqual({ 'key with space': 'ok' });
      expect(events[0]).toEqual(read);
    });
  });

  describe('reopen', () => {
    it('a reopened (or, without reopen, restarted) store finds everything and continues', async () => {
      const store = t.store;
      const reopen =
        t.fixture.reopen ??
        (async () => {
          await store.start();
          return store;
        });
      await t.store.append([
        { type: 'a.one', stream: 's', data: { n: 1 } },
        { type: 'a.two', stream: 's', correlationId: 'c-1' },
        { type: 'a.three' },
      ]);
      const before = await everything(t.store);
      await t.store.stop();
      const again = await reopen();
      expect(await everything(again)).toEqual(before);
      expect(await again.streamVersion('s')).toBe(2);
      const next = await again.append({ type: 'a.four', stream: 's' }, { expectedVersion: 2 });
      expect(next.streamVersion).toBe(3);
      expect(next.position).toBeGreaterThan(before[2]!.position);
      expect(ids(await again.readStream('s'))).toEqual([before[0]!.id, before[1]!.id, next.events[0]!.id]);
    });
  });
}
