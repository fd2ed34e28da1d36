import { afterEach, describe, expect, it } from 'vitest';
import { Storage } from '../storage/index.js';
import { createEventStore, createEventStorePort } from './create-event-store.js';
import { MemoryEventStore } from './stores/memory-store.js';
import { SqliteEventStore } from './stores/sqlite-store.js';

describe('createEventStore', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('picks the adapter by the storage kind', () => {
    expect(createEventStorePort(new Storage('memory:'))).toBeInstanceOf(MemoryEventStore);
    expect(createEventStorePort(new Storage('sqlite::memory:'))).toBeInstanceOf(SqliteEventStore);
    const pg = createEventStorePort(new Storage('postgres://postgres@127.0.0.1:1/test'));
    expect(pg.kind).toBe('postgres');
  });

  it('creates a working store on SQLite that migrates at start', async () => {
    const storage = new Storage('sqlite::memory:');
    await storage.open();
    const events = createEventStore(storage, { node: 'unit' });
    cleanups.push(async () => {
      await events.stop();
      await storage.close();
    });
    expect(events.kind).toBe('sqlite');
    await events.start();
    const { events: stored } = await events.append({ type: 'a.b', stream: 's' });
    expect(stored[0]).toMatchObject({ node: 'unit', streamVersion: 1, position: 1 });
    expect(await events.readStream('s')).toEqual(stored);
  });

  it('creates a memory store', async () => {
    const events = createEventStore(new Storage('memory:'));
    await events.start();
    cleanups.push(() => events.stop());
    expect(events.kind).toBe('memory');
    await events.append({ type: 'a.b' });
    expect(await events.readAll()).toHaveLength(1);
  });
});
