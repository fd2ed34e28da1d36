/** Retention on the memory event store. */
import { EventStore } from '../../src/events/event-store.js';
import { MemoryRetentionTarget } from '../../src/events/retention/index.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';
import { retentionCases } from './retention-cases.js';

retentionCases('memory', async (clock) => {
  const port = new MemoryEventStore();
  const events = new EventStore(port, { clock });
  await events.start();
  return { events, target: new MemoryRetentionTarget(port), cleanup: () => events.stop() };
});
