/**
 * The hook through which an event store adapter runs inline projections inside its append transaction
 * (`EventStorePort.setInlineProjector`). Implemented by `InlineProjections`; adapters only call it.
 *
 * @module
 */
import type pg from 'pg';
import type { FoundationError } from '../../errors/index.js';
import type { StoredEvent } from '../model/types.js';

/**
 * Projects the events of successful append requests inside the store's transaction.
 *
 * Contract for adapters:
 * - memory and SQLite call {@link InlineProjector.projectSync} once per request that wrote events (not for an
 *   idempotent retry), after writing them and before the request is final: on SQLite inside the request's
 *   transaction or savepoint on the same connection, on memory before the events become visible. When it
 *   throws a `FoundationError` with code `FND_EVENTS_PROJECTION_FAILED`, the adapter undoes that request
 *   (rolls back its savepoint / transaction, or removes its events) and answers it with that error; the other
 *   requests of the group go on. Any other throw fails the group as a store failure would.
 * - PostgreSQL calls {@link InlineProjector.projectGroup} once per transaction, after inserting the events
 *   and before COMMIT, with the events of each request (`undefined` for requests that wrote nothing). When it
 *   answers errors for some requests, it wrote nothing: the adapter rolls back and runs the group again
 *   without those requests, answering them with their errors. An adapter with a projector registered must
 *   not use a path that commits without calling it (the one-statement fast append).
 */
export interface InlineProjector {
  /** Whether any inline projection is registered (adapters keep their fast paths when not). */
  readonly active: boolean;
  /** Memory and SQLite: projects one request's stored events, synchronously. */
  projectSync(events: readonly StoredEvent[]): void;
  /** PostgreSQL: projects a group's requests on the transaction's client; answers per-request failures. */
  projectGroup(
    client: pg.PoolClient,
    requests: readonly (readonly StoredEvent[] | undefined)[],
  ): Promise<readonly (FoundationError | undefined)[]>;
}
