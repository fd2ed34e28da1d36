import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { channelName, type TelemetryMessage } from '../../kernel/telemetry.js';
import { Storage } from '../../storage/index.js';
import { aggregate, type Decider } from '../aggregate.js';
import { createEventStore } from '../create-event-store.js';
import { EventStore } from '../event-store.js';
import type { JsonValue, ReadStreamOptions, StoredEvent } from '../model/types.js';
import { MemoryEventStore } from '../stores/memory-store.js';
import { MemorySnapshotStore } from './memory-snapshot-store.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

/** A tally: `add n` appends one event per unit of n (0..3 events per command), the state sums them. */
interface Tally {
  readonly total: number;
  readonly seen: readonly number[];
}
const tally: Decider<Tally, number> = {
  initialState: () => ({ total: 0, seen: [] }),
  evolve: (state, event) =>
    event.type === 'tally.added' && typeof event.data === 'number'
      ? { total: state.total + event.data, seen: [...state.seen, event.streamVersion ?? -1] }
      : state,
  decide: (n) => Array.from({ length: n }, (_, i) => ({ type: 'tally.added', data: i + 1 })),
};

/** Counts what `load` reads. */
class CountingStore extends EventStore {
  reads: ReadStreamOptions[] = [];
  eventsRead = 0;
  override async readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    const events = await super.readStream(stream, options);
    this.reads.push(options ?? {});
    this.eventsRead += events.length;
    return events;
  }
}

/** A snapshot store recording saves, optionally failing. */
class RecordingSnapshots implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  saves: Array<[string, string, number]> = [];
  failSave = false;
  failLoad = false;
  async load(stream: string, kind: string): Promise<Snapshot | undefined> {
    if (this.failLoad) throw new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'down' });
    return this.inner.load(stream, kind);
  }
  async save(stream: string, kind: string, version: number, state: JsonValue): Promise<void> {
    this.saves.push([stream, kind, version]);
    if (this.failSave) throw new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'down' });
    await this.inner.save(stream, kind, version, state);
  }
}

function listen(name: string): { messages: TelemetryMessage[]; stop: () => void } {
  const messages: TelemetryMessage[] = [];
  const handler = (message: unknown): void => {
    messages.push(message as TelemetryMessage);
  };
  subscribe(channelName(name), handler);
  return { messages, stop: () => unsubscribe(channelName(name), handler) };
}

async function countingStore(): Promise<CountingStore> {
  const store = new CountingStore(new MemoryEventStore());
  await store.start();
  return store;
}

describe('aggregate snapshots', () => {
  let store: CountingStore;
  beforeEach(async () => {
    store = await countingStore();
  });
  afterEach(async () => {
    await store.stop();
  });

  it('rehydrates to the same state and version with and without snapshots', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 25 }),
        fc.integer({ min: 1, max: 7 }),
        async (commands, every) => {
          const events = createEventStore(new Storage('memory:'));
          await events.start();
          try {
            const snapshots = new MemorySnapshotStore();
            const withSnapshots = aggregate(events, tally, {
              snapshots: { store: snapshots, every, kind: 'tally@1' },
            });
            const plain = aggregate(events, tally);
            for (const n of commands) {
              const handled = await withSnapshots.handle('t', n);
              expect(await withSnapshots.load('t')).toEqual({
                state: handled.state,
                version: handled.version,
              });
            }
            const a = await withSnapshots.load('t');
            expect(a).toEqual(await plain.load('t'));
            // Model: a snapshot at the new version of each append that crossed a multiple of every.
            let version = 0;
            let last: number | undefined;
            for (const n of commands) {
              if (n > 0 && Math.floor((version + n) / every) > Math.floor(version / every))
                last = version + n;
              version += n;
            }
            expect(a.version).toBe(version);
            expect((await snapshots.load('t', 'tally@1'))?.version).toBe(last);
          } finally {
            await events.stop();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('loads the snapshot and reads only the events after it', async () => {
    const snapshots = new MemorySnapshotStore();
    const account = aggregate(store, tally, { snapshots: { store: snapshots, every: 5, kind: 'tally@1' } });
    for (let i = 0; i < 4; i++) await account.handle('s', 3); // versions 3, 6, 9, 12
    expect(await snapshots.load('s', 'tally@1')).toMatchObject({ version: 12 });
    await store.append({ type: 'tally.added', stream: 's', data: 10 }); // version 13, not via the aggregate
    store.reads = [];
    store.eventsRead = 0;
    const loaded = await account.load('s');
    expect(loaded.version).toBe(13);
    expect(loaded.state.total).toBe(4 * 6 + 10);
    expect(loaded.state.seen).toEqual([...Array.from({ length: 12 }, (_, i) => i + 1), 13]);
    expect(store.reads).toEqual([{ from: 13, direction: 'forward', limit: 10_000 }]);
    expect(store.eventsRead).toBe(1);
  });

  it('checks that a current snapshot matches the stream with one read of its last event', async () => {
    const snapshots = new MemorySnapshotStore();
    const account = aggregate(store, tally, { snapshots: { store: snapshots, every: 3, kind: 'tally@1' } });
    await account.handle('s', 3);
    store.reads = [];
    store.eventsRead = 0;
    expect(await account.load('s')).toEqual({ state: { total: 6, seen: [1, 2, 3] }, version: 3 });
    expect(store.reads.map((r) => r.from)).toEqual([4, 3]);
    expect(store.eventsRead).toBe(1);
  });

  it('saves a snapshot exactly when the version crosses a multiple of every', async () => {
    const snapshots = new RecordingSnapshots();
    const account = aggregate(store, tally, { snapshots: { store: snapshots, every: 4, kind: 'tally@1' } });
    const versions: number[] = [];
    for (const n of [1, 2, 1, 3, 0, 1, 3, 2, 3]) versions.push((await account.handle('s', n)).version);
    expect(versions).toEqual([1, 3, 4, 7, 7, 8, 11, 13, 16]);
    expect(snapshots.saves).toEqual([
      ['s', 'tally@1', 4],
      ['s', 'tally@1', 8],
      ['s', 'tally@1', 13],
      ['s', 'tally@1', 16],
    ]);
    expect(await snapshots.load('s', 'tally@1')).toMatchObject({ version: 16 });
  });

  it('ignores a snapshot of another kind', async () => {
    const snapshots = new MemorySnapshotStore();
    await aggregate(store, tally).handle('s', 3);
    await snapshots.save('s', 'tally@0', 3, { total: 999, seen: [] });
    const account = aggregate(store, tally, { snapshots: { store: snapshots, every: 100, kind: 'tally@1' } });
    store.reads = [];
    expect(await account.load('s')).toEqual({ state: { total: 6, seen: [1, 2, 3] }, version: 3 });
    expect(store.reads.map((r) => r.from)).toEqual([1]);
  });

  it('ignores a snapshot ahead of its stream and folds from the start', async () => {
    const snapshots = new MemorySnapshotStore();
    await aggregate(store, tally).handle('s', 2);
    await snapshots.save('s', 'tally@1', 9, { total: 999, seen: [] });
    const ignored = listen('events:snapshot_ignored');
    try {
      const account = aggregate(store, tally, {
        snapshots: { store: snapshots, every: 100, kind: 'tally@1' },
      });
      expect(await account.load('s')).toEqual({ state: { total: 3, seen: [1, 2] }, version: 2 });
      expect(ignored.messages.map((m) => [m.measurements, m.metadata])).toEqual([
        [
          { version: 9, streamVersion: 2 },
          { stream: 's', kind: 'tally@1' },
        ],
      ]);
      const handled = await account.handle('s', 1);
      expect(handled).toMatchObject({ state: { total: 4 }, version: 3 });
    } finally {
      ignored.stop();
    }
  });

  it('a failing snapshot store fails neither handle nor load, and is reported', async () => {
    const snapshots = new RecordingSnapshots();
    snapshots.failSave = true;
    const failed = listen('events:snapshot_failed');
    try {
      const account = aggregate(store, tally, { snapshots: { store: snapshots, every: 2, kind: 'tally@1' } });
      const handled = await account.handle('s', 3);
      expect(handled).toMatchObject({ state: { total: 6 }, version: 3 });
      expect(await store.streamVersion('s')).toBe(3);
      snapshots.failLoad = true;
      expect(await account.load('s')).toMatchObject({ state: { total: 6 }, version: 3 });
      expect(failed.messages.map((m) => [m.measurements, m.metadata.operation, m.metadata.code])).toEqual([
        [{ version: 3 }, 'save', 'FND_STORAGE_UNAVAILABLE'],
        [{ version: 0 }, 'load', 'FND_STORAGE_UNAVAILABLE'],
      ]);
    } finally {
      failed.stop();
    }
  });

  it('uses serialize / deserialize for states that are not JSON', async () => {
    const snapshots = new MemorySnapshotStore();
    const sets: Decider<Set<string>, string> = {
      initialState: () => new Set(),
      evolve: (set, event) => new Set([...set, typeof event.data === 'string' ? event.data : '']),
      decide: (item) => [{ type: 'item.added', data: item }],
    };
    const items = aggregate(store, sets, {
      snapshots: {
        store: snapshots,
        every: 2,
        kind: 'items@1',
        serialize: (set) => [...set].sort(),
        deserialize: (json) => new Set(json as string[]),
      },
    });
    for (const item of ['b', 'a', 'c']) await items.handle('i', item);
    expect(await snapshots.load('i', 'items@1')).toEqual({ version: 2, state: ['a', 'b'] });
    const loaded = await items.load('i');
    expect([...loaded.state].sort()).toEqual(['a', 'b', 'c']);
    expect(loaded.version).toBe(3);
  });

  it('refuses invalid snapshot options', () => {
    const store0 = new MemorySnapshotStore();
    for (const every of [0, -1, 1.5, Number.NaN]) {
      expect(() => aggregate(store, tally, { snapshots: { store: store0, every, kind: 'k' } })).toThrow(
        expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
      );
    }
    expect(() => aggregate(store, tally, { snapshots: { store: store0, every: 1, kind: '' } })).toThrow(
      expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
    );
  });
});
