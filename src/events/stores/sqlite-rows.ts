/**
 * The SQLite event store's statements and row mapping: every hot statement is prepared once at open.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import type { PreparedEvent } from '../model/port.js';
import type { JsonObject, JsonValue, StoredEvent } from '../model/types.js';

/** The columns every read selects, in {@link EventRow} order. */
export const EVENT_COLUMNS =
  'position, id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node';

/** A `foundation_events` row as better-sqlite3 returns it. */
export interface EventRow {
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly stream: string | null;
  readonly stream_version: number | null;
  readonly time: number;
  readonly monotonic: number;
  readonly correlation_id: string | null;
  readonly causation_id: string | null;
  readonly parent_id: string | null;
  readonly data: string;
  readonly metadata: string;
  readonly node: string;
}

/** A row as a {@link StoredEvent} (data and metadata parsed). */
export function rowToEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    streamVersion: row.stream_version,
    position: row.position,
    time: row.time,
    monotonic: row.monotonic,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    parentId: row.parent_id,
    data: JSON.parse(row.data) as JsonValue,
    metadata: JSON.parse(row.metadata) as JsonObject,
    node: row.node,
  };
}

/** Maps rows to events. */
export function rowsToEvents(rows: readonly EventRow[]): StoredEvent[] {
  const out = new Array<StoredEvent>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rowToEvent(rows[i] as EventRow);
  return out;
}

/** The event just inserted at `position` with `streamVersion`, built without reading it back. */
export function insertedEvent(
  event: PreparedEvent,
  streamVersion: number | null,
  position: number,
): StoredEvent {
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    streamVersion,
    position,
    time: event.time,
    monotonic: event.monotonic,
    correlationId: event.correlationId,
    causationId: event.causationId,
    parentId: event.parentId,
    // The stored JSON, not the caller's objects (which may hold undefined properties or change later).
    data: JSON.parse(event.dataJson) as JsonValue,
    metadata: event.metadataJson === '{}' ? {} : (JSON.parse(event.metadataJson) as JsonObject),
    node: event.node,
  };
}

/** The prepared statements of one open SQLite event store. */
export interface SqliteStatements {
  readonly insert: BetterSqlite3.Statement;
  /** Adds `count` to a stream's version (creating it) and returns the new version. */
  readonly bumpStream: BetterSqlite3.Statement<unknown[], number>;
  readonly streamVersion: BetterSqlite3.Statement<unknown[], number>;
  readonly byId: BetterSqlite3.Statement<unknown[], EventRow>;
  readonly readForward: BetterSqlite3.Statement<unknown[], EventRow>;
  readonly readBackward: BetterSqlite3.Statement<unknown[], EventRow>;
  readonly readAll: BetterSqlite3.Statement<unknown[], EventRow>;
  readonly byCorrelation: BetterSqlite3.Statement<unknown[], EventRow>;
}

/** Prepares the statements of the event store on `db` (migrated). */
export function prepareStatements(db: BetterSqlite3.Database): SqliteStatements {
  return {
    insert: db.prepare(
      'INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    bumpStream: db
      .prepare<unknown[], number>(
        'INSERT INTO foundation_streams (stream, version) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET version = foundation_streams.version + excluded.version RETURNING version',
      )
      .pluck(),
    streamVersion: db
      .prepare<unknown[], number>('SELECT version FROM foundation_streams WHERE stream = ?')
      .pluck(),
    byId: db.prepare(`SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE id = ?`),
    readForward: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?`,
    ),
    readBackward: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE stream = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT ?`,
    ),
    readAll: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE position > ? ORDER BY position ASC LIMIT ?`,
    ),
    byCorrelation: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE correlation_id = ? ORDER BY position ASC LIMIT ?`,
    ),
  };
}

/** Whether `error` is the UNIQUE violation of `foundation_events.id` (an id that is already stored). */
export function isDuplicateIdError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('foundation_events.id')
  );
}

/**
 * A SQLite failure as a `FoundationError`: busy / locked database → `FND_STORAGE_UNAVAILABLE` (retryable),
 * anything else → `FND_STORAGE_QUERY_FAILED`; foundation errors pass through. The cause is kept.
 */
export function classifySqliteError(error: unknown): FoundationError {
  if (error instanceof FoundationError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: `SQLite is busy: ${message}`,
      context: { code },
      cause: error,
    });
  }
  return new FoundationError('FND_STORAGE_QUERY_FAILED', {
    message: `SQLite failed: ${message}`,
    context: typeof code === 'string' ? { code } : {},
    cause: error,
  });
}
