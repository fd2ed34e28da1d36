/**
 * The event store contract suite on a partitioned `foundation_events` (daily partitions, converted right
 * after the migrations): the partitioned table must answer exactly like the plain one.
 */
import { EventStore } from '../../src/events/event-store.js';
import { convertToPartitioned } from '../../src/events/stores/postgres-partitioning.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { eventStoreContract } from '../contracts/event-store.contract.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';

async function open(url: string): Promise<{ storage: Storage; store: EventStore }> {
  const storage = new Storage(url);
  await storage.open();
  const store = new EventStore(new PostgresEventStore(storage));
  await store.start();
  return { storage, store };
}

describePg('PostgreSQL event store, partitioned', () => {
  eventStoreContract('postgres partitioned', async () => {
    const schema = await createTestSchema();
    const first = await open(schema.url);
    const handle = first.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    await convertToPartitioned(handle.pool, handle.schema, { interval: 'day', premake: 1 }, Date.now());
    const opened = [first];
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
