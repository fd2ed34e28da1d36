/**
 * The spool's file: a SQLite database (better-sqlite3, WAL, `synchronous=FULL`, exclusive lock) holding the
 * append requests that could not reach the event store, in arrival order, until they are replayed. Each
 * request is one row with its events as one JSON array; a request the store refused at replay (its id
 * exists with other content) stays in the file, marked rejected, for an operator. See
 * `docs/decisions/0007-event-spool.md` for why SQLite rather than an append-only file.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import type { AppendRequest, PreparedEvent } from '../model/port.js';
import type { JsonObject, JsonValue } from '../model/types.js';

/** A request read back from the spool, with its place (`seq`, increasing in arrival order). */
export interface SpoolEntry {
  /** Place of the request in the spool, increasing in arrival order. */
  readonly seq: number;
  /** The append request as it was spooled. */
  readonly request: AppendRequest;
  /** Number of events in the request. */
  readonly events: number;
  /** Bytes of the events' JSON. */
  readonly bytes: number;
  /** Wall ms when it was spooled. */
  readonly spooledAt: number;
}

/** A request the store refused at replay, kept in the file. */
export interface RejectedSpoolEntry extends SpoolEntry {
  /** Wall ms when the store refused it. */
  readonly rejectedAt: number;
  /** The error code the store refused it with. */
  readonly code: string;
  /** The error message the store refused it with. */
  readonly message: string;
}

/** Totals of the file: pending requests and the rejected ones kept for an operator. */
export interface SpoolTotals {
  readonly requests: number;
  readonly events: number;
  readonly bytes: number;
  readonly rejectedRequests: number;
  readonly rejectedEvents: number;
  readonly rejectedBytes: number;
  /** Wall ms of the oldest pending request, `undefined` when none. */
  readonly oldestSpooledAt: number | undefined;
}

/** Schema version kept in `PRAGMA user_version`. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS spool_requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spooled_at INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  events TEXT NOT NULL,
  rejected_at INTEGER,
  rejected_code TEXT,
  rejected_message TEXT
)`;

interface Row {
  seq: number;
  spooled_at: number;
  event_count: number;
  bytes: number;
  events: string;
  rejected_at: number | null;
  rejected_code: string | null;
  rejected_message: string | null;
}

interface TotalsRow {
  state: 'pending' | 'rejected';
  requests: number;
  events: number;
  bytes: number;
  oldest: number | null;
}

/** One spooled event as stored in the JSON array (data and metadata embedded as their JSON). */
interface StoredSpoolEvent {
  id: string;
  type: string;
  stream: string | null;
  time: number;
  monotonic: number;
  correlationId: string | null;
  causationId: string | null;
  parentId: string | null;
  data: JsonValue;
  metadata: JsonObject;
  node: string;
  correlationIdFromContext?: boolean;
  causationIdFromContext?: boolean;
}

/**
 * The JSON array of a request's events. `dataJson` / `metadataJson` are embedded as they are (already
 * serialized once by the service), so nothing is stringified twice.
 */
export function encodeEvents(events: readonly PreparedEvent[]): string {
  const parts: string[] = [];
  for (const e of events) {
    let flags = '';
    if (e.correlationIdFromContext === true) flags += ',"correlationIdFromContext":true';
    if (e.causationIdFromContext === true) flags += ',"causationIdFromContext":true';
    parts.push(
      `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"stream":${JSON.stringify(e.stream)}` +
        `,"time":${JSON.stringify(e.time)},"monotonic":${JSON.stringify(e.monotonic)}` +
        `,"correlationId":${JSON.stringify(e.correlationId)},"causationId":${JSON.stringify(e.causationId)}` +
        `,"parentId":${JSON.stringify(e.parentId)},"node":${JSON.stringify(e.node)}` +
        `,"data":${e.dataJson},"metadata":${e.metadataJson}${flags}}`,
    );
  }
  return `[${parts.join(',')}]`;
}

/** The prepared events of a stored JSON array (the inverse of {@link encodeEvents}). */
export function decodeEvents(json: string): PreparedEvent[] {
  const parsed = JSON.parse(json) as StoredSpoolEvent[];
  return parsed.map((e) => {
    const event: PreparedEvent = {
      id: e.id,
      type: e.type,
      stream: e.stream,
      time: e.time,
      monotonic: e.monotonic,
      correlationId: e.correlationId,
      causationId: e.causationId,
      parentId: e.parentId,
      data: e.data,
      metadata: e.metadata,
      dataJson: JSON.stringify(e.data),
      metadataJson: JSON.stringify(e.metadata),
      node: e.node,
      ...(e.correlationIdFromContext === true ? { correlationIdFromContext: true } : {}),
      ...(e.causationIdFromContext === true ? { causationIdFromContext: true } : {}),
    };
    return event;
  });
}

async function loadDriver(): Promise<typeof BetterSqlite3> {
  try {
    const module = await import('better-sqlite3');
    return module.default;
  } catch (error) {
    throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: 'The event spool needs the better-sqlite3 package (npm install better-sqlite3@^12)',
      cause: error,
      retryStrategy: 'no_retry',
    });
  }
}

/** What {@link SpoolFile.add} did with one request. */
export type AddResult =
  | { readonly added: true; readonly seq: number; readonly bytes: number }
  | { readonly added: false; readonly bytes: number };

/**
 * The spool's SQLite file. Every method is synchronous (better-sqlite3) and each write is one transaction,
 * durable when it returns (`synchronous=FULL`). The file is opened with `locking_mode=EXCLUSIVE`: a second
 * process (or a second spool in this one) cannot open it while it is in use.
 */
export class SpoolFile {
  readonly path: string;
  readonly #db: BetterSqlite3.Database;
  readonly #insert: BetterSqlite3.Statement;
  readonly #pending: BetterSqlite3.Statement;
  readonly #delete: BetterSqlite3.Statement;
  readonly #reject: BetterSqlite3.Statement;

  private constructor(path: string, db: BetterSqlite3.Database) {
    this.path = path;
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO spool_requests (spooled_at, event_count, bytes, events) VALUES (?, ?, ?, ?)',
    );
    this.#pending = db.prepare(
      'SELECT * FROM spool_requests WHERE rejected_at IS NULL ORDER BY seq ASC LIMIT ?',
    );
    this.#delete = db.prepare('DELETE FROM spool_requests WHERE seq = ?');
    this.#reject = db.prepare(
      'UPDATE spool_requests SET rejected_at = ?, rejected_code = ?, rejected_message = ? WHERE seq = ?',
    );
  }

  /**
   * Opens (creating it and its folder) the spool file at `path`.
   *
   * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the driver is missing, the file cannot be opened,
   *   or another spool holds it.
   */
  static async open(path: string): Promise<SpoolFile> {
    const Database = await loadDriver();
    const file = resolve(path);
    let db: BetterSqlite3.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { timeout: 0 });
      // Exclusive before the first WAL access: no shared memory, and the lock is held until close().
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') {
        throw new Error(`journal_mode stayed ${String(mode)} (WAL not supported here)`);
      }
      db.pragma('synchronous = FULL');
      const version = Number(db.pragma('user_version', { simple: true }));
      if (version > SCHEMA_VERSION) {
        throw new Error(`the file has spool schema ${version}; this version knows ${SCHEMA_VERSION}`);
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return new SpoolFile(file, db);
    } catch (error) {
      db?.close();
      const message = error instanceof Error ? error.message : String(error);
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: /locked|busy/i.test(message)
          ? `The event spool ${file} is in use by another spool (one spool file per process): ${message}`
          : `Cannot open the event spool ${file}: ${message}`,
        context: { path: file },
        cause: error,
        retryStrategy: 'no_retry',
      });
    }
  }

  /**
   * Adds requests in order, in one transaction. `fits(events, bytes)` is asked before each one (with its
   * size); a request it refuses is not added and the following ones are still considered.
   */
  add(
    requests: readonly AppendRequest[],
    now: number,
    fits: (events: number, bytes: number) => boolean,
  ): AddResult[] {
    const run = this.#db.transaction((): AddResult[] => {
      const results: AddResult[] = [];
      for (const request of requests) {
        const json = encodeEvents(request.events);
        const bytes = Buffer.byteLength(json, 'utf8');
        if (!fits(request.events.length, bytes)) {
          results.push({ added: false, bytes });
          continue;
        }
        const info = this.#insert.run(now, request.events.length, bytes, json);
        results.push({ added: true, seq: Number(info.lastInsertRowid), bytes });
      }
      return results;
    });
    return run();
  }

  /**
   * The oldest pending requests, in order: at most `maxRequests`, and no more events than `maxEvents` (but
   * always the first one, however large).
   */
  head(maxRequests: number, maxEvents: number): SpoolEntry[] {
    const rows = this.#pending.all(maxRequests) as Row[];
    const entries: SpoolEntry[] = [];
    let events = 0;
    for (const row of rows) {
      if (entries.length > 0 && events + row.event_count > maxEvents) break;
      events += row.event_count;
      entries.push(toEntry(row));
    }
    return entries;
  }

  /** Removes replayed requests and marks refused ones, in one transaction. */
  settle(
    replayed: readonly number[],
    rejected: readonly { seq: number; code: string; message: string }[],
    now: number,
  ): void {
    const run = this.#db.transaction(() => {
      for (const seq of replayed) this.#delete.run(seq);
      for (const r of rejected) this.#reject.run(now, r.code, r.message.slice(0, 2000), r.seq);
    });
    run();
  }

  /** Pending and rejected totals. */
  totals(): SpoolTotals {
    const rows = this.#db
      .prepare(
        `SELECT CASE WHEN rejected_at IS NULL THEN 'pending' ELSE 'rejected' END AS state,
                COUNT(*) AS requests, COALESCE(SUM(event_count), 0) AS events,
                COALESCE(SUM(bytes), 0) AS bytes, MIN(spooled_at) AS oldest
           FROM spool_requests GROUP BY 1`,
      )
      .all() as TotalsRow[];
    const pending = rows.find((r) => r.state === 'pending');
    const rejected = rows.find((r) => r.state === 'rejected');
    return {
      requests: pending?.requests ?? 0,
      events: pending?.events ?? 0,
      bytes: pending?.bytes ?? 0,
      rejectedRequests: rejected?.requests ?? 0,
      rejectedEvents: rejected?.events ?? 0,
      rejectedBytes: rejected?.bytes ?? 0,
      oldestSpooledAt: pending?.oldest ?? undefined,
    };
  }

  /** The requests the store refused at replay, oldest first (at most `limit`). */
  rejected(limit: number): RejectedSpoolEntry[] {
    const rows = this.#db
      .prepare('SELECT * FROM spool_requests WHERE rejected_at IS NOT NULL ORDER BY seq ASC LIMIT ?')
      .all(limit) as Row[];
    return rows.map((row) => ({
      ...toEntry(row),
      rejectedAt: row.rejected_at ?? 0,
      code: row.rejected_code ?? '',
      message: row.rejected_message ?? '',
    }));
  }

  /** Deletes rejected requests (all, or those with the given `seq`s). Returns how many were deleted. */
  discardRejected(seqs?: readonly number[]): number {
    if (seqs === undefined) {
      return this.#db.prepare('DELETE FROM spool_requests WHERE rejected_at IS NOT NULL').run().changes;
    }
    const statement = this.#db.prepare(
      'DELETE FROM spool_requests WHERE rejected_at IS NOT NULL AND seq = ?',
    );
    const run = this.#db.transaction(() => {
      let changes = 0;
      for (const seq of seqs) changes += statement.run(seq).changes;
      return changes;
    });
    return run();
  }

  /** Closes the file (releasing its lock). Idempotent. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function toEntry(row: Row): SpoolEntry {
  return {
    seq: row.seq,
    request: { events: decodeEvents(row.events), expectedVersion: 'any', stream: null },
    events: row.event_count,
    bytes: row.bytes,
    spooledAt: row.spooled_at,
  };
}
