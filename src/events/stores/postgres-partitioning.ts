/**
 * Opt-in time partitioning of `foundation_events` on PostgreSQL: the table becomes `PARTITION BY RANGE
 * (time)` with one partition per day, week or month (UTC) and a DEFAULT partition, so old events go by
 * detaching and dropping a partition instead of a DELETE.
 *
 * What stays true after the conversion (the event store's SQL is unchanged):
 * - Ids are unique across partitions: a partitioned table cannot have `UNIQUE (id)` without the partition
 *   key, so a side table `foundation_event_ids (id PRIMARY KEY, time)` is filled by a statement-level AFTER INSERT
 *   trigger (transition table, one set insert per statement). A concurrent append of the same id waits on
 *   that index and fails with the same unique violation (23505) the store already handles; DELETE and
 *   TRUNCATE triggers keep it in step, and dropped partitions have their ids removed in batches.
 * - Stream versions stay unique: every append locks the stream's `foundation_streams` row (upsert) before it
 *   computes versions, so `(stream, stream_version)` becomes a plain index.
 * - Positions stay unique and increasing: the identity column lives on the partitioned table (one sequence),
 *   continued from the old table's sequence. The primary key becomes `(position, time)`.
 * - Every column, default and index of the table as the events migrations left it is kept (built from the
 *   catalog, not from a fixed layout); a unique index without `time` becomes a plain index. Triggers are
 *   copied.
 *
 * Costs (measured, docs/retention.md): the id guard adds ≈ 35 µs of server time to a single-event insert and
 * ≈ 10 µs per event to a batch. The store's id lookups (`WHERE id = …`: get, the transactional append path)
 * probe the `id` index of every partition, so they grow with the number of partitions: keep it in the tens
 * (a day interval with a month of retention, a week or month interval for longer). `foundation_event_ids`
 * holds each id's `time`, so those lookups could become one probe plus partition pruning (a change of the
 * store's SQL).
 *
 * @module
 */
import type pg from 'pg';
import { FoundationError } from '../../errors/index.js';
import { pgTransaction } from './postgres-client.js';

/** Width of one partition. */
export type PartitionInterval = 'day' | 'week' | 'month';

/** Partitioning options. */
export interface PartitioningOptions {
  /** One partition per UTC day, ISO week (from Monday) or month. */
  readonly interval: PartitionInterval;
  /** Future partitions kept ready beyond the current one (default 2, at most 366). */
  readonly premake?: number;
}

/** Default {@link PartitioningOptions.premake}. */
export const DEFAULT_PREMAKE = 2;
/** Most partitions a conversion creates for existing data; older data goes to one history partition. */
export const MAX_BACKFILL_PARTITIONS = 400;
/** Name of the DEFAULT partition. */
export const DEFAULT_PARTITION = 'foundation_events_default';
/** Name prefix of a partition detached by retention, not yet dropped. */
export const DETACHED_PREFIX = 'foundation_events_detached_';

const DAY = 86_400_000;

/** Validates partitioning options; `FND_EVENTS_INVALID_POLICY` on anything else. */
export function validatePartitioning(input: unknown): Required<PartitioningOptions> {
  const bad = (reason: string): FoundationError =>
    new FoundationError('FND_EVENTS_INVALID_POLICY', {
      message: `Invalid partitioning: ${reason}`,
      context: { field: 'partitioning', reason },
    });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('must be an object');
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (key !== 'interval' && key !== 'premake') throw bad(`unknown field ${key}`);
  if (o.interval !== 'day' && o.interval !== 'week' && o.interval !== 'month') {
    throw bad('interval must be day, week or month');
  }
  const premake = o.premake ?? DEFAULT_PREMAKE;
  if (typeof premake !== 'number' || !Number.isSafeInteger(premake) || premake < 0 || premake > 366) {
    throw bad('premake must be an integer from 0 to 366');
  }
  return { interval: o.interval, premake };
}

/** Start (ms, UTC) of the interval holding `time`. */
export function intervalStart(interval: PartitionInterval, time: number): number {
  const days = Math.floor(time / DAY);
  if (interval === 'day') return days * DAY;
  if (interval === 'week') return (days - ((((days + 3) % 7) + 7) % 7)) * DAY; // 1970-01-01 was a Thursday
  const d = new Date(days * DAY);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the interval after the one starting at `start`. */
export function nextIntervalStart(interval: PartitionInterval, start: number): number {
  if (interval === 'day') return start + DAY;
  if (interval === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Partition name of the interval starting at `start`: `foundation_events_p20261129`. */
export function partitionName(start: number): string {
  return `foundation_events_p${new Date(start).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** A partition of `foundation_events` as the catalog describes it. `from`/`to` null: MINVALUE/MAXVALUE. */
export interface PartitionInfo {
  /** The partition's table name. */
  readonly name: string;
  /** Whether it is the default partition (events outside every range). */
  readonly isDefault: boolean;
  /** Start of its range of `time`, ms, inclusive; `null` for MINVALUE. */
  readonly from: number | null;
  /** End of its range of `time`, ms, exclusive; `null` for MAXVALUE. */
  readonly to: number | null;
}

const LIST_PARTITIONS = `
SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass('foundation_events')
ORDER BY c.relname`;

function boundValue(text: string | undefined): number | null {
  if (text === undefined || text === 'MINVALUE' || text === 'MAXVALUE') return null;
  return Number(text.replaceAll("'", ''));
}

/** The partitions of `foundation_events` (none when it is not partitioned). */
export async function listPartitions(client: pg.ClientBase | pg.Pool): Promise<PartitionInfo[]> {
  const rows = (await client.query<{ name: string; bound: string }>(LIST_PARTITIONS)).rows;
  return rows.map((row) => {
    if (row.bound === 'DEFAULT') return { name: row.name, isDefault: true, from: null, to: null };
    const m = /FROM \(([^)]*)\) TO \(([^)]*)\)/.exec(row.bound);
    return { name: row.name, isDefault: false, from: boundValue(m?.[1]), to: boundValue(m?.[2]) };
  });
}

/** Whether `foundation_events` is a partitioned table. */
export async function isPartitioned(client: pg.ClientBase | pg.Pool): Promise<boolean> {
  const rows = (
    await client.query<{ relkind: string }>(
      `SELECT relkind FROM pg_class WHERE oid = to_regclass('foundation_events')`,
    )
  ).rows;
  return rows[0]?.relkind === 'p';
}

/** What a conversion did. */
export interface ConversionReport {
  /** False when the table was partitioned already (nothing done). */
  readonly converted: boolean;
  /** Events copied into the partitioned table. */
  readonly events: number;
  /** Partitions created (interval partitions, history, default). */
  readonly partitions: readonly string[];
}

interface IndexRow {
  readonly name: string;
  readonly def: string;
  readonly primary: boolean;
  readonly unique: boolean;
  readonly cols: string[];
}

const INDEXES = `
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def, x.indisprimary AS primary,
  x.indisunique AS unique,
  ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS cols
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = to_regclass('foundation_events')
ORDER BY i.relname`;

const TRIGGERS = `
SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger
WHERE tgrelid = to_regclass('foundation_events') AND NOT tgisinternal ORDER BY tgname`;

/** `"schema"` quoted; the storage's schema is a validated identifier. */
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** The id guard: side table, trigger functions and statement triggers (schema-qualified bodies). */
export function idGuardSql(schema: string): string {
  const s = quote(schema);
  return `
CREATE TABLE IF NOT EXISTS foundation_event_ids (id TEXT PRIMARY KEY, time BIGINT NOT NULL);
CREATE OR REPLACE FUNCTION foundation_event_ids_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${s}.foundation_event_ids (id, time) SELECT n.id, n.time FROM fnd_new_rows n ORDER BY n.id;
  RETURN NULL;
END $fn$;
CREATE OR REPLACE FUNCTION foundation_event_ids_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM ${s}.foundation_event_ids i USING fnd_old_rows o WHERE i.id = o.id;
  RETURN NULL;
END $fn$;
CREATE OR REPLACE FUNCTION foundation_event_ids_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE ${s}.foundation_event_ids;
  RETURN NULL;
END $fn$;
CREATE TRIGGER foundation_event_ids_insert AFTER INSERT ON foundation_events
  REFERENCING NEW TABLE AS fnd_new_rows FOR EACH STATEMENT EXECUTE FUNCTION foundation_event_ids_insert();
CREATE TRIGGER foundation_event_ids_delete AFTER DELETE ON foundation_events
  REFERENCING OLD TABLE AS fnd_old_rows FOR EACH STATEMENT EXECUTE FUNCTION foundation_event_ids_delete();
CREATE TRIGGER foundation_event_ids_truncate AFTER TRUNCATE ON foundation_events
  FOR EACH STATEMENT EXECUTE FUNCTION foundation_event_ids_truncate();`;
}

/** The interval starts to create partitions for, from `first` (inclusive) to `last` (inclusive). */
function starts(interval: PartitionInterval, first: number, last: number): number[] {
  const out: number[] = [];
  for (let s = first; s <= last; s = nextIntervalStart(interval, s)) out.push(s);
  return out;
}

/**
 * Converts `foundation_events` into a partitioned table, keeping every event (same positions, ids, tx…),
 * in one transaction under an ACCESS EXCLUSIVE lock (appends wait for it) and an advisory lock (two
 * processes converting at once: the second finds the work done). Run it after the events migrations (the
 * store's `open()`). Partitions: one per interval from the oldest event's to `now`'s plus `premake` (at most
 * `MAX_BACKFILL_PARTITIONS` for existing data: anything older lands in one history partition from
 * MINVALUE), and the DEFAULT partition. Idempotent: a partitioned table is left as it is.
 */
export async function convertToPartitioned(
  pool: pg.Pool,
  schema: string,
  options: PartitioningOptions,
  now: number,
): Promise<ConversionReport> {
  const { interval, premake } = validatePartitioning(options);
  return pgTransaction<ConversionReport>(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('foundation_events:partitioning'))`);
    if (await isPartitioned(client))
      return { value: { converted: false, events: 0, partitions: [] }, commit: false };
    await client.query('LOCK TABLE foundation_events IN ACCESS EXCLUSIVE MODE');
    const range = (await client.query<{ lo: string | null }>('SELECT min(time) AS lo FROM foundation_events'))
      .rows[0];
    const current = intervalStart(interval, now);
    let last = current;
    for (let i = 0; i < premake; i++) last = nextIntervalStart(interval, last);
    let first =
      range?.lo === null || range?.lo === undefined ? current : intervalStart(interval, Number(range.lo));
    if (first > current) first = current;
    let all = starts(interval, first, last);
    let history: number | undefined;
    if (all.length > MAX_BACKFILL_PARTITIONS + premake + 1) {
      all = all.slice(all.length - (MAX_BACKFILL_PARTITIONS + premake + 1));
      history = all[0];
    }
    const indexes = (await client.query<IndexRow>(INDEXES)).rows;
    const triggers = (await client.query<{ def: string }>(TRIGGERS)).rows;
    await client.query(
      'CREATE TABLE foundation_events_partitioned (LIKE foundation_events INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (time)',
    );
    const created: string[] = [];
    if (history !== undefined) {
      await client.query(
        `CREATE TABLE foundation_events_p_history PARTITION OF foundation_events_partitioned FOR VALUES FROM (MINVALUE) TO (${history})`,
      );
      created.push('foundation_events_p_history');
    }
    for (const s of all) {
      const name = partitionName(s);
      await client.query(
        `CREATE TABLE ${name} PARTITION OF foundation_events_partitioned FOR VALUES FROM (${s}) TO (${nextIntervalStart(interval, s)})`,
      );
      created.push(name);
    }
    await client.query(
      `CREATE TABLE ${DEFAULT_PARTITION} PARTITION OF foundation_events_partitioned DEFAULT`,
    );
    created.push(DEFAULT_PARTITION);
    const copied = await client.query(
      'INSERT INTO foundation_events_partitioned OVERRIDING SYSTEM VALUE SELECT * FROM foundation_events',
    );
    // Positions continue from the old identity sequence (not from max(position): rolled-back ones stay used).
    const seq = (
      await client.query<{ seq: string | null }>(
        `SELECT pg_get_serial_sequence('foundation_events', 'position') AS seq`,
      )
    ).rows[0]?.seq;
    if (seq !== undefined && seq !== null) {
      const state = (
        await client.query<{ v: string; c: boolean }>(`SELECT last_value AS v, is_called AS c FROM ${seq}`)
      ).rows[0];
      await client.query(
        `SELECT setval(pg_get_serial_sequence('foundation_events_partitioned', 'position'), $1, $2)`,
        [state?.v ?? '1', state?.c ?? false],
      );
    }
    await client.query('DROP TABLE foundation_events');
    await client.query('ALTER TABLE foundation_events_partitioned RENAME TO foundation_events');
    await client.query(
      'ALTER SEQUENCE foundation_events_partitioned_position_seq RENAME TO foundation_events_position_seq',
    );
    for (const index of indexes) await client.query(partitionedIndexSql(index));
    for (const trigger of triggers) await client.query(trigger.def);
    await client.query(idGuardSql(schema));
    await client.query('INSERT INTO foundation_event_ids (id, time) SELECT id, time FROM foundation_events');
    await client.query('ANALYZE foundation_events');
    return { value: { converted: true, events: copied.rowCount ?? 0, partitions: created }, commit: true };
  });
}

/** The index on the partitioned table: the same, with `time` added to the primary key, and non-unique without `time`. */
function partitionedIndexSql(index: IndexRow): string {
  if (index.primary) {
    const cols = index.cols.includes('time') ? index.cols : [...index.cols, 'time'];
    return `ALTER TABLE foundation_events ADD CONSTRAINT ${quote(index.name)} PRIMARY KEY (${cols.map(quote).join(', ')})`;
  }
  if (index.unique && !index.cols.includes('time'))
    return index.def.replace(/^CREATE UNIQUE INDEX /, 'CREATE INDEX ');
  return index.def;
}
