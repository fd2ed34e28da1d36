/**
 * The event store contract on PostgreSQL: every case gets a fresh schema (created, migrated, dropped after).
 * Without a reachable server the suite is skipped visibly, and fails in CI.
 */
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { eventStoreContract } from './event-store.contract.js';

async function open(url: string): Promise<{ storage: Storage; store: EventStore }> {
  const storage = new Storage(url);
  await storage.open();
  const store = createEventStore(storage);
  await store.start();
  return { storage, store };
}

describePg('PostgreSQL event store', () => {
  eventStoreContract('postgres', async () => {
    const schema = await createTestSchema();
    const opened = [await open(schema.url)];
    const first = opened[0];
    if (first === undefined) throw new Error('unreachable');
    return {
      store: first.store,
      reopen: async () => {
        await first.storage.close();
        const next = await open(schema.url);
        opened.push(next);
        return next.store;
      },
      cleanup: async () => {
        for (const { storage, store } of opened) {
          await store.stop();
          await storage.close();
        }
        await schema.drop();
      },
    };
  });
});
