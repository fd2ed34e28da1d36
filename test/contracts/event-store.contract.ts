/**
 * The event store contract: one suite every adapter passes (memory, SQLite file and `:memory:`,
 * PostgreSQL). Each case makes a fresh store with `makeStore` and asserts stored values.
 *
 * @example
 * ```ts
 * eventStoreContract('memory', async () => {
 *   const store = new EventStore(new MemoryEventStore());
 *   await store.start();
 *   return { store, cleanup: () => store.stop() };
 * });
 * ```
 *
 * @module
 */
import { describe } from 'vitest';
import { appendReadCases } from './event-store/append-read.js';
import { concurrencyBadInputCases } from './event-store/concurrency-bad-input.js';
import { contextChainCases } from './event-store/context-chain.js';
import type { EventStoreFixture, MakeEventStore } from './event-store/fixture.js';
import { propertyCases } from './event-store/properties.js';
import { queryCases } from './event-store/query.js';
import { versionIdempotencyCases } from './event-store/versions-idempotency.js';

export type { EventStoreFixture, MakeEventStore };

/**
 * Registers the contract suite for one adapter. `makeStore` returns a started, empty store (default
 * limits: 1 MiB events, 1000-event batches), an optional `reopen` (called after the test stopped `store`;
 * returns a started store over the same data, as a new process would open it) and a `cleanup` that
 * releases everything. Without `reopen`, the reopen case restarts the same store.
 */
export function eventStoreContract(name: string, makeStore: MakeEventStore): void {
  describe(`event store contract: ${name}`, () => {
    describe('append and read', () => {
      appendReadCases(makeStore);
    });
    describe('expected versions and idempotency', () => {
      versionIdempotencyCases(makeStore);
    });
    describe('context and correlation chains', () => {
      contextChainCases(makeStore);
    });
    describe('query and aggregate', () => {
      queryCases(makeStore);
    });
    describe('concurrency, bad input, reopen', () => {
      concurrencyBadInputCases(makeStore);
    });
    describe('properties', () => {
      propertyCases(makeStore);
    });
  });
}
