/**
 * Projections in PostgreSQL (`foundation_projections`, `foundation_projection_states` in the storage's
 * schema, JSONB states). A batch commit is one transaction: the record is locked (`FOR UPDATE`) and its
 * checkpoint compared, the touched rows loaded, folded, written with one statement, and the checkpoint
 * advanced. Inline projections run {@link lockLoadInline} and {@link writeInline} on the event store's
 * transaction client.
 *
 * @module
 */
import { PostgresCapability } from '../../storage/index.js';
import type pg from 'pg';
import { FoundationError } from '../../errors/index.js';
import { classifyPgError, type Storage } from '../../storage/index.js';
import type { JsonValue } from '../model/types.js';
import { pgRows, pgTransaction, type PgStatement } from '../stores/postgres-client.js';
import { PG_EVENT_COLUMNS, pgRowToEvent, type PgEventRow } from '../stores/postgres-rows.js';
import type { RowChange } from './fold.js';
import type { InlineRebuilder, LogFold, RebuildSink } from './inline-rebuild.js';
import { INLINE_REBUILD_PAGE } from './inline-rebuild.js';
import { checkpointConflict, unknownProjection } from './memory-projection-store.js';
import { PROJECTIONS_MIGRATIONS } from './migrations.js';
import type { BatchCommit, ProjectionRecord, ProjectionStore } from './projection-store.js';
import type { RecordSqlRow, StateSqlRow } from './record-rows.js';
import { RECORD_COLUMNS, toProjectionRow, toRecord } from './record-rows.js';
import type { ProjectionMode, ProjectionRow } from './types.js';

const STATE_COLUMNS = 'key, state, position, updated';
const RECORD: PgStatement = {
  name: 'fnd_projections_record',
  text: `SELECT ${RECORD_COLUMNS} FROM foundation_projections WHERE projection = $1`,
};
const RECORDS = `SELECT ${RECORD_COLUMNS} FROM foundation_projections ORDER BY projection COLLATE "C"`;
const ENSURE = `WITH ins AS (
  INSERT INTO foundation_projections (projection, mode, status, updated) VALUES ($1, $2, 'running', $3)
  ON CONFLICT (projection) DO UPDATE SET mode = excluded.mode, updated = excluded.updated
  WHERE foundation_projections.mode <> excluded.mode
  RETURNING ${RECORD_COLUMNS})
SELECT ${RECORD_COLUMNS} FROM ins UNION ALL
SELECT ${RECORD_COLUMNS} FROM foundation_projections WHERE projection = $1 AND NOT EXISTS (SELECT 1 FROM ins)`;
const GET: PgStatement = {
  name: 'fnd_projections_get',
  text: `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = $1 AND key = $2`,
};
const LIST_FIRST: PgStatement = {
  name: 'fnd_projections_list_first',
  text: `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = $1 ORDER BY key LIMIT $2`,
};
const LIST_AFTER: PgStatement = {
  name: 'fnd_projections_list_after',
  text: `SELECT ${STATE_COLUMNS} FROM foundation_projection_states WHERE projection = $1 AND key > $2 ORDER BY key LIMIT $3`,
};
const LOCK_RECORD: PgStatement = {
  name: 'fnd_projections_lock_record',
  text: 'SELECT checkpoint FROM foundation_projections WHERE projection = $1 FOR UPDATE',
};
const LOCK_RECORDS: PgStatement = {
  name: 'fnd_projections_lock_records',
  text: 'SELECT projection FROM foundation_projections WHERE projection = ANY($1::text[]) ORDER BY projection COLLATE "C" FOR UPDATE',
};
const LOAD: PgStatement = {
  name: 'fnd_projections_load',
  text: `SELECT s.projection, s.key, s.state FROM foundation_projection_states s
JOIN unnest($1::text[], $2::text[]) AS t(p, k) ON s.projection = t.p AND s.key = t.k`,
};
/** Upserts and deletes rows of several projections and advances their positions, in one statement. */
const WRITE: PgStatement = {
  name: 'fnd_projections_write',
  text: `WITH up AS (
  INSERT INTO foundation_projection_states (projection, key, state, position, updated)
  SELECT t.p, t.k, t.s::jsonb, t.pos, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(p, k, s, pos)
  WHERE t.s IS NOT NULL
  ON CONFLICT (projection, key) DO UPDATE SET state = excluded.state, position = excluded.position, updated = excluded.updated
  RETURNING 1
), del AS (
  DELETE FROM foundation_projection_states d USING unnest($1::text[], $2::text[], $3::text[]) AS t(p, k, s)
  WHERE t.s IS NULL AND d.projection = t.p AND d.key = t.k
  RETURNING 1
)
UPDATE foundation_projections r SET position = GREATEST(r.position, m.pos), updated = $5
FROM (SELECT u.p, max(u.pos) AS pos FROM unnest($1::text[], $4::bigint[]) AS u(p, pos) GROUP BY u.p) m
WHERE r.projection = m.p AND $6::boolean`,
};
const ADVANCE: PgStatement = {
  name: 'fnd_projections_advance',
  text: `UPDATE foundation_projections SET checkpoint = $2, position = GREATEST(position, $3), updated = $4,
status = CASE WHEN $5::boolean AND status = 'rebuilding' THEN 'running' ELSE status END,
target = CASE WHEN $5::boolean AND status = 'rebuilding' THEN NULL ELSE target END
WHERE projection = $1 RETURNING ${RECORD_COLUMNS}`,
};
const DELETE_ROWS = 'DELETE FROM foundation_projection_states WHERE projection = $1';
const RESET = `UPDATE foundation_projections SET checkpoint = NULL, position = 0, status = $2, target = $3, error = NULL,
updated = $4 WHERE projection = $1 RETURNING ${RECORD_COLUMNS}`;
const FAIL = `UPDATE foundation_projections SET status = 'failed', error = $2::jsonb, updated = $3 WHERE projection = $1`;
const RESUME = `UPDATE foundation_projections SET status = CASE WHEN target IS NULL THEN 'running' ELSE 'rebuilding' END,
error = NULL, updated = $2 WHERE projection = $1 AND status = 'failed'`;

/**
 * Blocks every append (their INSERT takes ROW EXCLUSIVE, which conflicts) and waits for those that inserted
 * and have not committed yet; self-conflicting, so two rebuilds run one after the other. Taken before the
 * projection's record lock: an inline append takes the record lock after its INSERT, so this order never
 * deadlocks.
 */
const LOCK_EVENTS = 'LOCK TABLE foundation_events IN SHARE ROW EXCLUSIVE MODE';
const EVENTS_HEAD = 'SELECT COALESCE(max(position), 0) AS head FROM foundation_events';
const EVENTS_PAGE: PgStatement = {
  name: 'fnd_projections_rebuild_page',
  text: `SELECT ${PG_EVENT_COLUMNS} FROM foundation_events WHERE position > $1 ORDER BY position LIMIT $2`,
};
const FINISH_INLINE = `UPDATE foundation_projections SET checkpoint = NULL, position = $2, status = 'running',
target = NULL, error = NULL, updated = $3 WHERE projection = $1 RETURNING ${RECORD_COLUMNS}`;
/** Rows written per statement by an inline rebuild. */
const WRITE_CHUNK = 5000;

/** One change of an inline group, with its projection. */
export interface NamedChange {
  readonly projection: string;
  readonly change: RowChange;
}

/** A {@link ProjectionStore} on PostgreSQL. The storage must be open before the first call. */
export class PostgresProjectionStore implements ProjectionStore, InlineRebuilder {
  /** Always `postgres`. */
  readonly kind = 'postgres';
  readonly #access: PostgresCapability;

  /** @param storage - an opened PostgreSQL storage; the `projections` migrations run at open. */
  constructor(storage: Storage) {
    this.#access = new PostgresCapability(
      storage,
      'projections',
      PROJECTIONS_MIGRATIONS,
      'PostgreSQL projection store',
    );
  }

  async open(): Promise<void> {
    await this.#access.ready();
  }

  async ensure(name: string, mode: ProjectionMode, now: number): Promise<ProjectionRecord> {
    const pool = await this.#access.ready();
    let rows = await pgRows<RecordSqlRow>(pool, ENSURE, [name, mode, now]);
    // Another process inserted the record concurrently: the conflict hid it from this statement's snapshot
    // (nothing updated, nothing selected); the next statement sees it.
    if (rows[0] === undefined) rows = await pgRows<RecordSqlRow>(pool, ENSURE, [name, mode, now]);
    return toRecord(rows[0] as RecordSqlRow, false);
  }

  async record(name: string): Promise<ProjectionRecord | undefined> {
    const rows = await pgRows<RecordSqlRow>(await this.#access.ready(), RECORD, [name]);
    return rows[0] === undefined ? undefined : toRecord(rows[0], false);
  }

  async records(): Promise<ProjectionRecord[]> {
    const rows = await pgRows<RecordSqlRow>(await this.#access.ready(), RECORDS, []);
    return rows.map((row) => toRecord(row, false));
  }

  async get(name: string, key: string): Promise<ProjectionRow | undefined> {
    const rows = await pgRows<StateSqlRow>(await this.#access.ready(), GET, [name, key]);
    return rows[0] === undefined ? undefined : toProjectionRow(rows[0], false);
  }

  async list(name: string, after: string | undefined, limit: number): Promise<ProjectionRow[]> {
    const pool = await this.#access.ready();
    const rows =
      after === undefined
        ? await pgRows<StateSqlRow>(pool, LIST_FIRST, [name, limit])
        : await pgRows<StateSqlRow>(pool, LIST_AFTER, [name, after, limit]);
    return rows.map((row) => toProjectionRow(row, false));
  }

  async commitBatch(batch: BatchCommit): Promise<ProjectionRecord> {
    const pool = await this.#access.ready();
    return this.#transaction(pool, async (client) => {
      const locked = await client.query<{ checkpoint: string | null }>(config(LOCK_RECORD, [batch.name]));
      const row = locked.rows[0];
      if (row === undefined) throw unknownProjection(batch.name);
      if (row.checkpoint !== batch.expected) throw checkpointConflict(batch.name);
      const current = new Map<string, JsonValue>();
      if (batch.keys.length > 0) {
        const loaded = await client.query<{ key: string; state: JsonValue }>(
          config(LOAD, [batch.keys.map(() => batch.name), batch.keys]),
        );
        for (const found of loaded.rows) current.set(found.key, found.state);
      }
      const changes = batch.plan(current);
      await writeChanges(
        client,
        changes.map((change) => ({ projection: batch.name, change })),
        batch.now,
        false,
      );
      const advanced = await client.query<RecordSqlRow>(
        config(ADVANCE, [batch.name, batch.checkpoint, batch.position, batch.now, batch.finishRebuild]),
      );
      return toRecord(advanced.rows[0] as RecordSqlRow, false);
    });
  }

  async reset(name: string, target: number, now: number): Promise<ProjectionRecord> {
    const pool = await this.#access.ready();
    return this.#transaction(pool, async (client) => {
      const locked = await client.query(config(LOCK_RECORD, [name]));
      if (locked.rows.length === 0) throw unknownProjection(name);
      await client.query(DELETE_ROWS, [name]);
      const rows = await client.query<RecordSqlRow>(RESET, [
        name,
        target > 0 ? 'rebuilding' : 'running',
        target > 0 ? target : null,
        now,
      ]);
      return toRecord(rows.rows[0] as RecordSqlRow, false);
    });
  }

  /**
   * Rebuilds an inline projection in one transaction holding `LOCK TABLE foundation_events IN SHARE ROW
   * EXCLUSIVE MODE` (every append, of any process, waits) and the record's row lock: folds the log in pages,
   * replaces the rows, sets the record `running` at the fold's position, commits. A throwing fold rolls back.
   */
  async rebuildInline(
    name: string,
    fold: LogFold,
    sink: RebuildSink,
    now: number,
  ): Promise<ProjectionRecord> {
    const pool = await this.#access.ready();
    return this.#transaction(pool, async (client) => {
      await client.query(LOCK_EVENTS);
      const locked = await client.query(config(LOCK_RECORD, [name]));
      if (locked.rows.length === 0) throw unknownProjection(name);
      const head = await client.query<{ head: string | number }>(EVENTS_HEAD);
      const target = Number(head.rows[0]?.head ?? 0);
      sink.started(target);
      for (let after = 0; ;) {
        const page = await client.query<PgEventRow>(config(EVENTS_PAGE, [after, INLINE_REBUILD_PAGE]));
        if (page.rows.length === 0) break;
        fold.add(page.rows.map(pgRowToEvent));
        after = fold.position;
        sink.progress(after, target);
      }
      await client.query(DELETE_ROWS, [name]);
      const rows = fold.rows();
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        const chunk = rows.slice(i, i + WRITE_CHUNK).map((change) => ({ projection: name, change }));
        await writeChanges(client, chunk, now, false);
      }
      const finished = await client.query<RecordSqlRow>(FINISH_INLINE, [name, fold.position, now]);
      return toRecord(finished.rows[0] as RecordSqlRow, false);
    });
  }

  async fail(name: string, error: NonNullable<ProjectionRecord['error']>, now: number): Promise<void> {
    await pgRows(await this.#access.ready(), FAIL, [name, JSON.stringify(error), now]);
  }

  async resume(name: string, now: number): Promise<void> {
    await pgRows(await this.#access.ready(), RESUME, [name, now]);
  }

  async #transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await pgTransaction(pool, async (client) => ({ value: await body(client), commit: true }));
    } catch (error) {
      if (error instanceof FoundationError) throw error;
      throw classifyPgError(error);
    }
  }
}

function config(statement: PgStatement, values: readonly unknown[]): pg.QueryConfig {
  return typeof statement === 'string'
    ? { text: statement, values: values as unknown[] }
    : { name: statement.name, text: statement.text, values: values as unknown[] };
}

/**
 * Inline projections, inside the event store's transaction: locks the records of `projections` (in name
 * order: concurrent appends touching the same projection serialize here, without deadlock) and loads the
 * stored states of `keys` (`[projection, key]` pairs).
 */
export async function lockLoadInline(
  client: pg.PoolClient,
  projections: readonly string[],
  keys: readonly (readonly [string, string])[],
): Promise<Map<string, Map<string, JsonValue>>> {
  await client.query(config(LOCK_RECORDS, [projections]));
  const out = new Map<string, Map<string, JsonValue>>();
  if (keys.length === 0) return out;
  const loaded = await client.query<{ projection: string; key: string; state: JsonValue }>(
    config(LOAD, [keys.map((k) => k[0]), keys.map((k) => k[1])]),
  );
  for (const row of loaded.rows) {
    let states = out.get(row.projection);
    if (states === undefined) {
      states = new Map();
      out.set(row.projection, states);
    }
    states.set(row.key, row.state);
  }
  return out;
}

/** Writes changes of several projections in one statement; `advanceInline` also raises their positions. */
export async function writeChanges(
  client: pg.PoolClient,
  changes: readonly NamedChange[],
  now: number,
  advanceInline: boolean,
): Promise<void> {
  if (changes.length === 0) return;
  await client.query(
    config(WRITE, [
      changes.map((c) => c.projection),
      changes.map((c) => c.change.key),
      changes.map((c) => c.change.json),
      changes.map((c) => c.change.position),
      now,
      advanceInline,
    ]),
  );
}
