/**
 * Event-sourced aggregates in the decide / evolve style: a {@link Decider} holds the pure domain logic,
 * {@link aggregate} rehydrates a stream's state, decides on a command, appends the decided events with
 * optimistic concurrency, and retries on a version conflict.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../errors/index.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import type { EventStore } from './event-store.js';
import type { EventInput, ExpectedVersion, StoredEvent } from './model/types.js';
import { MAX_READ_LIMIT } from './model/types.js';
import type { AggregateSnapshotOptions } from './snapshots/aggregate-snapshots.js';
import { snapshotPolicy } from './snapshots/aggregate-snapshots.js';

/**
 * An event a decider returns: an {@link EventInput} whose stream the aggregate sets. A decider may leave
 * `stream` out (usual) or give the handled stream; any other stream is `FND_EVENTS_INVALID_EVENT`.
 */
export type NewEvent = EventInput;

/**
 * The pure domain logic of an aggregate.
 *
 * @typeParam State - the state rebuilt from a stream's events.
 * @typeParam Command - what callers ask the aggregate to do.
 * @typeParam Event - the events `decide` returns.
 */
export interface Decider<State, Command, Event extends NewEvent = NewEvent> {
  /** The state of a stream without events. Called once per load, so it may return a fresh object. */
  readonly initialState: () => State;
  /** Folds one stored event into the state. Pure: no I/O, no clock, same input → same output. */
  readonly evolve: (state: State, event: StoredEvent) => State;
  /**
   * The events that answer a command in a state (empty: nothing happens). Pure. Throws a
   * `FoundationError` to reject the command; nothing is appended then.
   */
  readonly decide: (command: Command, state: State) => readonly Event[];
}

/** Options of {@link aggregate}. */
export interface AggregateOptions<State = unknown> {
  /**
   * How many times `handle` reloads and decides again after `FND_EVENTS_VERSION_CONFLICT` before it
   * rethrows the conflict. Default {@link DEFAULT_AGGREGATE_MAX_RETRIES}; 0 disables retries.
   */
  readonly maxRetries?: number;
  /**
   * Snapshots: after an append that crosses a multiple of `every`, the state is saved; `load` (and so
   * `handle`) starts from the stream's snapshot of this `kind` and reads only the events after it. A
   * snapshot ahead of its stream (e.g. after a restore) is ignored; a failing snapshot store never fails a
   * command or a load. See `docs/event-sourcing.md`.
   */
  readonly snapshots?: AggregateSnapshotOptions<State>;
}

/** Default retries of a command after a version conflict. */
export const DEFAULT_AGGREGATE_MAX_RETRIES = 3;

/** What an aggregate needs of the event store. {@link EventStore} provides it. */
export type AggregateEventStore = Pick<EventStore, 'readStream' | 'append'>;

/** A stream's state and the version it was rebuilt at (0: the stream has no events). */
export interface LoadedAggregate<State> {
  /** The state folded from the stream's events. */
  readonly state: State;
  /** The stream version the state was rebuilt at (0 when the stream has no events). */
  readonly version: number;
}

/** The outcome of a handled command: the new state and version, and the events appended (maybe none). */
export interface HandledCommand<State> extends LoadedAggregate<State> {
  /** The events the command appended, maybe none. */
  readonly events: readonly StoredEvent[];
}

/** An aggregate bound to an event store: see {@link aggregate}. */
export interface Aggregate<State, Command> {
  /**
   * Rebuilds a stream's state by folding its events (read in batches of {@link MAX_READ_LIMIT}), from the
   * stream's snapshot when snapshots are on and one exists, else from the start.
   */
  load(stream: string): Promise<LoadedAggregate<State>>;
  /**
   * Loads the stream, decides on the command, appends the decided events expecting the loaded version
   * (`no_stream` when 0) and evolves the state with the stored events. On a version conflict it reloads
   * and decides again, up to `maxRetries` times, then rethrows the conflict. With snapshots, an append that
   * crosses a multiple of `every` saves the new state before returning (a failed save is only reported).
   *
   * @throws the decider's `FoundationError` when it rejects the command; `FND_SYSTEM_INTERNAL` (with the
   *   cause) when `decide` or `evolve` throws anything else; `FND_EVENTS_INVALID_EVENT` when a decided
   *   event names another stream; `FND_EVENTS_VERSION_CONFLICT` when retries ran out; any error of the
   *   store's `append` / `readStream`.
   */
  handle(stream: string, command: Command): Promise<HandledCommand<State>>;
}

const retried = telemetryEvent('events:aggregate_retried');

/**
 * Binds a {@link Decider} to an event store.
 *
 * Telemetry: `events:aggregate_retried` `{ attempt }` with the stream, on each retry after a conflict;
 * with snapshots, `events:snapshot_failed` and `events:snapshot_ignored` (see `snapshotPolicy`).
 *
 * @example
 * ```ts
 * const counter = aggregate(store, {
 *   initialState: () => 0,
 *   evolve: (n, event) => (event.type === 'counter.added' ? n + Number(event.data) : n),
 *   decide: (add: number) => (add === 0 ? [] : [{ type: 'counter.added', data: add }]),
 * });
 * const { state, version } = await counter.handle('counter-1', 5);
 * ```
 */
export function aggregate<State, Command, Event extends NewEvent = NewEvent>(
  store: AggregateEventStore,
  decider: Decider<State, Command, Event>,
  options: AggregateOptions<State> = {},
): Aggregate<State, Command> {
  const maxRetries = options.maxRetries ?? DEFAULT_AGGREGATE_MAX_RETRIES;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: 'maxRetries must be a non-negative integer',
      context: { option: 'maxRetries', value: maxRetries },
    });
  }
  const snapshots = options.snapshots === undefined ? undefined : snapshotPolicy(options.snapshots);

  const fold = (state: State, events: readonly StoredEvent[]): State => {
    let next = state;
    for (const event of events) next = guarded('evolve', () => decider.evolve(next, event));
    return next;
  };

  /** Folds the events after `from` into `from.state`. */
  const foldAfter = async (stream: string, from: LoadedAggregate<State>): Promise<LoadedAggregate<State>> => {
    let { state, version } = from;
    for (;;) {
      const batch = await store.readStream(stream, {
        from: version + 1,
        direction: 'forward',
        limit: MAX_READ_LIMIT,
      });
      state = fold(state, batch);
      const last = batch[batch.length - 1];
      if (last?.streamVersion != null) version = last.streamVersion;
      if (batch.length < MAX_READ_LIMIT) return { state, version };
    }
  };

  const load = async (stream: string): Promise<LoadedAggregate<State>> => {
    const snapshot = await snapshots?.read(stream);
    if (snapshots !== undefined && snapshot !== undefined) {
      const loaded = await foldAfter(stream, snapshot);
      if (loaded.version > snapshot.version) return loaded;
      // Nothing after the snapshot: it is current only if the stream really has its last event.
      const last = await store.readStream(stream, { from: snapshot.version, direction: 'forward', limit: 1 });
      if (last[0]?.streamVersion === snapshot.version) return loaded;
      snapshots.ignored(stream, snapshot.version, await streamVersionBefore(stream, snapshot.version));
    }
    return foldAfter(stream, { state: guarded('initialState', () => decider.initialState()), version: 0 });
  };

  /** The stream's version, known to be below `bound`: the last event of a backward read. */
  const streamVersionBefore = async (stream: string, bound: number): Promise<number> => {
    const last = await store.readStream(stream, { from: bound, direction: 'backward', limit: 1 });
    return last[0]?.streamVersion ?? 0;
  };

  const attempt = async (stream: string, command: Command): Promise<HandledCommand<State>> => {
    const loaded = await load(stream);
    const decided = guarded('decide', () => decider.decide(command, loaded.state));
    const inputs = withStream(decided, stream);
    if (inputs.length === 0) return { ...loaded, events: [] };
    const expectedVersion: ExpectedVersion = loaded.version === 0 ? 'no_stream' : loaded.version;
    const result = await store.append(inputs, { expectedVersion });
    const state = fold(loaded.state, result.events);
    const version = result.streamVersion ?? loaded.version;
    if (snapshots?.due(loaded.version, version) === true) await snapshots.write(stream, version, state);
    return { state, version, events: result.events };
  };

  const handle = async (stream: string, command: Command): Promise<HandledCommand<State>> => {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(stream, command);
      } catch (error) {
        if (!isFoundationError(error, 'FND_EVENTS_VERSION_CONFLICT') || retry >= maxRetries) throw error;
        retried.emit({ attempt: retry + 1 }, { stream });
      }
    }
  };

  return { load, handle };
}

/** Sets the stream on each decided event; another stream, or a non-array decision, is refused. */
function withStream(decided: readonly NewEvent[], stream: string): EventInput[] {
  if (!Array.isArray(decided)) {
    throw new FoundationError('FND_EVENTS_INVALID_EVENT', {
      message: 'decide must return an array of events',
      context: { stream },
    });
  }
  return decided.map((event: NewEvent, index) => {
    if (typeof event !== 'object' || (event as unknown) === null) {
      throw new FoundationError('FND_EVENTS_INVALID_EVENT', {
        message: 'decide returned an event that is not an object',
        context: { stream, index },
      });
    }
    if (event.stream !== undefined && event.stream !== stream) {
      throw new FoundationError('FND_EVENTS_INVALID_EVENT', {
        message: `A decided event names another stream than the handled one`,
        context: { stream, eventStream: event.stream, index },
      });
    }
    return { ...event, stream };
  });
}

/** Runs decider code: a FoundationError passes through, anything else becomes FND_SYSTEM_INTERNAL. */
function guarded<T>(step: 'initialState' | 'evolve' | 'decide', run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isFoundationError(error)) throw error;
    throw new FoundationError('FND_SYSTEM_INTERNAL', {
      message: `The decider's ${step} threw`,
      context: { step },
      cause: error,
    });
  }
}
