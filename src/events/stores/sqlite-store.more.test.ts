/**
 * The SQLite event store's less travelled paths: a projector throwing something else than a projection
 * refusal (alone and in a group), a duplicate id inside one batch, an idempotent check under a version
 * conflict, checkpoints that are not positions, `resolveFrom`, the statement cache's eviction, and the
 * classification of non-Error throws.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Storage } from '../../storage/index.js';
import { rejection } from '../../testing/capture.js';
import type { AppendRequest, PreparedEvent } from '../model/port.js';
import type { EventInput, ExpectedVersion } from '../model/types.js';
import { prepareEvents } from '../model/validate-event.js';
import { throwingProjector } from '../../../test/helpers/inline-projector.js';
import { classifySqliteError } from './sqlite-rows.js';
import { SqliteEventStore } from './sqlite-store.js';

let counter = 0;
function request(inputs: EventInput[], expectedVersion: ExpectedVersion = 'any'): AppendRequest {
  const events = prepareEvents(inputs, {
    now: 1_700_000_000_000,
    monotonic: 1,
    node: 'n',
    maxEventBytes: 1 << 20,
    newId: () => `more-${String(++counter)}`,
  });
  const stream = expectedVersion === 'any' ? null : (events[0]?.stream ?? null);
  return { events, expectedVersion, stream };
}

describe('SqliteEventStore (more)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function openStore(): Promise<SqliteEventStore> {
    const storage = new Storage('sqlite::memory:');
    await storage.open();
    const store = new SqliteEventStore(storage);
    await store.open();
    cleanups.push(async () => {
      await store.close();
      await storage.close();
    });
    return store;
  }

  async function ids(store: SqliteEventStore): Promise<string[]> {
    return (await store.readAll({ afterPosition: 0, limit: 100 })).map((e) => e.id);
  }

  it('opening twice is harmless: the statements stay, the events stay', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'kept', type: 'a.b', stream: 's' }])]);
    await store.open();
    expect(await ids(store)).toEqual(['kept']);
    expect(await store.streamVersion('s')).toBe(1);
  });

  it('a projector throwing a plain error fails a lone request as a storage failure; nothing is written', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'before', type: 'a.b', stream: 's' }])]);
    store.setInlineProjector(throwingProjector(new Error('projector bug')));
    const error = await rejection(store.append([request([{ id: 'x', type: 'bad.one', stream: 's' }])]));
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED' });
    expect(await ids(store)).toEqual(['before']);
    expect(await store.streamVersion('s')).toBe(1);
  });

  it('a projector throwing a plain error in a group fails the whole group; nothing of it is written', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'before', type: 'a.b', stream: 's' }])]);
    store.setInlineProjector(throwingProjector(new Error('projector bug')));
    const error = await rejection(
      store.append([
        request([{ id: 'g1', type: 'a.b', stream: 's' }]),
        request([{ id: 'g2', type: 'bad.one', stream: 's' }]),
      ]),
    );
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED' });
    expect(await ids(store)).toEqual(['before']);
    expect(await store.streamVersion('s')).toBe(1);
  });

  it('a batch holding one id twice (past validation) is rolled back and rejected', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'before', type: 'a.b' }])]);
    const [one] = request([{ id: 'twice', type: 'a.b', stream: 's' }]).events as [PreparedEvent];
    const twice: AppendRequest = { events: [one, { ...one }], expectedVersion: 'any', stream: null };
    const error = await rejection(store.append([twice]));
    expect(error).toMatchObject({
      code: 'FND_STORAGE_QUERY_FAILED',
      context: { code: 'SQLITE_CONSTRAINT_UNIQUE' },
    });
    expect(await ids(store)).toEqual(['before']);
    expect(await store.streamVersion('s')).toBe(0);
  });

  it('under a version conflict, an id stored with other content is answered as an id conflict', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'e1', type: 'a.b', stream: 's' }])]);
    await store.append([request([{ id: 'e2', type: 'a.b', stream: 's' }])]);
    const [outcome] = await store.append([request([{ id: 'e1', type: 'changed', stream: 's' }], 0)]);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'FND_EVENTS_ID_CONFLICT', context: { id: 'e1' } },
    });
    // The same id with its content under the same conflict is an idempotent retry.
    const [retry] = await store.append([request([{ id: 'e1', type: 'a.b', stream: 's' }], 0)]);
    expect(retry).toMatchObject({ ok: true, idempotent: true, events: [{ id: 'e1', streamVersion: 1 }] });
    expect(await ids(store)).toEqual(['e1', 'e2']);
  });

  it('readCommitted reads from the start when the checkpoint is not a position', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'a', type: 'a.b' }]), request([{ id: 'b', type: 'a.b' }])]);
    const page = await store.readCommitted({}, 'not-a-checkpoint', 10);
    expect(page.events.map((e) => e.id)).toEqual(['a', 'b']);
    expect(page.checkpoints).toEqual(['1', '2']);
    expect(page.head).toBe('2');
    expect(page.more).toBe(false);
    expect(store.checkpointPosition('not-a-checkpoint')).toBeUndefined();
  });

  it('resolveFrom: start is 0, end the last position (0 when empty), a number itself', async () => {
    const store = await openStore();
    expect(await store.resolveFrom('start')).toBe('0');
    expect(await store.resolveFrom('end')).toBe('0');
    expect(await store.resolveFrom(7)).toBe('7');
    await store.append([request([{ type: 'a.b' }, { type: 'a.b' }])]);
    expect(await store.resolveFrom('end')).toBe('2');
  });

  it('evicts the oldest dynamic statement past 64 and prepares it again when needed', async () => {
    const store = await openStore();
    await store.append([request([{ type: 'a.b', data: { n: 1 } }])]);
    // 70 distinct SQL texts: 1 to 70 predicates.
    const query = (predicates: number) =>
      store.query({
        where: Array.from({ length: predicates }, () => ({ path: 'data.n', op: 'eq' as const, value: 1 })),
        limit: 10,
      });
    for (let i = 1; i <= 70; i++) expect((await query(i)).events).toHaveLength(1);
    // The first ones were evicted: they run again (prepared anew).
    expect((await query(1)).events).toHaveLength(1);
    expect((await query(2)).events).toHaveLength(1);
  });
});

describe('classifySqliteError (more)', () => {
  it('wraps a non-Error throw and an Error without a code as FND_STORAGE_QUERY_FAILED', () => {
    expect(classifySqliteError('just text')).toMatchObject({
      code: 'FND_STORAGE_QUERY_FAILED',
      message: 'SQLite failed: just text',
      context: {},
      cause: 'just text',
    });
    const plain = new Error('no code');
    expect(classifySqliteError(plain)).toMatchObject({
      code: 'FND_STORAGE_QUERY_FAILED',
      message: 'SQLite failed: no code',
      context: {},
      cause: plain,
    });
    expect(classifySqliteError(null)).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', context: {} });
  });
});
