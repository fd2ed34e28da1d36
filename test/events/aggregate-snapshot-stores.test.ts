/**
 * The snapshot stores (memory, SQLite, PostgreSQL) against one contract: load what was saved, one snapshot
 * per (stream, kind), an upsert that never moves backwards, JSON states round-trip, bad arguments refused;
 * and the aggregate helper reading its snapshots back on the durable stores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate, type Decider } from '../../src/events/aggregate.js';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { JsonValue } from '../../src/events/model/types.js';
import { createSnapshotStore, type OpenableSnapshotStore } from '../../src/events/snapshots/index.js';
import type { Clock } from '../../src/kernel/clock.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

/** A fixed wall clock: every snapshot's `time` is 1_700_000_000_000. */
const NOW = 1_700_000_000_000;
const fixedClock: Clock = {
  now: () => NOW,
  monotonic: () => 0,
  setTimeout: () => ({ cancel: () => undefined }),
};

/** A counter: `add` appends one `counter.added` event; the state is the running total. */
const counter: Decider<number, number> = {
  initialState: () => 0,
  evolve: (total, event) =>
    event.type === 'counter.added' && typeof event.data === 'number' ? total + event.data : total,
  decide: (amount) => (amount === 0 ? [] : [{ type: 'counter.added', data: amount }]),
};

interface Fixture {
  readonly storage: Storage;
  readonly snapshots: OpenableSnapshotStore;
  /** The stored `time` of a snapshot (undefined for memory, which keeps none). */
  readonly time: (stream: string, kind: string) => Promise<number | undefined>;
}

/** The contract every snapshot store meets. */
function snapshotContract(setup: () => Fixture): void {
  let f: Fixture;
  beforeAll(() => {
    f = setup();
  });

  it('loads nothing for an unknown stream or kind', async () => {
    expect(await f.snapshots.load('none', 'k@1')).toBeUndefined();
  });

  it('saves and loads JSON states per (stream, kind)', async () => {
    const state: JsonValue = {
      balance: 12.5,
      owner: 'zoë',
      tags: ['a', 'b'],
      nested: { ok: true, none: null },
    };
    await f.snapshots.save('acc-1', 'account@1', 3, state);
    await f.snapshots.save('acc-1', 'account@2', 5, [1, 2, 3]);
    await f.snapshots.save('acc-2', 'account@1', 7, 'plain');
    expect(await f.snapshots.load('acc-1', 'account@1')).toEqual({ version: 3, state });
    expect(await f.snapshots.load('acc-1', 'account@2')).toEqual({ version: 5, state: [1, 2, 3] });
    expect(await f.snapshots.load('acc-2', 'account@1')).toEqual({ version: 7, state: 'plain' });
    const time = await f.time('acc-1', 'account@1');
    if (f.storage.kind !== 'memory') expect(time).toBe(NOW);
  });

  it('moves forward only: an older or equal version never replaces the stored snapshot', async () => {
    await f.snapshots.save('fwd', 'k@1', 10, { v: 10 });
    await f.snapshots.save('fwd', 'k@1', 4, { v: 4 });
    await f.snapshots.save('fwd', 'k@1', 10, { v: 'again' });
    expect(await f.snapshots.load('fwd', 'k@1')).toEqual({ version: 10, state: { v: 10 } });
    await f.snapshots.save('fwd', 'k@1', 11, { v: 11 });
    expect(await f.snapshots.load('fwd', 'k@1')).toEqual({ version: 11, state: { v: 11 } });
  });

  it('keeps the highest version when saves race', async () => {
    await Promise.all([5, 9, 2, 8, 7].map((v) => f.snapshots.save('race', 'k@1', v, v)));
    expect(await f.snapshots.load('race', 'k@1')).toEqual({ version: 9, state: 9 });
  });

  it('refuses an empty stream or kind, a bad version, and a state that is not JSON', async () => {
    const invalid = { code: 'FND_DATA_INVALID_INPUT' };
    await expect(f.snapshots.load('', 'k')).rejects.toMatchObject(invalid);
    await expect(f.snapshots.save('s', '', 1, 1)).rejects.toMatchObject(invalid);
    await expect(f.snapshots.save('s', 'k', 0, 1)).rejects.toMatchObject(invalid);
    await expect(f.snapshots.save('s', 'k', 1.5, 1)).rejects.toMatchObject(invalid);
    await expect(f.snapshots.save('s', 'k', 1, undefined as unknown as JsonValue)).rejects.toMatchObject({
      code: 'FND_EVENTS_NOT_JSON',
    });
    expect(await f.snapshots.load('s', 'k')).toBeUndefined();
  });

  it('lets the aggregate start from its snapshot', async () => {
    const events: EventStore = createEventStore(f.storage);
    await events.start();
    try {
      const options = { snapshots: { store: f.snapshots, every: 3, kind: 'counter@1' } };
      const total = aggregate(events, counter, options);
      for (let i = 1; i <= 7; i++) await total.handle('counter', i);
      expect(await f.snapshots.load('counter', 'counter@1')).toEqual({ version: 6, state: 21 });
      expect(await total.load('counter')).toEqual({ state: 28, version: 7 });
      expect(await aggregate(events, counter).load('counter')).toEqual({ state: 28, version: 7 });
    } finally {
      await events.stop();
    }
  });
}

describe('memory snapshot store', () => {
  snapshotContract(() => {
    const storage = new Storage('memory:');
    return { storage, snapshots: createSnapshotStore(storage), time: () => Promise.resolve(undefined) };
  });
});

describe('SQLite snapshot store', () => {
  let dir: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foundation-snapshots-'));
    storage = new Storage(`sqlite:${join(dir, 'snapshots.db')}`);
    await storage.open();
  });
  afterAll(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  snapshotContract(() => ({
    storage,
    snapshots: createSnapshotStore(storage, { clock: fixedClock }),
    time: (stream, kind) => {
      const handle = storage.handle();
      if (handle.kind !== 'sqlite') throw new Error('not sqlite');
      const row = handle.db
        .prepare<[string, string], { time: number }>(
          'SELECT time FROM foundation_snapshots WHERE stream = ? AND kind = ?',
        )
        .get(stream, kind);
      return Promise.resolve(row?.time);
    },
  }));

  it('follows the storage across a close and a reopen, and reports a closed storage', async () => {
    const snapshots = createSnapshotStore(storage);
    await snapshots.save('reopen', 'k@1', 2, { n: 2 });
    await storage.close();
    await expect(snapshots.load('reopen', 'k@1')).rejects.toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    await storage.open();
    expect(await snapshots.load('reopen', 'k@1')).toEqual({ version: 2, state: { n: 2 } });
    await snapshots.save('reopen', 'k@1', 3, { n: 3 });
    expect(await snapshots.load('reopen', 'k@1')).toEqual({ version: 3, state: { n: 3 } });
  });
});

describePg('PostgreSQL snapshot store', () => {
  let schema: TestSchema;
  let storage: Storage;
  beforeAll(async () => {
    schema = await createTestSchema();
    storage = new Storage(schema.url);
    await storage.open();
  });
  afterAll(async () => {
    await storage.close();
    await schema.drop();
  });
  snapshotContract(() => ({
    storage,
    snapshots: createSnapshotStore(storage, { clock: fixedClock }),
    time: async (stream, kind) => {
      const handle = storage.handle();
      if (handle.kind !== 'postgres') throw new Error('not postgres');
      const result = await handle.pool.query<{ time: string }>(
        'SELECT time FROM foundation_snapshots WHERE stream = $1 AND kind = $2',
        [stream, kind],
      );
      return result.rows[0] === undefined ? undefined : Number(result.rows[0].time);
    },
  }));

  it('opens explicitly (migrations are idempotent) before the first use', async () => {
    const other = createSnapshotStore(storage);
    await other.open();
    await other.open();
    await other.save('opened', 'k@1', 1, { ok: true });
    expect(await other.load('opened', 'k@1')).toEqual({ version: 1, state: { ok: true } });
  });
});
