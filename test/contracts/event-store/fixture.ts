/**
 * The fixture of the event store contract suite: how a store under test is made, and helpers the cases
 * share.
 *
 * @module
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { ErrorCode } from '../../../src/errors/index.js';
import { isFoundationError } from '../../../src/errors/index.js';
import type { EventStore } from '../../../src/events/event-store.js';
import type { StoredEvent } from '../../../src/events/model/types.js';

/**
 * A store under test. `store` is started and empty. `reopen`, when given, is called after the test
 * stopped `store`, and returns a started store over the same data (a new process would see). `cleanup`
 * releases everything (both stores, files, schemas).
 */
export interface EventStoreFixture {
  readonly store: EventStore;
  readonly reopen?: () => Promise<EventStore>;
  readonly cleanup: () => Promise<void>;
}

/** Makes a fresh, started, empty store for one test. */
export type MakeEventStore = () => Promise<EventStoreFixture>;

/** The current test's fixture, made before and cleaned up after each test. */
export interface StoreUnderTest {
  readonly store: EventStore;
  readonly fixture: EventStoreFixture;
}

/** Registers beforeEach / afterEach hooks that make and clean up a store for every test of the block. */
export function useStore(make: MakeEventStore): StoreUnderTest {
  let current: EventStoreFixture | undefined;
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    const fixture = current;
    current = undefined;
    await fixture?.cleanup();
  });
  const get = (): EventStoreFixture => {
    if (current === undefined) throw new Error('no store: used outside a test');
    return current;
  };
  return {
    get store() {
      return get().store;
    },
    get fixture() {
      return get();
    },
  };
}

/** Awaits `promise`, expects it to reject with a FoundationError of `code`, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode) {
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await promise;
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected a rejection with ${code}, but the promise fulfilled`);
  const error = outcome.error;
  if (!isFoundationError(error)) throw new Error(`expected a FoundationError ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

/** Every stored event, in position order (up to 10 000). */
export function everything(store: EventStore): Promise<StoredEvent[]> {
  return store.readAll({ limit: 10_000 });
}

/** Ids of events, in the given order. */
export function ids(events: readonly StoredEvent[]): string[] {
  return events.map((e) => e.id);
}

/** Whether `numbers` strictly increase. */
export function strictlyIncreasing(numbers: readonly number[]): boolean {
  for (let i = 1; i < numbers.length; i++)
    if ((numbers[i] as number) <= (numbers[i - 1] as number)) return false;
  return true;
}
