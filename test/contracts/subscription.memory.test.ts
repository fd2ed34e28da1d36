import { EventStore } from '../../src/events/event-store.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';
import { subscriptionContract } from './subscription.contract.js';

subscriptionContract('memory', async () => {
  const store = new EventStore(new MemoryEventStore());
  await store.start();
  return { store, cleanup: () => store.stop() };
});
