/**
 * The SQLite event store (better-sqlite3 on the storage's connection). A group of append requests is one
 * `BEGIN IMMEDIATE` transaction; in a group of several, each request runs in its own SAVEPOINT so a request
 * that fails (an id stored with other content) rolls back only itself. Hot statements are prepared once at
 * open; an append costs one stream upsert (`RETURNING` the new version) and one insert per event.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import type { Storage } from '../../storage/index.js';
import type { InlineProjector } from '../projections/inline-hook.js';
import { checkExpectedVersion } from '../model/expected-version.js';
import type {
  AppendOutcome,
  AppendRequest,
  CommittedPage,
  EventStorePort,
  PreparedEvent,
} from '../model/port.js';
import { nextPage } from '../model/query-page.js';
import { compileAggregate, compileQuery } from '../model/query-sql.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventQuery,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from '../model/types.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';
import { checkExisting } from './existing-events.js';
import { EVENTS_MIGRATIONS } from './migrations.js';
import { parsePositionCheckpoint, positionCheckpoint } from './position-checkpoint.js';
import type { EventRow, SqliteStatements } from './sqlite-rows.js';
import {
  classifySqliteError,
  EVENT_COLUMNS,
  insertedEvent,
  isDuplicateIdError,
  prepareStatements,
  rowToEvent,
  rowsToEvents,
} from './sqlite-rows.js';

/** Most positions one {@link SqliteEventStore.readCommitted} call looks at (matching or not). */
const SCAN_WINDOW = 10_000;

const LAST_POSITION_SQL = 'SELECT MAX(position) AS last FROM foundation_events';

/** Most dynamic (query / aggregate) statements kept prepared per store. */
const MAX_CACHED_STATEMENTS = 64;

interface Open {
  readonly db: BetterSqlite3.Database;
  readonly s: SqliteStatements;
  /** One request as the whole transaction (no savepoint). */
  readonly single: BetterSqlite3.Transaction<(request: AppendRequest) => AppendOutcome>;
  /** Several requests, each in a savepoint. */
  readonly group: BetterSqlite3.Transaction<(requests: readonly AppendRequest[]) => AppendOutcome[]>;
  /** Writes one request's events; nested in `group`, so it runs in a savepoint. */
  readonly savepoint: BetterSqlite3.Transaction<(request: AppendRequest) => StoredEvent[]>;
  readonly cache: Map<string, BetterSqlite3.Statement>;
}

/** An {@link EventStorePort} on SQLite. The storage must be open (and `sqlite`) before `open()`. */
export class SqliteEventStore implements EventStorePort {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  readonly #storage: Storage;
  #open: Open | undefined;
  #inline: InlineProjector | undefined;
  readonly #lookup = (id: string): StoredEvent | undefined => {
    const row = this.#ready().s.byId.get(id);
    return row === undefined ? undefined : rowToEvent(row);
  };

  /** @param storage - an opened SQLite storage; the store migrates the `events` capability at open. */
  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** Runs the `events` migrations and prepares the statements. */
  async open(): Promise<void> {
    if (this.#open !== undefined) return;
    await this.#storage.migrate('events', EVENTS_MIGRATIONS);
    const handle = this.#storage.handle();
    if (handle.kind !== 'sqlite') {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: `The SQLite event store needs a SQLite storage, got ${handle.kind}`,
        context: { kind: handle.kind },
      });
    }
    const db = handle.db;
    const s = prepareStatements(db);
    const single = db.transaction((request: AppendRequest) => this.#appendOne(request, false));
    const savepoint = db.transaction((request: AppendRequest) => this.#project(this.#write(request)));
    const group = db.transaction((requests: readonly AppendRequest[]) => {
      const outcomes = new Array<AppendOutcome>(requests.length);
      for (let i = 0; i < requests.length; i++)
        outcomes[i] = this.#appendOne(requests[i] as AppendRequest, true);
      return outcomes;
    });
    this.#open = { db, s, single, group, savepoint, cache: new Map() };
  }

  /** Forgets the statements; the storage owns (and closes) the connection. */
  close(): Promise<void> {
    this.#open = undefined;
    return Promise.resolve();
  }

  #ready(): Open {
    const open = this.#open;
    if (open === undefined) {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'The SQLite event store is not open' });
    }
    return open;
  }

  /** Commits the group in one immediate transaction; rejects only when SQLite fails. */
  append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    try {
      const open = this.#ready();
      if (requests.length === 1)
        return Promise.resolve([this.#appendAlone(open, requests[0] as AppendRequest)]);
      return Promise.resolve(open.group.immediate(requests));
    } catch (error) {
      return Promise.reject(classifySqliteError(error));
    }
  }

  /** A lone request is the whole transaction: a duplicate id rolls it all back, then is resolved by reads. */
  #appendAlone(open: Open, request: AppendRequest): AppendOutcome {
    try {
      return open.single.immediate(request);
    } catch (error) {
      if (isProjectionFailure(error)) return { ok: false, error };
      if (!isDuplicateIdError(error)) throw error;
      return this.#resolveDuplicate(request, error);
    }
  }

  /** Checks the expected version, then writes (in a savepoint when `nested`). Runs inside a transaction. */
  #appendOne(request: AppendRequest, nested: boolean): AppendOutcome {
    const open = this.#open as Open;
    if (request.stream !== null) {
      const actual = open.s.streamVersion.get(request.stream) ?? 0;
      const conflict = checkExpectedVersion(request.expectedVersion, actual, request.stream);
      if (conflict !== undefined) {
        // An idempotent retry is answered even when the stream moved on since.
        const existing = checkExisting(request.events, this.#lookup);
        if (existing.kind === 'all') return { ok: true, events: existing.events, idempotent: true };
        return { ok: false, error: existing.kind === 'conflict' ? existing.error : conflict };
      }
    }
    if (!nested) return { ok: true, events: this.#project(this.#write(request)), idempotent: false };
    try {
      return { ok: true, events: open.savepoint(request), idempotent: false };
    } catch (error) {
      if (isProjectionFailure(error)) return { ok: false, error };
      if (!isDuplicateIdError(error)) throw error;
      return this.#resolveDuplicate(request, error);
    }
  }

  /**
   * Runs the inline projections on a request's new events, inside its transaction or savepoint (same
   * connection): a throw rolls the request back.
   */
  #project(events: StoredEvent[]): StoredEvent[] {
    const inline = this.#inline;
    if (inline?.active === true) inline.projectSync(events);
    return events;
  }

  /** Runs inline projections in each append transaction (see `InlineProjector`). */
  setInlineProjector(projector: InlineProjector | undefined): void {
    this.#inline = projector;
  }

  /** After a duplicate-id violation (rolled back): an idempotent retry, or an id conflict. */
  #resolveDuplicate(request: AppendRequest, error: unknown): AppendOutcome {
    const existing = checkExisting(request.events, this.#lookup);
    if (existing.kind === 'all') return { ok: true, events: existing.events, idempotent: true };
    if (existing.kind === 'conflict') return { ok: false, error: existing.error };
    throw error;
  }

  /** Inserts the request's events, continuing each stream's version. Throws on a duplicate id. */
  #write(request: AppendRequest): StoredEvent[] {
    const s = (this.#open as Open).s;
    const events = request.events;
    const out = new Array<StoredEvent>(events.length);
    if (events.length === 1) {
      const event = events[0] as PreparedEvent;
      const version = event.stream === null ? null : (s.bumpStream.get(event.stream, 1) as number);
      out[0] = insert(s, event, version);
      return out;
    }
    const counts = new Map<string, number>();
    for (const event of events) {
      if (event.stream !== null) counts.set(event.stream, (counts.get(event.stream) ?? 0) + 1);
    }
    const next = new Map<string, number>();
    for (const [stream, count] of counts)
      next.set(stream, (s.bumpStream.get(stream, count) as number) - count);
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as PreparedEvent;
      let version: number | null = null;
      if (event.stream !== null) {
        version = (next.get(event.stream) as number) + 1;
        next.set(event.stream, version);
      }
      out[i] = insert(s, event, version);
    }
    return out;
  }

  /** The event with this id, or `undefined`. */
  get(id: string): Promise<StoredEvent | undefined> {
    return this.#run(() => this.#lookup(id));
  }

  /** The stream's current version (0 when it has no events). */
  streamVersion(stream: string): Promise<number> {
    return this.#run(() => this.#ready().s.streamVersion.get(stream) ?? 0);
  }

  /** A slice of one stream in version order (forward) or reverse order (backward). */
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]> {
    return this.#run(() => {
      const s = this.#ready().s;
      const statement = options.direction === 'forward' ? s.readForward : s.readBackward;
      return rowsToEvents(statement.all(stream, options.from, options.limit));
    });
  }

  /** Events after a position, in order. */
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]> {
    return this.#run(() => rowsToEvents(this.#ready().s.readAll.all(options.afterPosition, options.limit)));
  }

  /** The correlation's events by position, at most `limit`. */
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    return this.#run(() => rowsToEvents(this.#ready().s.byCorrelation.all(correlationId, limit)));
  }

  /** Runs a compiled query; fetches one extra row to know whether a next page exists. */
  query(query: EventQuery): Promise<QueryPage> {
    return this.#run(() => {
      const compiled = compileQuery(query, 'sqlite');
      const where = compiled.where === '' ? '' : ` WHERE ${compiled.where}`;
      const sql = `SELECT ${EVENT_COLUMNS} FROM foundation_events${where} ORDER BY ${compiled.orderBy} LIMIT ?`;
      const rows = this.#statement(sql).all(...compiled.params, compiled.limit) as EventRow[];
      return nextPage(rowsToEvents(rows), query);
    });
  }

  /** Runs a compiled aggregation (groups by key ascending: the compiled `groupBy` holds the ORDER BY). */
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]> {
    return this.#run(() => {
      const compiled = compileAggregate(query, 'sqlite');
      const where = compiled.where === '' ? '' : ` WHERE ${compiled.where}`;
      const sql = `SELECT ${compiled.select} FROM foundation_events${where} GROUP BY ${compiled.groupBy}`;
      const rows = this.#statement(sql).all(...compiled.params) as { key: string | number; count: number }[];
      return rows.map((row) => ({ key: row.key, count: row.count }));
    });
  }

  /**
   * Matching events after the checkpoint's position, in position order: the commit order, since SQLite
   * has one writer at a time. The last position and the page are read in one transaction (one snapshot);
   * a read looks at most `SCAN_WINDOW` positions, so a selective filter advances by windows.
   */
  readCommitted(filter: SubscriptionFilter, after: string, limit: number): Promise<CommittedPage> {
    return this.#run(() => {
      const open = this.#ready();
      const from = parsePositionCheckpoint(after) ?? 0;
      const compiled = compileQuery(filter, 'sqlite');
      const sql = `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE position > ? AND position <= ? AND (${compiled.where}) ORDER BY position ASC LIMIT ?`;
      const statement = this.#statement(sql);
      const read = open.db.transaction((): CommittedPage => {
        const last =
          (
            this.#statement(LAST_POSITION_SQL).get() as {
              last: number | null;
            }
          ).last ?? 0;
        const upper = Math.min(last, from + SCAN_WINDOW);
        const rows = statement.all(from, upper, ...compiled.params, limit) as EventRow[];
        const events = rowsToEvents(rows);
        const full = rows.length >= limit && rows.length > 0;
        const head = full ? (rows[rows.length - 1] as EventRow).position : Math.max(from, upper);
        return {
          events,
          checkpoints: events.map((e) => positionCheckpoint(e.position)),
          head: positionCheckpoint(head),
          more: head < last,
          held: false,
          lastPosition: last,
        };
      });
      return read.deferred();
    });
  }

  /** The position of a checkpoint of this store (a decimal position), or `undefined`. */
  checkpointPosition(checkpoint: string): number | undefined {
    return parsePositionCheckpoint(checkpoint);
  }

  /** `start` → 0, `end` → the last position, `n` → `n`. */
  resolveFrom(from: 'start' | 'end' | number): Promise<string> {
    return this.#run(() => {
      if (from === 'start') return positionCheckpoint(0);
      if (from !== 'end') return positionCheckpoint(from);
      const row = this.#statement(LAST_POSITION_SQL).get() as {
        last: number | null;
      };
      return positionCheckpoint(row.last ?? 0);
    });
  }

  /** A cached prepared statement for dynamic SQL (least recently prepared dropped first). */
  #statement(sql: string): BetterSqlite3.Statement {
    const open = this.#ready();
    let statement = open.cache.get(sql);
    if (statement === undefined) {
      statement = open.db.prepare(sql);
      if (open.cache.size >= MAX_CACHED_STATEMENTS) {
        const oldest = open.cache.keys().next().value;
        if (oldest !== undefined) open.cache.delete(oldest);
      }
      open.cache.set(sql, statement);
    }
    return statement;
  }

  #run<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(classifySqliteError(error));
    }
  }
}

function insert(s: SqliteStatements, event: PreparedEvent, version: number | null): StoredEvent {
  const result = s.insert.run(
    event.id,
    event.type,
    event.stream,
    version,
    event.time,
    event.monotonic,
    event.correlationId,
    event.causationId,
    event.parentId,
    event.dataJson,
    event.metadataJson,
    event.node,
  );
  return insertedEvent(event, version, Number(result.lastInsertRowid));
}

/** An inline projection refused the request (its writes were rolled back with it). */
function isProjectionFailure(error: unknown): error is FoundationError {
  return error instanceof FoundationError && error.code === 'FND_EVENTS_PROJECTION_FAILED';
}
