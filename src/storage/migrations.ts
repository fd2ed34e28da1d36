/**
 * The migration runner behind `Storage.migrate`: numbered, append-only migrations per capability, recorded in
 * `foundation_migrations` with a checksum of the SQL that ran. Each migration runs in its own transaction
 * together with its record, under a lock that makes concurrent migrators (other processes, other nodes) apply
 * each migration exactly once: `BEGIN IMMEDIATE` on SQLite, `pg_advisory_xact_lock` on PostgreSQL.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { FoundationError, isFoundationError } from '../errors/foundation-error.js';
import { classifyPgError } from './pg-errors.js';
import { withPgClient } from './pg-pool.js';
import type { Migration, StorageHandle } from './types.js';

/** The SQL dialects a migration is written in. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A capability name: lowercase, starts with a letter, then letters, digits, `_`, `-` or `.` (max 64). */
export const CAPABILITY_NAME_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** The table that records applied migrations (same shape in both dialects). */
export const MIGRATIONS_TABLE = 'foundation_migrations';

const CREATE_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  capability TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (capability, version)
)`;

/** A row of `foundation_migrations`. */
export interface AppliedMigration {
  /** The migration's version within its capability. */
  readonly version: number;
  /** The migration's name. */
  readonly name: string;
  /** sha256 (hex) of the SQL applied, to detect a migration edited after it ran. */
  readonly checksum: string;
}

/** sha256 (hex) of a migration's SQL in one dialect, exactly as written. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

function invalidList(capability: string, reason: string): FoundationError {
  return new FoundationError('FND_STORAGE_MIGRATION_FAILED', {
    message: `Invalid migrations for "${capability.slice(0, 64)}": ${reason}`,
    context: { capability: capability.slice(0, 64), reason },
  });
}

/**
 * Checks a capability's migration list: a valid capability name, versions exactly 1..n in order, non-empty
 * names and SQL strings in both dialects.
 *
 * @throws FoundationError `FND_STORAGE_MIGRATION_FAILED` describing the first problem.
 */
export function validateMigrations(capability: string, migrations: readonly Migration[]): void {
  // Plain JavaScript callers may pass anything.
  const name: unknown = capability;
  const list: unknown = migrations;
  if (typeof name !== 'string' || !CAPABILITY_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? name : typeof name;
    throw invalidList(shown, `capability name must match ${String(CAPABILITY_NAME_PATTERN)}`);
  }
  if (!Array.isArray(list)) throw invalidList(capability, 'migrations must be an array');
  migrations.forEach((m: Partial<Migration> | undefined, index) => {
    const expected = index + 1;
    if (typeof m !== 'object') throw invalidList(capability, `entry ${index} is not a migration`);
    if (m.version !== expected) {
      throw invalidList(
        capability,
        `versions must be 1..n, contiguous and in order: entry ${index} has version ${String(m.version)}, expected ${expected}`,
      );
    }
    if (typeof m.name !== 'string' || m.name.trim() === '') {
      throw invalidList(capability, `migration ${expected} has no name`);
    }
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const sql = m[dialect];
      if (typeof sql !== 'string' || sql.trim() === '') {
        throw invalidList(capability, `migration ${expected} has no ${dialect} SQL`);
      }
    }
  });
}

/**
 * Given what is applied, the next migration to apply (or `undefined` when up to date).
 * An applied version the code does not know (a newer release migrated this database) is accepted:
 * migrations are additive, so an older release keeps working during a rolling deploy.
 *
 * @throws FoundationError `FND_STORAGE_MIGRATION_TAMPERED` when an applied migration's checksum differs from
 * the code's.
 */
export function nextMigration(
  capability: string,
  migrations: readonly Migration[],
  applied: readonly AppliedMigration[],
  dialect: SqlDialect,
): Migration | undefined {
  const byVersion = new Map(applied.map((row) => [row.version, row]));
  for (const migration of migrations) {
    const row = byVersion.get(migration.version);
    if (row === undefined) continue;
    const checksum = migrationChecksum(migration[dialect]);
    if (row.checksum !== checksum) {
      throw new FoundationError('FND_STORAGE_MIGRATION_TAMPERED', {
        message:
          `Migration ${capability} #${migration.version} (${migration.name}) was applied with different SQL than ` +
          'the code has now. Applied migrations are never edited: add a new migration instead.',
        context: {
          capability,
          version: migration.version,
          name: migration.name,
          appliedName: row.name,
          appliedChecksum: row.checksum,
          codeChecksum: checksum,
        },
      });
    }
  }
  return migrations.find((m) => !byVersion.has(m.version));
}

function migrationFailed(capability: string, migration: Migration, cause: unknown): FoundationError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FoundationError('FND_STORAGE_MIGRATION_FAILED', {
    message: `Migration ${capability} #${migration.version} (${migration.name}) failed and was rolled back: ${reason}`,
    context: { capability, version: migration.version, name: migration.name },
    cause,
  });
}

/** Marks an error thrown by the migration's own SQL (as opposed to the runner's statements). */
class MigrationSqlError extends Error {
  readonly migration: Migration;
  override readonly cause: unknown;
  constructor(migration: Migration, cause: unknown) {
    super('migration SQL failed');
    this.migration = migration;
    this.cause = cause;
  }
}

function migrateSqlite(
  db: BetterSqlite3.Database,
  capability: string,
  migrations: readonly Migration[],
  now: () => number,
): number[] {
  try {
    return applySqlite(db, capability, migrations, now);
  } catch (error) {
    if (error instanceof MigrationSqlError) throw migrationFailed(capability, error.migration, error.cause);
    if (isFoundationError(error)) throw error;
    throw sqliteRunnerError(capability, error);
  }
}

function applySqlite(
  db: BetterSqlite3.Database,
  capability: string,
  migrations: readonly Migration[],
  now: () => number,
): number[] {
  db.exec(CREATE_TABLE_SQL);
  const select = db.prepare<[string], AppliedMigration>(
    `SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} WHERE capability = ?`,
  );
  const insert = db.prepare(
    `INSERT INTO ${MIGRATIONS_TABLE} (capability, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const step = db.transaction((): number | undefined => {
    const next = nextMigration(capability, migrations, select.all(capability), 'sqlite');
    if (next === undefined) return undefined;
    try {
      db.exec(next.sqlite);
    } catch (error) {
      throw new MigrationSqlError(next, error);
    }
    insert.run(capability, next.version, next.name, migrationChecksum(next.sqlite), now());
    return next.version;
  });
  const applied: number[] = [];
  for (;;) {
    const version = step.immediate();
    if (version === undefined) return applied;
    applied.push(version);
  }
}

function sqliteRunnerError(capability: string, error: unknown): FoundationError {
  const code = (error as { code?: unknown } | null)?.code;
  const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  return new FoundationError(busy ? 'FND_STORAGE_UNAVAILABLE' : 'FND_STORAGE_QUERY_FAILED', {
    message: `Migrating ${capability} on SQLite failed: ${error instanceof Error ? error.message : String(error)}`,
    context: { capability, ...(typeof code === 'string' ? { code } : {}) },
    cause: error,
  });
}

/** A signed 64-bit advisory lock key (as a decimal string) derived from `parts`. */
export function advisoryLockKey(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0'), 'utf8').digest().readBigInt64BE(0).toString();
}

async function inTransaction<T>(client: pg.PoolClient, lockKey: string, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function migratePostgres(
  pool: pg.Pool,
  schema: string,
  capability: string,
  migrations: readonly Migration[],
  now: () => number,
): Promise<number[]> {
  try {
    return await withPgClient(pool, (client) => applyPostgres(client, schema, capability, migrations, now));
  } catch (error) {
    if (error instanceof MigrationSqlError) {
      const classified = classifyPgError(error.cause);
      if (classified.code === 'FND_STORAGE_UNAVAILABLE') throw classified;
      throw migrationFailed(capability, error.migration, error.cause);
    }
    throw classifyPgError(error);
  }
}

async function applyPostgres(
  client: pg.PoolClient,
  schema: string,
  capability: string,
  migrations: readonly Migration[],
  now: () => number,
): Promise<number[]> {
  const exists = await client.query<{ found: boolean }>(
    `SELECT to_regclass('${MIGRATIONS_TABLE}') IS NOT NULL AS found`,
  );
  if (exists.rows[0]?.found !== true) {
    await inTransaction(client, advisoryLockKey(schema, MIGRATIONS_TABLE), async () => {
      await client.query(CREATE_TABLE_SQL);
    });
  }
  const applied: number[] = [];
  for (;;) {
    const version = await inTransaction(client, advisoryLockKey(schema, capability), async () => {
      const rows = await client.query<AppliedMigration>(
        `SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} WHERE capability = $1`,
        [capability],
      );
      const next = nextMigration(capability, migrations, rows.rows, 'postgres');
      if (next === undefined) return undefined;
      try {
        await client.query(next.postgres);
      } catch (error) {
        throw new MigrationSqlError(next, error);
      }
      await client.query(
        `INSERT INTO ${MIGRATIONS_TABLE} (capability, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)`,
        [capability, next.version, next.name, migrationChecksum(next.postgres), now()],
      );
      return next.version;
    });
    if (version === undefined) return applied;
    applied.push(version);
  }
}

/**
 * Applies the missing migrations of `capability` in order and returns the versions applied by this call.
 * A memory handle has nothing to migrate (the list is still validated).
 *
 * @throws FoundationError `FND_STORAGE_MIGRATION_FAILED` (invalid list, or a migration's SQL failed — that
 * migration is rolled back, earlier ones stay), `FND_STORAGE_MIGRATION_TAMPERED`, `FND_STORAGE_UNAVAILABLE`.
 */
export async function runMigrations(
  handle: StorageHandle,
  capability: string,
  migrations: readonly Migration[],
  now: () => number,
): Promise<number[]> {
  validateMigrations(capability, migrations);
  switch (handle.kind) {
    case 'memory':
      return [];
    case 'sqlite':
      return migrateSqlite(handle.db, capability, migrations, now);
    case 'postgres':
      return migratePostgres(handle.pool, handle.schema, capability, migrations, now);
  }
}
