/**
 * The subscription contract on a partitioned `foundation_events` (daily partitions): commit-order reads by
 * `(tx, position)` and live delivery behave as on the plain table.
 */
import { EventStore } from '../../src/events/event-store.js';
import { convertToPartitioned } from '../../src/events/stores/postgres-partitioning.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { subscriptionContract } from '../contracts/subscription.contract.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';

describePg('PostgreSQL subscriptions, partitioned', () => {
  subscriptionContract(
    'postgres partitioned',
    async () => {
      const schema = await createTestSchema();
      const storage = new Storage(schema.url);
      await storage.open();
      const store = new EventStore(new PostgresEventStore(storage));
      await store.start();
      const handle = storage.handle();
      if (handle.kind !== 'postgres') throw new Error('not postgres');
      await convertToPartitioned(handle.pool, handle.schema, { interval: 'day', premake: 1 }, Date.now());
      return {
        store,
        cleanup: async () => {
          await store.stop();
          await storage.close();
          await schema.drop();
        },
      };
    },
    10,
  );
});
