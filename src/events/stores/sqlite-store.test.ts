import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { Storage } from '../../storage/index.js';
import { rejection } from '../../testing/capture.js';
import type { AppendOutcome, AppendRequest } from '../model/port.js';
import type { EventInput, ExpectedVersion } from '../model/types.js';
import { prepareEvents } from '../model/validate-event.js';
import { classifySqliteError } from './sqlite-rows.js';
import { SqliteEventStore } from './sqlite-store.js';

let counter = 0;
function request(inputs: EventInput[], expectedVersion: ExpectedVersion = 'any'): AppendRequest {
  const events = prepareEvents(inputs, {
    now: 1_700_000_000_000,
    monotonic: 1,
    node: 'n',
    maxEventBytes: 1 << 20,
    newId: () => `gen-${++counter}`,
  });
  const stream = expectedVersion === 'any' ? null : (events[0]?.stream ?? null);
  return { events, expectedVersion, stream };
}

function okEvents(outcome: AppendOutcome | undefined) {
  if (outcome?.ok !== true) throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome.events;
}

describe('SqliteEventStore', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function openStore(url = 'sqlite::memory:') {
    const storage = new Storage(url);
    await storage.open();
    const store = new SqliteEventStore(storage);
    await store.open();
    cleanups.push(async () => {
      await store.close();
      await storage.close();
    });
    return store;
  }

  it('rolls back only the failing request of a group (savepoint), the others commit', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'old', type: 'a.b', stream: 's' }])]);
    const outcomes = await store.append([
      request([{ id: 'r1', type: 'x.y', stream: 's' }]),
      // Its first event is new, its second exists with other content: the first must not stay.
      request([
        { id: 'r2-new', type: 'x.y', stream: 's' },
        { id: 'old', type: 'changed', stream: 's' },
      ]),
      request([{ id: 'r3', type: 'x.y', stream: 's' }], 2),
      request([{ id: 'old', type: 'a.b', stream: 's' }]),
    ]);
    expect(okEvents(outcomes[0]).map((e) => e.streamVersion)).toEqual([2]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'FND_EVENTS_ID_CONFLICT' } });
    expect(okEvents(outcomes[2]).map((e) => e.streamVersion)).toEqual([3]);
    expect(outcomes[3]).toMatchObject({
      ok: true,
      idempotent: true,
      events: [{ id: 'old', streamVersion: 1 }],
    });
    expect(await store.get('r2-new')).toBeUndefined();
    expect(await store.streamVersion('s')).toBe(3);
    const all = await store.readAll({ afterPosition: 0, limit: 100 });
    expect(all.map((e) => e.id)).toEqual(['old', 'r1', 'r3']);
  });

  it('checks each request against the state the earlier requests of its group left', async () => {
    const store = await openStore();
    const outcomes = await store.append([
      request([{ type: 'a.b', stream: 's' }], 'no_stream'),
      request([{ type: 'a.b', stream: 's' }], 'no_stream'),
      request([{ type: 'a.b', stream: 's' }], 1),
      request([{ id: 'dup', type: 'a.b' }]),
      request([{ id: 'dup', type: 'a.b' }]),
    ]);
    expect(outcomes.map((o) => (o.ok ? (o.idempotent ? 'idempotent' : 'ok') : o.error.code))).toEqual([
      'ok',
      'FND_EVENTS_VERSION_CONFLICT',
      'ok',
      'ok',
      'idempotent',
    ]);
  });

  it('a lone request with a partly stored batch writes nothing', async () => {
    const store = await openStore();
    await store.append([request([{ id: 'kept', type: 'a.b', stream: 's' }])]);
    const [outcome] = await store.append([
      request([
        { id: 'fresh', type: 'a.b', stream: 's' },
        { id: 'kept', type: 'a.b', stream: 's' },
      ]),
    ]);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'FND_EVENTS_ID_CONFLICT', context: { id: 'fresh' } },
    });
    expect(await store.get('fresh')).toBeUndefined();
    expect(await store.streamVersion('s')).toBe(1);
  });

  it('numbers several streams of one batch, continuing each', async () => {
    const store = await openStore();
    await store.append([request([{ type: 'a.b', stream: 'p' }])]);
    const [outcome] = await store.append([
      request([
        { type: 'a.b', stream: 'p' },
        { type: 'a.b', stream: 'q' },
        { type: 'a.b' },
        { type: 'a.b', stream: 'p' },
      ]),
    ]);
    expect(okEvents(outcome).map((e) => [e.stream, e.streamVersion])).toEqual([
      ['p', 2],
      ['q', 1],
      [null, null],
      ['p', 3],
    ]);
  });

  it('two connections on one file keep stream versions consistent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sqlite-store-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const one = await openStore(url);
    const two = await openStore(url);
    for (let i = 0; i < 5; i++) {
      await one.append([request([{ type: 'a.b', stream: 's' }])]);
      await two.append([request([{ type: 'a.b', stream: 's' }])]);
    }
    const [conflict] = await one.append([request([{ type: 'a.b', stream: 's' }], 9)]);
    expect(conflict).toMatchObject({ ok: false, error: { context: { actual: 10 } } });
    const read = await two.readStream('s', { direction: 'forward', from: 1, limit: 100 });
    expect(read.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('rejects with FND_STORAGE_UNAVAILABLE when not open, or on a storage of another kind', async () => {
    const storage = new Storage('sqlite::memory:');
    await storage.open();
    cleanups.push(() => storage.close());
    const store = new SqliteEventStore(storage);
    expect(await rejection(store.append([request([{ type: 'a.b' }])]))).toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
    });
    expect(await rejection(store.get('x'))).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    const memory = new Storage('memory:');
    await memory.open();
    cleanups.push(() => memory.close());
    expect(await rejection(new SqliteEventStore(memory).open())).toBeInstanceOf(FoundationError);
  });

  it('classifies SQLite failures', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(classifySqliteError(busy)).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE', cause: busy });
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    expect(classifySqliteError(io)).toMatchObject({
      code: 'FND_STORAGE_QUERY_FAILED',
      context: { code: 'SQLITE_IOERR' },
    });
    const known = new FoundationError('FND_EVENTS_ID_CONFLICT');
    expect(classifySqliteError(known)).toBe(known);
  });

  it('keeps many distinct queries working past the statement cache bound', async () => {
    const store = await openStore();
    await store.append([request([{ type: 'a.b', data: { n: 1 } }])]);
    for (let i = 0; i < 80; i++) {
      const page = await store.query({
        types: [`a.b`],
        where: Array.from({ length: (i % 20) + 1 }, () => ({ path: 'data.n', op: 'eq' as const, value: 1 })),
        order: i % 2 === 0 ? 'asc' : 'desc',
        limit: 10,
      });
      expect(page.events).toHaveLength(1);
    }
  });
});
