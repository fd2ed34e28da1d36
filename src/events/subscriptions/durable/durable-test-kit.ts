/**
 * Test kit of durable subscriptions' unit tests: an event store and a checkpoint store in memory on one
 * fake clock, and a helper that lets promise chains and due timers run without real time passing.
 *
 * @module
 */
import { EventStore } from '../../event-store.js';
import type { StoredEvent } from '../../model/types.js';
import { MemoryEventStore } from '../../stores/memory-store.js';
import { FakeClock } from '../../../testing/fake-clock.js';
import { MemoryCheckpointStore } from './memory-checkpoint-store.js';

/** A memory event store and checkpoint store sharing a fake clock. */
export interface DurableKit {
  readonly clock: FakeClock;
  readonly events: EventStore;
  readonly checkpoints: MemoryCheckpointStore;
  /** Appends `count` events `test.n` round-robin over `streams` streams `s-<i>`, data `{ n }`. */
  append(count: number, streams?: number): Promise<StoredEvent[]>;
  /** Runs microtasks and due timers (without moving time) until `done()` holds; throws after many rounds. */
  until(done: () => boolean, what?: string): Promise<void>;
  stop(): Promise<void>;
}

/** Creates and starts a {@link DurableKit}. */
export async function durableKit(): Promise<DurableKit> {
  const clock = new FakeClock();
  const events = new EventStore(new MemoryEventStore(), { clock });
  await events.start();
  const checkpoints = new MemoryCheckpointStore({ clock });
  let n = 0;
  return {
    clock,
    events,
    checkpoints,
    async append(count: number, streams = 1): Promise<StoredEvent[]> {
      const out: StoredEvent[] = [];
      for (let i = 0; i < count; i++, n++) {
        const result = await events.append({ type: 'test.n', stream: `s-${n % streams}`, data: { n } });
        out.push(...result.events);
      }
      return out;
    },
    async until(done: () => boolean, what = 'condition'): Promise<void> {
      for (let round = 0; round < 2000; round++) {
        if (done()) return;
        await clock.advanceAsync(0);
      }
      throw new Error(`never reached: ${what}`);
    },
    async stop(): Promise<void> {
      await events.stop();
    },
  };
}
