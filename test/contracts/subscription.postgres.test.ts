/**
 * The subscription contract on PostgreSQL: a fresh schema per case (created, migrated, dropped after).
 */
import { createEventStore } from '../../src/events/create-event-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { subscriptionContract } from './subscription.contract.js';

describePg('PostgreSQL subscriptions', () => {
  subscriptionContract(
    'postgres',
    async () => {
      const schema = await createTestSchema();
      const storage = new Storage(schema.url);
      await storage.open();
      const store = createEventStore(storage);
      await store.start();
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
