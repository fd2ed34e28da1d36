import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '../../src/events/create-event-store.js';
import { Storage } from '../../src/storage/index.js';
import { subscriptionContract } from './subscription.contract.js';

subscriptionContract('sqlite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'foundation-subscriptions-'));
  const storage = new Storage(`sqlite:${join(dir, 'events.db')}`);
  await storage.open();
  const store = createEventStore(storage);
  await store.start();
  return {
    store,
    cleanup: async () => {
      await store.stop();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
