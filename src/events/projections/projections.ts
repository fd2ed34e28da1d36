/**
 * The projections service: registers projection definitions, runs async ones (one runner each), installs
 * inline ones into the event store's append path, and answers reads (`get`, `list`) and `status`.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock } from '../../kernel/clock.js';
import { systemClock } from '../../kernel/clock.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import { MAX_READ_LIMIT, type JsonValue, type StoredEvent } from '../model/types.js';
import type { ProjectionSource } from './async-runner.js';
import { AsyncProjectionRunner } from './async-runner.js';
import type { InlineProjector } from './inline-hook.js';
import type { InlineRebuilder, RebuildSink } from './inline-rebuild.js';
import { LogFold } from './inline-rebuild.js';
import { InlineProjections, type PgRows } from './inline-projections.js';
import type { MemoryProjectionStore } from './memory-projection-store.js';
import type { ProjectionRecord, ProjectionStore } from './projection-store.js';
import type { SqliteProjectionStore } from './sqlite-projection-store.js';
import type {
  ListProjectionOptions,
  ProjectionDefinition,
  ProjectionRow,
  ProjectionStatus,
  RebuildProgress,
} from './types.js';
import type { ValidDefinition } from './validate-definition.js';
import {
  checkKeyArgument,
  checkProjectionName,
  validateDefinition,
  validateListOptions,
} from './validate-definition.js';

/** Default most events committed per async batch. */
export const DEFAULT_PROJECTION_BATCH = 500;

/** Where inline projections are installed: `EventStore.setInlineProjector`. */
export interface InlineProjectorTarget {
  /** Installs (or, with `undefined`, removes) the hook appends call in their transaction. */
  setInlineProjector(projector: InlineProjector | undefined): void;
}

/** How inline rebuilds read the log on memory: `EventStore.readAll`. */
export interface LogReader {
  /** Reads events of the log after `afterPosition`, by position. */
  readAll(options: { afterPosition: number; limit: number }): Promise<StoredEvent[]>;
}

/** Options of {@link Projections}. */
export interface ProjectionsOptions {
  /** The time source for timestamps and retry delays. Default: the system clock. */
  readonly clock?: Clock;
  /** Most events per async batch (1–10 000). Default {@link DEFAULT_PROJECTION_BATCH}. */
  readonly batchSize?: number;
  /** First delay before an async runner retries after a store failure, ms. Default 1000. */
  readonly retryMs?: number;
}

const rebuildStarted = telemetryEvent('events:projection_rebuild_started');
const rebuildProgress = telemetryEvent('events:projection_rebuild_progress');
const rebuilt = telemetryEvent('events:projection_rebuilt');
const projectionFailedEvent = telemetryEvent('events:projection_failed');

type State = 'new' | 'running' | 'stopped';

/**
 * Projections over an event store.
 *
 * Async projections follow the log through a subscription and commit each batch's row changes with its
 * checkpoint in one transaction (exactly-once per event). Inline projections are updated inside the append's
 * transaction: never behind, and a throwing `evolve` fails that append only; they are backfilled when first
 * registered and can be rebuilt, with appends blocked meanwhile. Definitions are validated
 * (`FND_EVENTS_INVALID_POLICY`).
 *
 * Telemetry: `events:projection_batch` `{ events, rows, position, duration }`,
 * `events:projection_rebuild_started` `{ target }`, `events:projection_rebuild_progress`
 * `{ position, target, ratio }`, `events:projection_rebuilt` `{ position, target }`,
 * `events:projection_failed` `{ position }` (metadata: projection, code), `events:projection_retry`
 * `{ delay }` (metadata: projection, code).
 *
 * @example
 * ```ts
 * const projections = new Projections(events, await createProjectionStore(storage));
 * await projections.register({ name: 'orders', filter: { types: ['order.*'] }, key: (e) => e.stream ?? undefined,
 *   initial: () => ({ count: 0 }), evolve: (s, e) => ({ count: (s as { count: number }).count + 1 }) });
 * await projections.start();
 * ```
 */
export class Projections {
  readonly #source: ProjectionSource;
  readonly #store: ProjectionStore;
  readonly #clock: Clock;
  readonly #batchSize: number;
  readonly #retryMs: number;
  readonly #definitions = new Map<string, ValidDefinition>();
  readonly #runners = new Map<string, AsyncProjectionRunner>();
  /** Inline rebuilds running in this process. */
  readonly #rebuilding = new Map<string, RebuildProgress>();
  readonly #reader: LogReader | undefined;
  #inline: InlineProjections | undefined;
  #state: State = 'new';

  /**
   * @param source - the event store (subscriptions and queries; `setInlineProjector` for inline projections)
   * @param store - where projection records and rows live (see `createProjectionStore`)
   */
  constructor(
    source: ProjectionSource & Partial<InlineProjectorTarget> & Partial<LogReader>,
    store: ProjectionStore,
    options: ProjectionsOptions = {},
  ) {
    this.#source = source;
    this.#reader = typeof source.readAll === 'function' ? (source as LogReader) : undefined;
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    const batch = options.batchSize ?? DEFAULT_PROJECTION_BATCH;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
      throw new FoundationError('FND_DATA_INVALID_INPUT', {
        message: 'batchSize must be an integer from 1 to 10000',
        context: { option: 'batchSize', value: batch },
      });
    }
    this.#batchSize = batch;
    this.#retryMs = options.retryMs ?? 1000;
  }

  /** Opens the store, installs inline projections and starts the async runners. Idempotent. */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    await this.#store.open();
    this.#inline = await this.#makeInline();
    this.#state = 'running';
    for (const def of this.#definitions.values()) await this.#activate(def);
    this.#installInline();
  }

  /**
   * Stops the async runners (after their batch in flight). Idempotent. Inline projections stay attached to
   * the event store (they are part of its append transaction, so appends made while this service is stopped
   * are still projected): {@link Projections.unregister} detaches one, {@link Projections.detachInline} all.
   */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopped';
    const runners = [...this.#runners.values()];
    this.#runners.clear();
    await Promise.all(runners.map((runner) => runner.stop()));
  }

  /**
   * Registers a projection (started right away when the service runs). An inline projection registered for
   * the first time (no record yet, a record of an async projection, or a failed one) is backfilled from the
   * whole log before this resolves (see {@link Projections.rebuild}; a throwing `evolve` rejects with
   * `FND_EVENTS_PROJECTION_FAILED` and registers nothing). Throws `FND_EVENTS_INVALID_POLICY`
   * for a bad definition, a name already registered here, or an inline projection on an event store without
   * the inline hook; nothing is registered then and stored rows are untouched.
   */
  async register<S extends JsonValue>(definition: ProjectionDefinition<S>): Promise<void> {
    const def = validateDefinition(definition);
    if (this.#definitions.has(def.name)) {
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: `Projection ${def.name} is already registered`,
        context: { field: 'name', reason: 'already registered', projection: def.name },
      });
    }
    if (def.mode === 'inline' && this.#target() === undefined) {
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: 'Inline projections need an event store with setInlineProjector',
        context: { field: 'mode', reason: 'no inline hook' },
      });
    }
    this.#definitions.set(def.name, def);
    if (this.#state !== 'running') return;
    try {
      await this.#activate(def);
      this.#installInline();
    } catch (error) {
      this.#definitions.delete(def.name);
      this.#inline?.remove(def.name);
      const runner = this.#runners.get(def.name);
      this.#runners.delete(def.name);
      await runner?.stop();
      throw error;
    }
  }

  /**
   * Detaches (and unregisters) every inline projection of this service: appends stop updating them. Their
   * stored rows stay.
   */
  detachInline(): void {
    const inline = this.#inline;
    for (const name of inline?.names() ?? []) {
      inline?.remove(name);
      this.#definitions.delete(name);
    }
    this.#target()?.setInlineProjector(undefined);
  }

  /** Stops and forgets a projection in this process; its stored record and rows stay. */
  async unregister(name: string): Promise<void> {
    this.#definitions.delete(name);
    this.#inline?.remove(name);
    const runner = this.#runners.get(name);
    this.#runners.delete(name);
    await runner?.stop();
  }

  /** The row `key` of projection `name`, or `undefined`. */
  async get<S extends JsonValue = JsonValue>(
    name: string,
    key: string,
  ): Promise<ProjectionRow<S> | undefined> {
    return (await this.#store.get(checkProjectionName(name), checkKeyArgument(key))) as
      ProjectionRow<S> | undefined;
  }

  /** Rows of projection `name` by key (code-point order), after `after`, at most `limit` (≤ 1000). */
  async list<S extends JsonValue = JsonValue>(
    name: string,
    options?: ListProjectionOptions,
  ): Promise<ProjectionRow<S>[]> {
    const { after, limit } = validateListOptions(options);
    return (await this.#store.list(checkProjectionName(name), after, limit)) as ProjectionRow<S>[];
  }

  /** The status of one projection, or `undefined` when it has no record. */
  async status(name: string): Promise<ProjectionStatus | undefined> {
    const record = await this.#store.record(checkProjectionName(name));
    return record === undefined ? undefined : this.#statusOf(record);
  }

  /** The status of every stored projection, by name. */
  async statuses(): Promise<ProjectionStatus[]> {
    return (await this.#store.records()).map((record) => this.#statusOf(record));
  }

  /**
   * Rebuilds a projection from position 0.
   *
   * Async: in one transaction deletes its rows and clears its checkpoint, marks it `rebuilding` towards the
   * last matching event's position, then replays the log. Progress is in `status().rebuild` and
   * `events:projection_rebuild_progress`; the projection is `running` again once it passed the target. Also
   * clears a failure. Returns the status right after the reset.
   *
   * Inline: with appends blocked (SQLite: one `BEGIN IMMEDIATE` transaction; PostgreSQL: a transaction
   * holding `LOCK TABLE foundation_events IN SHARE ROW EXCLUSIVE MODE`; memory: the swap happens in the tick
   * the log read ends, appends meanwhile are folded too), folds the whole log and replaces the rows by the
   * fold; resolves once done with the status (`running`). A throwing `evolve` rejects with
   * `FND_EVENTS_PROJECTION_FAILED`, leaves the rows as they were and marks the projection `failed`.
   *
   * @throws `FND_EVENTS_INVALID_POLICY` for an unregistered projection.
   */
  async rebuild(name: string): Promise<ProjectionStatus> {
    this.#assertRunning();
    const def = this.#definitions.get(checkProjectionName(name));
    if (def?.mode === 'inline') return this.#rebuildInline(def);
    if (def === undefined) {
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: `Projection ${name} is not registered`,
        context: { field: 'name', reason: 'not registered', projection: name },
      });
    }
    const runner = this.#runners.get(def.name);
    this.#runners.delete(def.name);
    await runner?.stop();
    const target = await this.#headOf(def);
    const record = await this.#store.reset(def.name, target, this.#clock.now());
    rebuildStarted.emit({ target }, { projection: def.name });
    await this.#activate(def);
    return this.#statusOf(record);
  }

  /** Restarts a failed (or stopped) async projection from its last committed batch. */
  async restart(name: string): Promise<void> {
    this.#assertRunning();
    const def = this.#definitions.get(checkProjectionName(name));
    if (def === undefined) {
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: `Projection ${name} is not registered`,
        context: { field: 'name', reason: 'not registered', projection: name },
      });
    }
    const runner = this.#runners.get(def.name);
    this.#runners.delete(def.name);
    await runner?.stop();
    await this.#store.resume(def.name, this.#clock.now());
    await this.#activate(def);
  }

  /**
   * Resolves once projection `name` has folded the event at `position` (an event it sees) or a later one.
   * Inline projections resolve at once. Rejects with the failure when the projection fails first.
   */
  async waitFor(name: string, position: number): Promise<void> {
    const runner = this.#runners.get(name);
    if (runner === undefined) {
      if (this.#definitions.get(name)?.mode === 'inline') return;
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: `Projection ${name} is not running here`,
        context: { field: 'name', reason: 'not running', projection: name },
      });
    }
    await runner.waitFor(position);
  }

  async #activate(def: ValidDefinition): Promise<void> {
    if (def.mode === 'inline') {
      // Backfill when the rows cannot be trusted: a new record (registered here for the first time, while the
      // log may already hold events), one kept by an async projection, or one whose last rebuild failed.
      const before = await this.#store.record(def.name);
      await this.#store.ensure(def.name, def.mode, this.#clock.now());
      this.#inline?.add(def);
      this.#installInline();
      if (before === undefined || before.mode !== 'inline' || before.status === 'failed') {
        await this.#rebuildInline(def);
      }
      return;
    }
    await this.#store.ensure(def.name, def.mode, this.#clock.now());
    const runner = new AsyncProjectionRunner(def, this.#source, this.#store, {
      batchSize: this.#batchSize,
      clock: this.#clock,
      retryMs: this.#retryMs,
    });
    this.#runners.set(def.name, runner);
    await runner.start();
  }

  /** Inline rebuild: see {@link Projections.rebuild}. */
  async #rebuildInline(def: ValidDefinition): Promise<ProjectionStatus> {
    const name = def.name;
    const fold = new LogFold(def);
    let target = 0;
    const sink: RebuildSink = {
      started: (head) => {
        target = head;
        this.#rebuilding.set(name, { position: 0, target: head, ratio: head === 0 ? 1 : 0 });
        rebuildStarted.emit({ target: head }, { projection: name });
      },
      progress: (position, head) => {
        const ratio = head === 0 ? 1 : Math.min(1, position / head);
        this.#rebuilding.set(name, { position, target: head, ratio });
        rebuildProgress.emit({ position, target: head, ratio }, { projection: name });
      },
    };
    let record: ProjectionRecord;
    try {
      record =
        this.#store.kind === 'memory'
          ? await this.#rebuildMemory(def, fold, sink)
          : await (this.#store as unknown as InlineRebuilder).rebuildInline(
              name,
              fold,
              sink,
              this.#clock.now(),
            );
    } catch (error) {
      if (error instanceof FoundationError && error.code === 'FND_EVENTS_PROJECTION_FAILED') {
        const eventId = error.context.eventId;
        await this.#store
          .fail(
            name,
            { code: error.code, message: error.message, ...(typeof eventId === 'string' ? { eventId } : {}) },
            this.#clock.now(),
          )
          .catch(() => undefined);
        projectionFailedEvent.emit({ position: fold.position }, { projection: name, code: error.code });
      }
      throw error;
    } finally {
      this.#rebuilding.delete(name);
    }
    rebuilt.emit({ position: record.position, target }, { projection: name });
    return this.#statusOf(record);
  }

  /**
   * Memory: reads the log page by page while a capture records the appends made meanwhile (they also update
   * the current rows), then, in the tick the last read resolves (no await), folds the captured events past
   * the last page and swaps the rows.
   */
  async #rebuildMemory(def: ValidDefinition, fold: LogFold, sink: RebuildSink): Promise<ProjectionRecord> {
    const inline = this.#inline;
    const reader = this.#reader;
    if (inline === undefined || reader === undefined) {
      throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
        message: 'Rebuilding an inline projection on memory needs an event store with readAll',
        context: { field: 'mode', reason: 'no readAll', projection: def.name },
      });
    }
    const store = this.#store as unknown as Pick<MemoryProjectionStore, 'replaceRows'>;
    const capture = inline.capture();
    try {
      const head = await this.#source.query({ order: 'desc', limit: 1 });
      const target = head.events[0]?.position ?? 0;
      sink.started(target);
      for (;;) {
        const page = await reader.readAll({ afterPosition: fold.position, limit: MAX_READ_LIMIT });
        if (page.length === 0) break;
        fold.add(page);
        sink.progress(fold.position, target);
      }
      const seen = fold.position;
      fold.add(capture.events.filter((event) => event.position > seen));
      return store.replaceRows(def.name, fold.rows(), fold.position, this.#clock.now());
    } finally {
      capture.close();
    }
  }

  #installInline(): void {
    const inline = this.#inline;
    if (inline !== undefined && inline.active) this.#target()?.setInlineProjector(inline);
  }

  #target(): InlineProjectorTarget | undefined {
    const source = this.#source as Partial<InlineProjectorTarget>;
    return typeof source.setInlineProjector === 'function' ? (source as InlineProjectorTarget) : undefined;
  }

  async #makeInline(): Promise<InlineProjections> {
    if (this.#store.kind === 'postgres') {
      const module = await import('./postgres-projection-store.js');
      const pg: PgRows = { lockLoadInline: module.lockLoadInline, writeChanges: module.writeChanges };
      return new InlineProjections(this.#clock, { pg });
    }
    const sync = this.#store as MemoryProjectionStore | SqliteProjectionStore;
    return new InlineProjections(this.#clock, { sync });
  }

  /** Position of the last event the projection's filter matches (0 when none). */
  async #headOf(def: ValidDefinition): Promise<number> {
    const page = await this.#source.query({ ...def.filter, order: 'desc', limit: 1 });
    return page.events[0]?.position ?? 0;
  }

  #statusOf(record: ProjectionRecord): ProjectionStatus {
    const runner = this.#runners.get(record.name);
    const registered = this.#definitions.has(record.name) && this.#state === 'running';
    const inlineRebuild = this.#rebuilding.get(record.name);
    if (inlineRebuild !== undefined) {
      return {
        name: record.name,
        mode: record.mode,
        state: 'rebuilding',
        position: inlineRebuild.position,
        checkpoint: undefined,
        rebuild: inlineRebuild,
        error: undefined,
        updated: record.updated,
      };
    }
    const state =
      record.status === 'failed'
        ? 'failed'
        : record.mode === 'async' && (runner === undefined || runner.state !== 'running')
          ? 'stopped'
          : !registered
            ? 'stopped'
            : record.status;
    const target = record.target;
    return {
      name: record.name,
      mode: record.mode,
      state,
      position: record.position,
      checkpoint: record.checkpoint ?? undefined,
      rebuild:
        record.status === 'rebuilding' && target !== null
          ? {
              position: record.position,
              target,
              ratio: target === 0 ? 1 : Math.min(1, record.position / target),
            }
          : undefined,
      error: record.error ?? undefined,
      updated: record.updated,
    };
  }

  #assertRunning(): void {
    if (this.#state !== 'running') {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: `The projections service is ${this.#state === 'new' ? 'not started' : this.#state}`,
        context: { service: 'projections', state: this.#state },
      });
    }
  }
}
