import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import { Storage } from '../../src/storage/index.js';
import { eventStoreContract } from './event-store.contract.js';

async function open(url: string): Promise<{ storage: Storage; store: EventStore }> {
  const storage = new Storage(url);
  await storage.open();
  const store = createEventStore(storage);
  await store.start();
  return { storage, store };
}

eventStoreContract('sqlite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'foundation-events-'));
  const url = `sqlite:${join(dir, 'events.db')}`;
  const opened = [await open(url)];
  const first = opened[0]!;
  return {
    store: first.store,
    reopen: async () => {
      await first.storage.close();
      const next = await open(url);
      opened.push(next);
      return next.store;
    },
    cleanup: async () => {
      for (const { storage, store } of opened) {
        await store.stop();
        await storage.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
});

eventStoreContract('sqlite :memory:', async () => {
  const { storage, store } = await open('sqlite::memory:');
  return {
    store,
    cleanup: async () => {
      await store.stop();
      await storage.close();
    },
  };
});
