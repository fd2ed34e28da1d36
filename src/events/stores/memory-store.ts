/**
 * The memory event store: the log in an array (position = index + 1), indexes by id, stream and
 * correlation id in Maps. Queries run through the shared in-memory query evaluator, so every store has
 * one semantics. Nothing survives the process.
 *
 * @module
 */
import { checkExpectedVersion } from '../model/expected-version.js';
import type {
  AppendOutcome,
  AppendRequest,
  CommittedPage,
  EventStorePort,
  PreparedEvent,
} from '../model/port.js';
import { compileMatcher, runAggregate, runQuery } from '../model/query-memory.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventQuery,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from '../model/types.js';
import type { InlineProjector } from '../projections/inline-hook.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';
import { FoundationError } from '../../errors/index.js';
import { checkExisting } from './existing-events.js';
import { parsePositionCheckpoint, positionCheckpoint } from './position-checkpoint.js';

/** Most events one {@link MemoryEventStore.readCommitted} call looks at (matching or not). */
const SCAN_WINDOW = 10_000;

/** An {@link EventStorePort} over arrays and Maps. For tests and for services that want no persistence. */
export class MemoryEventStore implements EventStorePort {
  /** Always `memory`. */
  readonly kind = 'memory';
  readonly #log: StoredEvent[] = [];
  readonly #byId = new Map<string, StoredEvent>();
  /** Each stream's events; index = stream version - 1. */
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #byCorrelation = new Map<string, StoredEvent[]>();
  /** Each stream's version: kept when retention removes its events. */
  readonly #versions = new Map<string, number>();
  #lastPosition = 0;
  readonly #lookup = (id: string): StoredEvent | undefined => this.#byId.get(id);
  #inline: InlineProjector | undefined;

  /** Runs inline projections in each append: a request whose projection throws is undone and refused. */
  setInlineProjector(projector: InlineProjector | undefined): void {
    this.#inline = projector;
  }

  /** Nothing to connect. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release; the events stay readable. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Applies each request in order against the state the earlier ones left. */
  append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    const outcomes: AppendOutcome[] = [];
    for (const request of requests) outcomes.push(this.#appendOne(request));
    return Promise.resolve(outcomes);
  }

  #appendOne(request: AppendRequest): AppendOutcome {
    const existing = checkExisting(request.events, this.#lookup);
    if (existing.kind === 'all') return { ok: true, events: existing.events, idempotent: true };
    if (existing.kind === 'conflict') return { ok: false, error: existing.error };
    if (request.stream !== null) {
      const error = checkExpectedVersion(
        request.expectedVersion,
        this.#versionOf(request.stream),
        request.stream,
      );
      if (error !== undefined) return { ok: false, error };
    }
    const stored: StoredEvent[] = [];
    for (const event of request.events) stored.push(this.#store(event));
    const inline = this.#inline;
    if (inline?.active === true) {
      try {
        inline.projectSync(stored);
      } catch (error) {
        this.#unstore(stored);
        return { ok: false, error: asProjectionError(error) };
      }
    }
    return { ok: true, events: stored, idempotent: false };
  }

  /** Takes back the events `#store` just added (the last ones of every index), newest first. */
  #unstore(stored: readonly StoredEvent[]): void {
    for (let i = stored.length - 1; i >= 0; i--) {
      const event = stored[i] as StoredEvent;
      this.#log.pop();
      this.#byId.delete(event.id);
      this.#lastPosition--;
      if (event.stream !== null) {
        const streamEvents = this.#streams.get(event.stream);
        streamEvents?.pop();
        const version = (event.streamVersion ?? 1) - 1;
        if (version === 0) {
          this.#versions.delete(event.stream);
          if (streamEvents?.length === 0) this.#streams.delete(event.stream);
        } else this.#versions.set(event.stream, version);
      }
      if (event.correlationId !== null) {
        const chain = this.#byCorrelation.get(event.correlationId);
        chain?.pop();
        if (chain?.length === 0) this.#byCorrelation.delete(event.correlationId);
      }
    }
  }

  #store(event: PreparedEvent): StoredEvent {
    let streamEvents: StoredEvent[] | undefined;
    if (event.stream !== null) {
      streamEvents = this.#streams.get(event.stream);
      if (streamEvents === undefined) {
        streamEvents = [];
        this.#streams.set(event.stream, streamEvents);
      }
    }
    const stored: StoredEvent = {
      id: event.id,
      type: event.type,
      stream: event.stream,
      streamVersion: event.stream === null ? null : this.#versionOf(event.stream) + 1,
      position: ++this.#lastPosition,
      time: event.time,
      monotonic: event.monotonic,
      correlationId: event.correlationId,
      causationId: event.causationId,
      parentId: event.parentId,
      // Stored as parsed copies of the validated JSON, so callers mutating their input change nothing here.
      data: deepFreeze(JSON.parse(event.dataJson) as StoredEvent['data']),
      metadata: deepFreeze(JSON.parse(event.metadataJson) as StoredEvent['metadata']),
      node: event.node,
    };
    Object.freeze(stored);
    this.#log.push(stored);
    this.#byId.set(stored.id, stored);
    streamEvents?.push(stored);
    if (stored.stream !== null) this.#versions.set(stored.stream, stored.streamVersion ?? 0);
    if (stored.correlationId !== null) {
      const chain = this.#byCorrelation.get(stored.correlationId);
      if (chain === undefined) this.#byCorrelation.set(stored.correlationId, [stored]);
      else chain.push(stored);
    }
    return stored;
  }

  #versionOf(stream: string): number {
    return this.#versions.get(stream) ?? 0;
  }

  /** The event with this id, or `undefined`. */
  get(id: string): Promise<StoredEvent | undefined> {
    return Promise.resolve(this.#byId.get(id));
  }

  /** The stream's current version (0 when empty). */
  streamVersion(stream: string): Promise<number> {
    return Promise.resolve(this.#versionOf(stream));
  }

  /** A slice of one stream, forward from `from` or backward from `from`. */
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]> {
    const events = this.#streams.get(stream);
    if (events === undefined) return Promise.resolve([]);
    // Binary searches, not index arithmetic: retention may have removed a stream's older events.
    if (options.direction === 'forward') {
      const start = firstIndex(events, (e) => (e.streamVersion ?? 0) >= options.from);
      return Promise.resolve(events.slice(start, start + options.limit));
    }
    const out: StoredEvent[] = [];
    const last = firstIndex(events, (e) => (e.streamVersion ?? 0) > options.from) - 1;
    for (let i = last; i >= 0 && out.length < options.limit; i--) {
      out.push(events[i] as StoredEvent);
    }
    return Promise.resolve(out);
  }

  /** Events after a position, in order. */
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]> {
    const start = firstIndex(this.#log, (e) => e.position > options.afterPosition);
    return Promise.resolve(this.#log.slice(start, start + options.limit));
  }

  /** Runs the query with the shared evaluator. */
  query(query: EventQuery): Promise<QueryPage> {
    return Promise.resolve(runQuery(this.#source(query), query));
  }

  /** Runs the aggregation with the shared evaluator. */
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]> {
    return Promise.resolve(runAggregate(this.#source(query.filter ?? {}), query));
  }

  /** The smallest candidate set for a query: its stream or correlation index when it names one. */
  #source(query: Pick<EventQuery, 'stream' | 'correlationId'>): readonly StoredEvent[] {
    if (query.stream !== undefined) return this.#streams.get(query.stream) ?? [];
    if (query.correlationId !== undefined) return this.#byCorrelation.get(query.correlationId) ?? [];
    return this.#log;
  }

  /** The correlation's events by position, at most `limit`. */
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    return Promise.resolve((this.#byCorrelation.get(correlationId) ?? []).slice(0, limit));
  }

  /**
   * Retention's hook (`src/events/retention/memory-retention.ts`): removes at most `limit` events, oldest
   * position first, for which `remove` is true, from the log and every index; stream versions stay. Returns
   * how many were removed.
   */
  removeEvents(remove: (event: StoredEvent) => boolean, limit: number): number {
    const gone = new Set<StoredEvent>();
    for (const event of this.#log) {
      if (gone.size >= limit) break;
      if (remove(event)) gone.add(event);
    }
    if (gone.size === 0) return 0;
    const keep = (list: StoredEvent[]): void => {
      let n = 0;
      for (const e of list) if (!gone.has(e)) list[n++] = e;
      list.length = n;
    };
    keep(this.#log);
    const lists = new Set<StoredEvent[]>();
    for (const event of gone) {
      this.#byId.delete(event.id);
      if (event.stream !== null) lists.add(this.#streams.get(event.stream) ?? []);
      if (event.correlationId !== null) lists.add(this.#byCorrelation.get(event.correlationId) ?? []);
    }
    for (const list of lists) keep(list);
    return gone.size;
  }

  /** Matching events after the checkpoint's position, in position order (the commit order here). */
  readCommitted(filter: SubscriptionFilter, after: string, limit: number): Promise<CommittedPage> {
    const from = parsePositionCheckpoint(after) ?? 0;
    const match = compileMatcher(filter);
    const log = this.#log;
    const lastPosition = log.length === 0 ? 0 : (log[log.length - 1] as StoredEvent).position;
    const events: StoredEvent[] = [];
    const checkpoints: string[] = [];
    let head = from;
    let more = false;
    let scanned = 0;
    for (let i = firstIndex(log, (e) => e.position > from); i < log.length; i++) {
      if (events.length >= limit || scanned >= SCAN_WINDOW) {
        more = true;
        break;
      }
      const event = log[i] as StoredEvent;
      scanned++;
      head = event.position;
      if (match(event)) {
        events.push(event);
        checkpoints.push(positionCheckpoint(event.position));
      }
    }
    return Promise.resolve({
      events,
      checkpoints,
      head: positionCheckpoint(head),
      more,
      held: false,
      lastPosition,
    });
  }

  /** The position of a checkpoint of this store (a decimal position), or `undefined`. */
  checkpointPosition(checkpoint: string): number | undefined {
    return parsePositionCheckpoint(checkpoint);
  }

  /** `start` → 0, `end` → the last position, `n` → `n`. */
  resolveFrom(from: 'start' | 'end' | number): Promise<string> {
    if (from === 'start') return Promise.resolve(positionCheckpoint(0));
    if (from === 'end') {
      const last = this.#log[this.#log.length - 1];
      return Promise.resolve(positionCheckpoint(last === undefined ? 0 : last.position));
    }
    return Promise.resolve(positionCheckpoint(from));
  }
}

/** Index of the first element of `sorted` for which `test` holds (`sorted.length` when none); `test` is monotonic. */
function firstIndex(sorted: readonly StoredEvent[], test: (event: StoredEvent) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(sorted[mid] as StoredEvent)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Freezes a parsed JSON value and everything in it, so events handed out cannot change the store. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A projection's refusal as the request's error (anything else thrown by a projector is wrapped). */
function asProjectionError(error: unknown): FoundationError {
  if (error instanceof FoundationError) return error;
  return new FoundationError('FND_EVENTS_PROJECTION_FAILED', {
    message: 'An inline projection failed',
    cause: error,
  });
}
