/**
 * Opening a SQLite database with the foundation's settings: better-sqlite3 loaded on first use, the parent
 * directory created, WAL journal, `synchronous`, busy timeout and foreign keys applied.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../errors/foundation-error.js';
import type { SqliteHandle, StoreLocation } from './types.js';

type SqliteLocation = Extract<StoreLocation, { kind: 'sqlite' }>;

/** Whether a SQLite path names an in-memory database rather than a file. */
export function isSqliteMemoryPath(path: string): boolean {
  return path === ':memory:' || path.startsWith('file::memory:');
}

async function loadDriver(): Promise<typeof BetterSqlite3> {
  try {
    const module = await import('better-sqlite3');
    return module.default;
  } catch (error) {
    throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: 'The SQLite store needs the better-sqlite3 package (npm install better-sqlite3@^12)',
      cause: error,
      retryStrategy: 'no_retry',
    });
  }
}

/**
 * Opens the database at `location.path` (creating the file and its parent directories) and applies the
 * pragmas: `journal_mode=WAL` (files only), `synchronous=NORMAL|FULL`, `busy_timeout`, `foreign_keys=ON`.
 *
 * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the driver is missing or the file cannot be opened.
 */
export async function openSqlite(location: SqliteLocation): Promise<SqliteHandle> {
  const Database = await loadDriver();
  const memory = isSqliteMemoryPath(location.path);
  const file = memory ? location.path : resolve(location.path);
  let db: BetterSqlite3.Database | undefined;
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: location.busyTimeoutMs });
    if (!memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') {
        throw new Error(`journal_mode stayed ${String(mode)} (WAL not supported here)`);
      }
    }
    db.pragma(`synchronous = ${location.synchronous}`);
    db.pragma(`busy_timeout = ${Math.trunc(location.busyTimeoutMs)}`);
    db.pragma('foreign_keys = ON');
    return { kind: 'sqlite', db, location };
  } catch (error) {
    db?.close();
    throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: `Cannot open SQLite database ${file}: ${error instanceof Error ? error.message : String(error)}`,
      context: { path: file },
      cause: error,
    });
  }
}

/** Reads back the settings a connection runs with (for status pages and tests). */
export function sqliteSettings(db: BetterSqlite3.Database): {
  journalMode: string;
  synchronous: number;
  busyTimeoutMs: number;
  foreignKeys: boolean;
} {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
    foreignKeys: Number(db.pragma('foreign_keys', { simple: true })) === 1,
  };
}
