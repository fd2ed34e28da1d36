/**
 * Projections in SQLite (`foundation_projections`, `foundation_projection_states`, on the storage's
 * connection). A batch commit is one `BEGIN IMMEDIATE` transaction: checkpoint check, row loads, the fold,
 * row writes and the new checkpoint. Inline projections use {@link SqliteProjectionStore.loadSync} /
 * {@link SqliteProjectionStore.writeSync} inside the event store's append transaction (same connection), and
 * are rebuilt by {@link SqliteProjectionStore.rebuildInline} in one `BEGIN IMMEDIATE` transaction.
 *
 * @module
 */
import { SqliteCapability } from '../../storage/index.js';
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import type { Storage } from '../../storage/index.js';
import type { JsonValue } from '../model/types.js';
import { classifySqliteError, EVENT_COLUMNS, rowsToEvents, type EventRow } from '../stores/sqlite-rows.js';
import type { RowChange } from './fold.js';
import type { InlineRebuilder, LogFold, RebuildSink } from './inline-rebuild.js';
import { INLINE_REBUILD_PAGE } from './inline-rebuild.js';
import { checkpointConflict, unknownProjection } from './memory-projection-store.js';
import { PROJECTIONS_MIGRATIONS } from './migrations.js';
import type { BatchCommit, ProjectionRecord, ProjectionStore } from './projection-store.js';
import type { RecordSqlRow, StateSqlRow } from './record-rows.js';
import { RECORD_COLUMNS, toProjectionRow, toRecord } from './record-rows.js';
import type { ProjectionMode, ProjectionRow } from './types.js';

interface Statements {
  readonly db: BetterSqlite3.Database;
  readonly record: BetterSqlite3.Statement<[string], RecordSqlRow>;
  readonly records: BetterSqlite3.Statement<[], RecordSqlRow>;
  readonly insertRecord: BetterSqlite3.Statement<[string, string, number]>;
  readonly setMode: BetterSqlite3.Statement<[string, number, string, string]>;
  readonly inlinePosition: BetterSqlite3.Statement<[number, number, string, number]>;
  readonly reset: BetterSqlite3.Statement<[string, number | null, number, string]>;
  readonly deleteRows: BetterSqlite3.Statement<[string]>;
  readonly fail: BetterSqlite3.Statement<[string, number, string]>;
  readonly resume: BetterSqlite3.Statement<[number, string]>;
  readonly get: BetterSqlite3.Statement<[string, string], StateSqlRow>;
  readonly listFirst: BetterSqlite3.Statement<[string, number], StateSqlRow>;
  readonly listAfter: BetterSqlite3.Statement<[string, string, number], StateSqlRow>;
  readonly upsert: BetterSqlite3.Statement<[string, string, string, number, number]>;
  readonly deleteRow: BetterSqlite3.Statement<[string, string]>;
  readonly commit: BetterSqlite3.Transaction<(batch: BatchCommit) => ProjectionRecord>;
  readonly resetTx: BetterSqlite3.Transaction<
    (name: string, target: number, now: number) => ProjectionRecord
  >;
}

const STATE_COLUMNS = 'key, state, position, updated';

/** A {@link ProjectionStore} on SQLite. The storage must be open (and `sqlite`) before `open()`. */
export class SqliteProjectionStore implements ProjectionStore, InlineRebuilder {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  readonly #access: SqliteCapability<Statements>;

  /** @param storage - an opened SQLite storage; the `projections` migrations run at open. */
  constructor(storage: Storage) {
    this.#access = new SqliteCapability(
      storage,
      'projections',
      PROJECTIONS_MIGRATIONS,
      'SQLite projection store',
      prepare,
    );
  }

  /** Runs the `projections` migrations. Idempotent. */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** The projection record, created (`running`) when absent; a record of the other mode is switched. */
  async ensure(name: string, mode: ProjectionMode, now: number): Promise<ProjectionRecord> {
    const s = await this.#access.ready();
    return run(() => {
      s.insertRecord.run(name, mode, now);
      s.setMode.run(mode, now, name, mode);
      return toRecord(s.record.get(name) as RecordSqlRow, true);
    });
  }

  /** The projection record, or `undefined` when it was never created. */
  async record(name: string): Promise<ProjectionRecord | undefined> {
    const s = await this.#access.ready();
    return run(() => {
      const row = s.record.get(name);
      return row === undefined ? undefined : toRecord(row, true);
    });
  }

  /** Every projection record. */
  async records(): Promise<ProjectionRecord[]> {
    const s = await this.#access.ready();
    return run(() => s.records.all().map((row) => toRecord(row, true)));
  }

  /** The row `key` of the projection, or `undefined`. */
  async get(name: string, key: string): Promise<ProjectionRow | undefined> {
    const s = await this.#access.ready();
    return run(() => {
      const row = s.get.get(name, key);
      return row === undefined ? undefined : toProjectionRow(row, true);
    });
  }

  /** Rows by key ascending, after `after`, at most `limit`. */
  async list(name: string, after: string | undefined, limit: number): Promise<ProjectionRow[]> {
    const s = await this.#access.ready();
    return run(() =>
      (after === undefined ? s.listFirst.all(name, limit) : s.listAfter.all(name, after, limit)).map((row) =>
        toProjectionRow(row, true),
      ),
    );
  }

  /** Commits one batch: rows and checkpoint together. Returns the updated record. */
  async commitBatch(batch: BatchCommit): Promise<ProjectionRecord> {
    const s = await this.#access.ready();
    return run(() => s.commit.immediate(batch));
  }

  /** Deletes the rows, clears the checkpoint and starts a rebuild towards `target`. */
  async reset(name: string, target: number, now: number): Promise<ProjectionRecord> {
    const s = await this.#access.ready();
    return run(() => s.resetTx.immediate(name, target, now));
  }

  /** Marks the projection failed; the rows stay as the last batch left them. */
  async fail(name: string, error: NonNullable<ProjectionRecord['error']>, now: number): Promise<void> {
    const s = await this.#access.ready();
    run(() => s.fail.run(JSON.stringify(error), now, name));
  }

  /** Clears a failure: back to `rebuilding` when a target is set, else `running`. */
  async resume(name: string, now: number): Promise<void> {
    const s = await this.#access.ready();
    run(() => s.resume.run(now, name));
  }

  /**
   * Rebuilds an inline projection in one `BEGIN IMMEDIATE` transaction on the storage's connection (the
   * write lock: appends of every connection wait, this process's event loop is busy meanwhile): folds
   * `foundation_events` page by page, replaces the rows, sets the record `running` at the fold's position.
   * A throwing fold rolls back: the rows stay as they were. The sink hears of it after the transaction ended.
   */
  async rebuildInline(
    name: string,
    fold: LogFold,
    sink: RebuildSink,
    now: number,
  ): Promise<ProjectionRecord> {
    const s = await this.#access.ready();
    const db = s.db;
    const head = db.prepare<[], { head: number | null }>(
      'SELECT max(position) AS head FROM foundation_events',
    );
    const page = db.prepare<[number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM foundation_events WHERE position > ? ORDER BY position LIMIT ?`,
    );
    const finish = db.prepare<[number, number, string]>(
      `UPDATE foundation_projections SET checkpoint = NULL, position = ?, status = 'running', target = NULL,
error = NULL, updated = ? WHERE projection = ?`,
    );
    // Reported after the transaction: a listener that appended from inside it would run on this connection,
    // nested in the rebuild's transaction.
    const reports: (() => void)[] = [];
    const rebuild = db.transaction((): ProjectionRecord => {
      if (s.record.get(name) === undefined) throw unknownProjection(name);
      const target = head.get()?.head ?? 0;
      reports.push(() => {
        sink.started(target);
      });
      for (let after = 0; ;) {
        const events = rowsToEvents(page.all(after, INLINE_REBUILD_PAGE));
        if (events.length === 0) break;
        fold.add(events);
        after = fold.position;
        const position = after;
        reports.push(() => {
          sink.progress(position, target);
        });
      }
      s.deleteRows.run(name);
      for (const change of fold.rows()) {
        s.upsert.run(name, change.key, change.json as string, change.position, now);
      }
      finish.run(fold.position, now, name);
      return toRecord(s.record.get(name) as RecordSqlRow, true);
    });
    try {
      return run(() => rebuild.immediate());
    } finally {
      for (const report of reports) report();
    }
  }

  /**
   * The current states of `keys`, read on `db` (the event store's connection, inside its append
   * transaction). Requires `open()` to have run.
   */
  loadSync(name: string, keys: readonly string[]): Map<string, JsonValue> {
    const s = this.#sync();
    const out = new Map<string, JsonValue>();
    for (const key of keys) {
      const row = s.get.get(name, key);
      if (row !== undefined) out.set(key, JSON.parse(row.state as string) as JsonValue);
    }
    return out;
  }

  /** Writes an inline projection's changes (inside the caller's transaction) and advances its position. */
  writeSync(name: string, changes: readonly RowChange[], now: number): void {
    const s = this.#sync();
    let position = 0;
    for (const change of changes) {
      if (change.json === null) s.deleteRow.run(name, change.key);
      else s.upsert.run(name, change.key, change.json, change.position, now);
      position = Math.max(position, change.position);
    }
    if (position > 0) s.inlinePosition.run(position, now, name, position);
  }

  #sync(): Statements {
    const s = this.#access.current();
    if (s === undefined) {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: 'The SQLite projection store is not open',
      });
    }
    return s;
  }
}

function prepare(db: BetterSqlite3.Database): Statements {
  const record = db.prepare<[string], RecordSqlRow>(
    `SELECT ${RECORD_COLUMNS} FROM foundation_projections WHERE projection = ?`,
  );
  const get = db.prepare<[string, string], StateSqlRow>(
    `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = ? AND key = ?`,
  );
  const upsert = db.prepare<[string, string, string, number, number]>(
    `INSERT INTO foundation_projection_states (projection, key, state, position, updated) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (projection, key) DO UPDATE SET state = excluded.state, position = excluded.position, updated = excluded.updated`,
  );
  const deleteRow = db.prepare<[string, string]>(
    'DELETE FROM foundation_projection_states WHERE projection = ? AND key = ?',
  );
  const advance = db.prepare<[string, number, number, string]>(
    'UPDATE foundation_projections SET checkpoint = ?, position = max(position, ?), updated = ? WHERE projection = ?',
  );
  const finishRebuild = db.prepare<[string]>(
    `UPDATE foundation_projections SET status = 'running', target = NULL WHERE projection = ? AND status = 'rebuilding'`,
  );
  const deleteRows = db.prepare<[string]>('DELETE FROM foundation_projection_states WHERE projection = ?');
  const reset = db.prepare<[string, number | null, number, string]>(
    `UPDATE foundation_projections SET checkpoint = NULL, position = 0, status = ?, target = ?, error = NULL,
updated = ? WHERE projection = ?`,
  );
  const commit = db.transaction((batch: BatchCommit): ProjectionRecord => {
    const row = record.get(batch.name);
    if (row === undefined) throw unknownProjection(batch.name);
    if (row.checkpoint !== batch.expected) throw checkpointConflict(batch.name);
    const current = new Map<string, JsonValue>();
    for (const key of batch.keys) {
      const found = get.get(batch.name, key);
      if (found !== undefined) current.set(key, JSON.parse(found.state as string) as JsonValue);
    }
    for (const change of batch.plan(current)) {
      if (change.json === null) deleteRow.run(batch.name, change.key);
      else upsert.run(batch.name, change.key, change.json, change.position, batch.now);
    }
    advance.run(batch.checkpoint, batch.position, batch.now, batch.name);
    if (batch.finishRebuild) finishRebuild.run(batch.name);
    return toRecord(record.get(batch.name) as RecordSqlRow, true);
  });
  const resetTx = db.transaction((name: string, target: number, now: number): ProjectionRecord => {
    if (record.get(name) === undefined) throw unknownProjection(name);
    deleteRows.run(name);
    reset.run(target > 0 ? 'rebuilding' : 'running', target > 0 ? target : null, now, name);
    return toRecord(record.get(name) as RecordSqlRow, true);
  });
  return {
    db,
    record,
    records: db.prepare<[], RecordSqlRow>(
      `SELECT ${RECORD_COLUMNS} FROM foundation_projections ORDER BY projection`,
    ),
    insertRecord: db.prepare<[string, string, number]>(
      `INSERT INTO foundation_projections (projection, mode, status, updated) VALUES (?, ?, 'running', ?)
ON CONFLICT (projection) DO NOTHING`,
    ),
    setMode: db.prepare<[string, number, string, string]>(
      'UPDATE foundation_projections SET mode = ?, updated = ? WHERE projection = ? AND mode <> ?',
    ),
    inlinePosition: db.prepare<[number, number, string, number]>(
      'UPDATE foundation_projections SET position = ?, updated = ? WHERE projection = ? AND position < ?',
    ),
    reset,
    deleteRows,
    fail: db.prepare<[string, number, string]>(
      `UPDATE foundation_projections SET status = 'failed', error = ?, updated = ? WHERE projection = ?`,
    ),
    resume: db.prepare<[number, string]>(
      `UPDATE foundation_projections SET status = CASE WHEN target IS NULL THEN 'running' ELSE 'rebuilding' END,
error = NULL, updated = ? WHERE projection = ? AND status = 'failed'`,
    ),
    get,
    listFirst: db.prepare<[string, number], StateSqlRow>(
      `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = ? ORDER BY key LIMIT ?`,
    ),
    listAfter: db.prepare<[string, string, number], StateSqlRow>(
      `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = ? AND key > ? ORDER BY key LIMIT ?`,
    ),
    upsert,
    deleteRow,
    commit,
    resetTx,
  };
}

function run<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof FoundationError) throw error;
    throw classifySqliteError(error);
  }
}
