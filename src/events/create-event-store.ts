/**
 * Picks the event store adapter for a storage: memory, SQLite, or PostgreSQL (loaded only when used).
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { Storage } from '../storage/index.js';
import type { EventStoreOptions } from './event-store.js';
import { EventStore } from './event-store.js';
import type { InlineProjector } from './projections/inline-hook.js';
import type { AppendOutcome, AppendRequest, CommittedPage, EventStorePort } from './model/port.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventQuery,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './model/types.js';
import type { EventSpoolOptions } from './spool/spool-options.js';
import { SpoolingEventStorePort } from './spool/spooling-port.js';
import { MemoryEventStore } from './stores/memory-store.js';
import { SqliteEventStore } from './stores/sqlite-store.js';
import type { SubscriptionFilter } from './subscriptions/types.js';

/**
 * Creates the event store service for `storage`'s kind: `memory` → {@link MemoryEventStore}, `sqlite` →
 * {@link SqliteEventStore}, `postgres` → `PostgresEventStore` (its module, and `pg`, are imported at
 * `start()`). Nothing connects until `start()`; the storage must be open by then.
 *
 * @example
 * ```ts
 * const storage = new Storage('sqlite:./.foundation/foundation.db');
 * await storage.open();
 * const events = createEventStore(storage);
 * await events.start();
 * ```
 */
export function createEventStore(storage: Storage, options: CreateEventStoreOptions = {}): EventStore {
  const { spool, ...serviceOptions } = options;
  const port = createEventStorePort(storage);
  if (spool === undefined) return new EventStore(port, serviceOptions);
  if (storage.kind !== 'postgres') {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `The event spool is for PostgreSQL stores (this storage is ${storage.kind})`,
      context: { option: 'spool', kind: storage.kind },
    });
  }
  return new EventStore(new SpoolingEventStorePort(port, spool, serviceOptions.clock), serviceOptions);
}

/** Options of {@link createEventStore}: the service's, and an optional spool for PostgreSQL stores. */
export interface CreateEventStoreOptions extends EventStoreOptions {
  /**
   * PostgreSQL only: keep appends (`expectedVersion: 'any'`) in a local spool file while the server is
   * unreachable and replay them in order when it returns (see `docs/event-spool.md`). For the spool's status
   * and health, build the {@link SpoolingEventStorePort} yourself and keep it.
   */
  readonly spool?: EventSpoolOptions;
}

/** The adapter for `storage`'s kind, without the service around it. */
export function createEventStorePort(storage: Storage): EventStorePort {
  switch (storage.kind) {
    case 'memory':
      return new MemoryEventStore();
    case 'sqlite':
      return new SqliteEventStore(storage);
    case 'postgres':
      return new LazyEventStorePort('postgres', async () => {
        const { PostgresEventStore } = await import('./stores/postgres-store.js');
        return new PostgresEventStore(storage);
      });
  }
}

/** A port whose adapter module is imported at `open()`, so `pg` loads only when a PostgreSQL store starts. */
class LazyEventStorePort implements EventStorePort {
  readonly kind: string;
  readonly #load: () => Promise<EventStorePort>;
  #port: EventStorePort | undefined;
  #inline: InlineProjector | undefined;

  constructor(kind: string, load: () => Promise<EventStorePort>) {
    this.kind = kind;
    this.#load = load;
  }

  async open(): Promise<void> {
    this.#port ??= await this.#load();
    if (this.#inline !== undefined) this.#port.setInlineProjector?.(this.#inline);
    await this.#port.open();
  }

  /** Kept until the adapter is loaded, then handed to it. */
  setInlineProjector(projector: InlineProjector | undefined): void {
    this.#inline = projector;
    this.#port?.setInlineProjector?.(projector);
  }

  async close(): Promise<void> {
    await this.#port?.close();
  }

  #target(): EventStorePort {
    // The service calls nothing but open() before open() resolved, so the adapter is loaded here.
    return this.#port as EventStorePort;
  }

  append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    return this.#target().append(requests);
  }
  get(id: string): Promise<StoredEvent | undefined> {
    return this.#target().get(id);
  }
  streamVersion(stream: string): Promise<number> {
    return this.#target().streamVersion(stream);
  }
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]> {
    return this.#target().readStream(stream, options);
  }
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]> {
    return this.#target().readAll(options);
  }
  query(query: EventQuery): Promise<QueryPage> {
    return this.#target().query(query);
  }
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]> {
    return this.#target().aggregate(query);
  }
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    return this.#target().byCorrelation(correlationId, limit);
  }
  readCommitted(filter: SubscriptionFilter, after: string, limit: number): Promise<CommittedPage> {
    const target = this.#target();
    if (target.readCommitted === undefined) return Promise.reject(unsupported(target.kind));
    return target.readCommitted(filter, after, limit);
  }
  checkpointPosition(checkpoint: string): number | undefined {
    return this.#target().checkpointPosition?.(checkpoint);
  }
  resolveFrom(from: 'start' | 'end' | number): Promise<string> {
    const target = this.#target();
    if (target.resolveFrom === undefined) return Promise.reject(unsupported(target.kind));
    return target.resolveFrom(from);
  }
  watch(listener: () => void): () => void {
    return this.#target().watch?.(listener) ?? noop;
  }
}

function noop(): void {}

function unsupported(kind: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
    message: `The ${kind} event store does not support subscriptions`,
    context: { kind },
  });
}
