/**
 * Fixtures of the PostgreSQL event store tests: prepared events and append requests built by hand (the
 * adapter is driven through its port), and a store over a storage of its own.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { AppendOutcome, AppendRequest, PreparedEvent } from '../../src/events/model/port.js';
import type { ExpectedVersion, StoredEvent } from '../../src/events/model/types.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { preparedOf } from '../helpers/prepared-event.js';

/** A prepared event of type `test.appended` with data `{ n }`. */
export function preparedEvent(stream: string | null, n: number, node = 'test-node'): PreparedEvent {
  return preparedOf({
    id: randomUUID(),
    type: 'test.appended',
    stream,
    time: Date.now(),
    monotonic: performance.now(),
    correlationId: null,
    causationId: null,
    parentId: null,
    data: { n },
    metadata: {},
    node,
  });
}

/**
 * A prepared event with a chosen id and fixed times (`time` 1000, `monotonic` 1, type `test.happened`, node
 * `n1`), for unit tests of planning and statements that compare ids.
 */
export function preparedWithId(
  id: string,
  stream: string | null,
  data: Record<string, number> = {},
): PreparedEvent {
  return preparedOf({
    id,
    type: 'test.happened',
    stream,
    time: 1000,
    monotonic: 1,
    correlationId: null,
    causationId: null,
    parentId: null,
    data,
    metadata: {},
    node: 'n1',
  });
}

/** A request appending `events`, checked against `expectedVersion` on the events' stream. */
export function appendRequest(
  events: readonly PreparedEvent[],
  expectedVersion: ExpectedVersion = 'any',
): AppendRequest {
  return { events, expectedVersion, stream: expectedVersion === 'any' ? null : (events[0]?.stream ?? null) };
}

/** The stored events of a successful outcome; throws the outcome's error otherwise. */
export function storedEvents(outcome: AppendOutcome | undefined): readonly StoredEvent[] {
  if (outcome === undefined) throw new Error('no outcome');
  if (!outcome.ok) throw outcome.error;
  return outcome.events;
}

/** An open storage and its opened PostgreSQL event store. */
export interface OpenStore {
  readonly storage: Storage;
  readonly store: PostgresEventStore;
  close(): Promise<void>;
}

/** Opens a storage on `url` and a PostgreSQL event store on it (migrations run). */
export async function openPgStore(url: string): Promise<OpenStore> {
  const storage = new Storage(url);
  await storage.open();
  const store = new PostgresEventStore(storage);
  await store.open();
  return {
    storage,
    store,
    async close(): Promise<void> {
      await store.close();
      await storage.close();
    },
  };
}
