/**
 * Snapshots in SQLite (`foundation_snapshots`, on the storage's connection).
 *
 * @module
 */
import { SqliteCapability } from '../../storage/index.js';
import type BetterSqlite3 from 'better-sqlite3';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type { Storage } from '../../storage/index.js';
import type { JsonValue } from '../model/types.js';
import { EVENTS_MIGRATIONS } from '../stores/migrations.js';
import { classifySqliteError } from '../stores/sqlite-rows.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';
import { checkSnapshotArguments, snapshotJson } from './validate-snapshot.js';

const LOAD = 'SELECT version, state FROM foundation_snapshots WHERE stream = ? AND kind = ?';
const SAVE = `INSERT INTO foundation_snapshots (stream, kind, version, state, time) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (stream, kind) DO UPDATE SET version = excluded.version, state = excluded.state, time = excluded.time
WHERE excluded.version > foundation_snapshots.version`;

interface Statements {
  readonly db: BetterSqlite3.Database;
  readonly load: BetterSqlite3.Statement<[string, string], { version: number; state: string }>;
  readonly save: BetterSqlite3.Statement<[string, string, number, string, number]>;
}

/** Options of the SQL snapshot stores. */
export interface SqlSnapshotStoreOptions {
  /** Clock for each snapshot's `time` column (default: the system clock). */
  readonly clock?: Clock;
}

/**
 * A {@link SnapshotStore} on SQLite. The storage must be open; the `events` migrations run at
 * {@link SqliteSnapshotStore.open} or on first use.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  readonly #clock: Clock;
  readonly #access: SqliteCapability<Statements>;

  /** @param storage - an opened SQLite storage. */
  constructor(storage: Storage, options: SqlSnapshotStoreOptions = {}) {
    this.#access = new SqliteCapability(
      storage,
      'events',
      EVENTS_MIGRATIONS,
      'SQLite snapshot store',
      (db) => ({
        db,
        load: db.prepare<[string, string], { version: number; state: string }>(LOAD),
        save: db.prepare<[string, string, number, string, number]>(SAVE),
      }),
    );
    this.#clock = options.clock ?? systemClock;
  }

  /** Runs the `events` migrations (idempotent) and prepares the statements. */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** The snapshot of `stream` for `kind`, if any. */
  async load(stream: string, kind: string): Promise<Snapshot | undefined> {
    checkSnapshotArguments(stream, kind);
    const s = await this.#access.ready();
    let row: { version: number; state: string } | undefined;
    try {
      row = s.load.get(stream, kind);
    } catch (error) {
      throw classifySqliteError(error);
    }
    return row === undefined
      ? undefined
      : { version: row.version, state: JSON.parse(row.state) as JsonValue };
  }

  /** Upserts unless a snapshot at the same or a later version is stored. */
  async save(stream: string, kind: string, version: number, state: JsonValue): Promise<void> {
    checkSnapshotArguments(stream, kind, version);
    const json = snapshotJson(state);
    const s = await this.#access.ready();
    try {
      s.save.run(stream, kind, version, json, this.#clock.now());
    } catch (error) {
      throw classifySqliteError(error);
    }
  }
}
