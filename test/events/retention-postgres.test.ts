/** Retention on the PostgreSQL event store (plain table; the partitioned table: partitioning-*.test.ts). */
import { EventStore } from '../../src/events/event-store.js';
import { createRetentionTarget } from '../../src/events/retention/index.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { retentionCases } from './retention-cases.js';

describePg('PostgreSQL retention', () => {
  retentionCases('postgres', async (clock) => {
    const schema = await createTestSchema();
    const storage = new Storage(schema.url);
    await storage.open();
    const events = new EventStore(new PostgresEventStore(storage), { clock });
    await events.start();
    return {
      events,
      target: createRetentionTarget(storage),
      cleanup: async () => {
        await events.stop();
        await storage.close();
        await schema.drop();
      },
    };
  });
});
