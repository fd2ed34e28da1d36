import { EventStore } from '../../src/events/event-store.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('memory', async () => {
  const store = new EventStore(new MemoryEventStore());
  await store.start();
  return { store, cleanup: () => store.stop() };
});
