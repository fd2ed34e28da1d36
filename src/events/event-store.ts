/**
 * The event store service: validates and completes events (ids, time, node, correlation and causation from
 * the current context), groups concurrent appends into shared commits, validates reads and queries, and
 * publishes telemetry. Persistence is an {@link EventStorePort} adapter (memory, SQLite, PostgreSQL).
 *
 * @module
 */
import { hostname } from 'node:os';
import { currentContext, FoundationError } from '../errors/index.js';
import type { Clock } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { classifyStoreError, GroupCommit } from './group-commit.js';
import { buildCausationTree } from './model/causation-tree.js';
import { validateExpectedVersion } from './model/expected-version.js';
import { createEventIdGenerator } from './model/ids.js';
import type { AppendRequest, EventStorePort, PreparedEvent } from './model/port.js';
import { validateAggregate, validateQuery } from './model/query-validate.js';
import type {
  AggregateGroup,
  AppendOptions,
  AppendResult,
  CausationNode,
  EventInput,
  ExpectedVersion,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './model/types.js';
import { prepareEvents } from './model/validate-event.js';
import type { InlineProjector } from './projections/inline-hook.js';
import { validateName, validateReadAllOptions, validateReadStreamOptions } from './read-options.js';
import { SubscriptionHub } from './subscriptions/subscription-hub.js';
import type {
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
  SubscriptionHandler,
  SubscriptionStatus,
} from './subscriptions/types.js';

/** Default largest event (data + metadata JSON, UTF-8 bytes): 1 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Default largest batch of one append. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;
/** Default most append requests committed in one group. */
export const DEFAULT_MAX_GROUP_REQUESTS = 256;
/** Most events `correlationChain` reads for one correlation id. */
export const MAX_CORRELATION_CHAIN = 10_000;

/** Options of an {@link EventStore}. */
export interface EventStoreOptions {
  /** Time source for event times and durations. Default: the system clock. */
  readonly clock?: Clock;
  /** Name stamped on every appended event. Default: the host name. */
  readonly node?: string;
  /** Largest event in bytes (data + metadata JSON). Default {@link DEFAULT_MAX_EVENT_BYTES}. */
  readonly maxEventBytes?: number;
  /** Largest batch of one append. Default {@link DEFAULT_MAX_BATCH_EVENTS}. */
  readonly maxBatchEvents?: number;
  /** Most append requests committed together. Default {@link DEFAULT_MAX_GROUP_REQUESTS}. */
  readonly maxGroupRequests?: number;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

const appended = telemetryEvent('events:appended');
const appendFailed = telemetryEvent('events:append_failed');

const NO_OPTIONS: AppendOptions = Object.freeze({});

/**
 * Appends, reads and queries events through a store adapter.
 *
 * Appends are all-or-nothing per call, checked against an optional expected version, idempotent for a
 * retried batch with the same ids and content, and grouped with concurrent appends into one commit; each
 * call resolves after its own commit. Methods called before `start()` or after `stop()` throw
 * `FND_SYSTEM_SERVICE_UNAVAILABLE`.
 *
 * Telemetry: `events:appended` `{ count, duration }`, `events:append_failed` `{ count }` with the error
 * code, `events:group_committed` `{ requests, events, duration }`.
 *
 * @example
 * ```ts
 * const store = new EventStore(new MemoryEventStore());
 * await store.start();
 * await store.append({ type: 'order.created', stream: 'order-1', data: { total: 42 } }, { expectedVersion: 'no_stream' });
 * const page = await store.query({ types: ['order.*'] });
 * ```
 */
export class EventStore {
  /** The adapter's kind: `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  readonly #port: EventStorePort;
  readonly #clock: Clock;
  readonly #node: string;
  readonly #maxEventBytes: number;
  readonly #maxBatchEvents: number;
  readonly #newId: () => string;
  readonly #groups: GroupCommit;
  readonly #hub: SubscriptionHub;
  #state: State = 'new';
  #transition: Promise<void> | undefined;

  /** Creates the service; nothing connects until {@link EventStore.start}. */
  constructor(port: EventStorePort, options: EventStoreOptions = {}) {
    this.kind = port.kind;
    this.#port = port;
    this.#clock = options.clock ?? systemClock;
    this.#node = options.node ?? hostname();
    this.#maxEventBytes = positiveInteger(options.maxEventBytes, 'maxEventBytes', DEFAULT_MAX_EVENT_BYTES);
    this.#maxBatchEvents = positiveInteger(
      options.maxBatchEvents,
      'maxBatchEvents',
      DEFAULT_MAX_BATCH_EVENTS,
    );
    this.#newId = createEventIdGenerator(this.#clock);
    this.#groups = new GroupCommit((requests) => port.append(requests), {
      maxGroupRequests: positiveInteger(
        options.maxGroupRequests,
        'maxGroupRequests',
        DEFAULT_MAX_GROUP_REQUESTS,
      ),
      maxConcurrentGroups: port.maxConcurrentGroups ?? 1,
      clock: this.#clock,
    });
    this.#hub = new SubscriptionHub(port, this.#clock);
  }

  /** Opens the adapter (connects, migrates). Idempotent while running. */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    if (this.#state === 'starting' && this.#transition !== undefined) return this.#transition;
    if (this.#state === 'stopping') {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', { message: 'The event store is stopping' });
    }
    this.#state = 'starting';
    this.#transition = this.#port.open().then(
      () => {
        this.#state = 'running';
      },
      (error: unknown) => {
        this.#state = 'new';
        throw classifyStoreError(error);
      },
    );
    return this.#transition;
  }

  /** Refuses new calls, waits for the appends in flight to commit, then closes the adapter. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'new') return;
    if (this.#state === 'stopping' && this.#transition !== undefined) return this.#transition;
    if (this.#state === 'starting') await this.#transition?.catch(() => undefined);
    this.#state = 'stopping';
    this.#transition = (async () => {
      try {
        await this.#hub.closeAll();
        await this.#groups.idle();
        await this.#port.close();
      } finally {
        this.#state = 'stopped';
      }
    })();
    return this.#transition;
  }

  /**
   * Appends one event or a batch, all-or-nothing.
   *
   * @throws `FND_EVENTS_INVALID_EVENT` / `FND_EVENTS_TOO_LARGE` / `FND_EVENTS_NOT_JSON` for bad input (empty or
   *   oversized batch, an expected version with events of several streams or none);
   *   `FND_EVENTS_VERSION_CONFLICT` (context: stream, expected, actual); `FND_EVENTS_ID_CONFLICT`;
   *   `FND_STORAGE_*` when the store fails.
   */
  async append(
    input: EventInput | readonly EventInput[],
    options: AppendOptions = NO_OPTIONS,
  ): Promise<AppendResult> {
    this.#assertRunning();
    const inputs: readonly EventInput[] = Array.isArray(input) ? input : [input as EventInput];
    const started = this.#clock.monotonic();
    try {
      const request = this.#prepare(inputs, options, started);
      if (this.#hub.resolving) await this.#hub.ready();
      const outcome = await this.#groups.submit(request);
      if (!outcome.ok) throw outcome.error;
      const events = outcome.events;
      if (this.#hub.active) this.#hub.committed((events[events.length - 1] as StoredEvent).position);
      if (appended.hasSubscribers) {
        appended.emit(
          { count: events.length, duration: this.#clock.monotonic() - started },
          { idempotent: outcome.idempotent },
        );
      }
      return {
        events,
        streamVersion: lastStreamVersion(events),
        position: (events[events.length - 1] as StoredEvent).position,
        idempotent: outcome.idempotent,
        ...(outcome.spooled === true ? { spooled: true } : {}),
      };
    } catch (error) {
      if (appendFailed.hasSubscribers) {
        appendFailed.emit(
          { count: inputs.length },
          { code: error instanceof FoundationError ? error.code : 'unknown' },
        );
      }
      throw error;
    }
  }

  #prepare(inputs: readonly EventInput[], options: AppendOptions, monotonic: number): AppendRequest {
    if (inputs.length === 0) throw invalidEvent('An append needs at least one event', { count: 0 });
    if (inputs.length > this.#maxBatchEvents) {
      throw invalidEvent(`A batch holds at most ${this.#maxBatchEvents} events`, {
        count: inputs.length,
        max: this.#maxBatchEvents,
      });
    }
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw invalidEvent('Append options must be an object', {});
    }
    const expectedVersion: ExpectedVersion =
      options.expectedVersion === undefined ? 'any' : validateExpectedVersion(options.expectedVersion);
    const context = currentContext();
    const events = prepareEvents(inputs, {
      now: this.#clock.now(),
      monotonic,
      node: this.#node,
      maxEventBytes: this.#maxEventBytes,
      newId: this.#newId,
      correlationId: context?.correlationId,
      causationId: context?.operationId,
    });
    let stream: string | null = null;
    if (expectedVersion !== 'any') {
      stream = (events[0] as PreparedEvent).stream;
      if (stream === null || events.some((e) => e.stream !== stream)) {
        throw invalidEvent('An append with an expected version needs events of exactly one stream', {
          expectedVersion,
        });
      }
    }
    return { events, expectedVersion, stream };
  }

  /** The event with this id, or `undefined`. */
  async get(id: string): Promise<StoredEvent | undefined> {
    this.#assertRunning();
    return this.#read(this.#port.get(validateName(id, 'id')));
  }

  /** A stream's events: forward from version `from` (default 1) or backward from `from` (default the last). */
  async readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.#assertRunning();
    const name = validateName(stream, 'stream');
    return this.#read(this.#port.readStream(name, validateReadStreamOptions(options)));
  }

  /** The global log after `afterPosition` (default 0), in position order. */
  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.#assertRunning();
    return this.#read(this.#port.readAll(validateReadAllOptions(options)));
  }

  /** Runs a query of the DSL (validated here: bad input is `FND_EVENTS_INVALID_QUERY` / `_INVALID_CURSOR`). */
  async query(query: unknown): Promise<QueryPage> {
    this.#assertRunning();
    return this.#read(this.#port.query(validateQuery(query)));
  }

  /** Counts events by type or by time bucket. */
  async aggregate(query: unknown): Promise<AggregateGroup[]> {
    this.#assertRunning();
    return this.#read(this.#port.aggregate(validateAggregate(query)));
  }

  /**
   * The events of one correlation as causation trees (roots and children by position), from at most
   * {@link MAX_CORRELATION_CHAIN} events.
   */
  async correlationChain(correlationId: string): Promise<CausationNode[]> {
    this.#assertRunning();
    const events = await this.#read(
      this.#port.byCorrelation(validateName(correlationId, 'correlationId'), MAX_CORRELATION_CHAIN),
    );
    return buildCausationTree(events);
  }

  /** The stream's current version (0 when it has no events). */
  async streamVersion(stream: string): Promise<number> {
    this.#assertRunning();
    return this.#read(this.#port.streamVersion(validateName(stream, 'stream')));
  }

  /**
   * Subscribes to the events matching `filter`, in commit order: catch-up from `options.from` (default
   * `'end'`: only events committed from now on), then live. Returns an async iterable
   * {@link Subscription}; with a `handler`, the callback form: the handler gets one event at a time (the
   * next waits for it) and a throw fails the subscription (`done` rejects with
   * `FND_EVENTS_SUBSCRIPTION_FAILED`). See docs/subscriptions.md.
   *
   * @throws `FND_EVENTS_INVALID_SUBSCRIPTION` for a bad filter or options (unknown keys, a `from` that is not
   *   a checkpoint of this store, sizes out of range).
   */
  subscribe(filter: SubscriptionFilter, options?: SubscribeOptions): Subscription;
  /** The callback form of `subscribe`: `handler` gets one matching event at a time. */
  subscribe(
    filter: SubscriptionFilter,
    options: SubscribeOptions | undefined,
    handler: SubscriptionHandler,
  ): Subscription;
  subscribe(
    filter: SubscriptionFilter,
    options?: SubscribeOptions,
    handler?: SubscriptionHandler,
  ): Subscription {
    this.#assertRunning();
    return this.#hub.subscribe(filter, options, handler);
  }

  /**
   * Installs (or removes, with `undefined`) the projector of inline projections in the adapter's append
   * transaction. Used by `Projections`; not for direct use.
   *
   * @throws `FND_EVENTS_INVALID_POLICY` when the adapter cannot run inline projections.
   */
  setInlineProjector(projector: InlineProjector | undefined): void {
    if (this.#port.setInlineProjector === undefined) {
      if (projector === undefined) return;
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: `The ${this.kind} event store adapter cannot run inline projections`,
        context: { field: 'mode', reason: 'no inline hook', kind: this.kind },
      });
    }
    this.#port.setInlineProjector(projector);
  }

  /** The status of every running subscription (lag, buffered, delivered…), for health and the control bus. */
  subscriptions(): SubscriptionStatus[] {
    return this.#hub.statuses();
  }

  async #read<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      throw classifyStoreError(error);
    }
  }

  #assertRunning(): void {
    if (this.#state !== 'running') {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: `The event store is ${this.#state === 'new' ? 'not started' : this.#state}`,
        context: { service: 'events', state: this.#state },
      });
    }
  }
}

function invalidEvent(message: string, context: Record<string, unknown>): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_EVENT', { message, context });
}

function lastStreamVersion(events: readonly StoredEvent[]): number | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const version = (events[i] as StoredEvent).streamVersion;
    if (version !== null) return version;
  }
  return null;
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `${name} must be a positive integer`,
      context: { option: name, value },
    });
  }
  return value;
}
