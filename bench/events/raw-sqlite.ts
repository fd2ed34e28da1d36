/**
 * The SQLite peer of the single-append cases: a hand-written better-sqlite3 loop doing the work an append
 * has to do, nothing more. Same tables, columns and indexes as ours (the `events` migration's SQLite text),
 * same pragmas (WAL, `synchronous=NORMAL`), and per event: an id, wall and monotonic time,
 * `JSON.stringify` of data and metadata, then one transaction with a stream-version read, the insert and
 * the stream upsert.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { EVENTS_MIGRATIONS } from '../../src/events/stores/migrations.js';
import type { OrderData } from './inputs.js';

/** An open raw store: `append` writes one event in its own transaction and returns its position. */
export interface RawSqliteStore {
  append(type: string, stream: string, data: OrderData): number;
  close(): void;
}

/** Opens (creating) the database file at `path` with the foundation's tables and pragmas. */
export function openRawSqlite(path: string): RawSqliteStore {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(EVENTS_MIGRATIONS[0]!.sqlite);

  const readVersion = db
    .prepare<[string], number>('SELECT version FROM foundation_streams WHERE stream = ?')
    .pluck();
  const insert = db.prepare(
    `INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic, correlation_id,
       causation_id, parent_id, data, metadata, node)
     VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?)`,
  );
  const upsert = db.prepare(
    `INSERT INTO foundation_streams (stream, version) VALUES (?, ?)
     ON CONFLICT (stream) DO UPDATE SET version = excluded.version`,
  );
  const node = hostname();
  const write = db.transaction(
    (
      id: string,
      type: string,
      stream: string,
      time: number,
      monotonic: number,
      data: string,
      meta: string,
    ) => {
      const version = (readVersion.get(stream) ?? 0) + 1;
      const result = insert.run(id, type, stream, version, time, monotonic, data, meta, node);
      upsert.run(stream, version);
      return Number(result.lastInsertRowid);
    },
  );

  return {
    append(type, stream, data) {
      return write.immediate(
        randomUUID(),
        type,
        stream,
        Date.now(),
        performance.now(),
        JSON.stringify(data),
        JSON.stringify({}),
      );
    },
    close() {
      db.close();
    },
  };
}
