/**
 * The storage layer's public shapes: a store chosen by URL, an open connection that capabilities share,
 * and per-capability migrations.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

/** A parsed store URL. */
export type StoreLocation =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'sqlite';
      /** File path, or `:memory:`. */
      readonly path: string;
      /** `NORMAL` (default, WAL) or `FULL` (fsync on every commit). */
      readonly synchronous: 'NORMAL' | 'FULL';
      /** Busy timeout in ms (default 5000). */
      readonly busyTimeoutMs: number;
    }
  | {
      readonly kind: 'postgres';
      /** The connection string without foundation-specific query parameters. */
      readonly connectionString: string;
      /** Schema that holds the foundation's tables (default `foundation`). */
      readonly schema: string;
      /** Pool size (default 10). */
      readonly poolSize: number;
      /**
       * Longest wait for the server's answer to one statement, ms (default 30 000). A connection that stays
       * open but never answers (a half-open TCP connection, a frozen server) fails the call with
       * `FND_STORAGE_UNAVAILABLE` after this long instead of hanging; the connection is discarded.
       */
      readonly queryTimeoutMs?: number;
    };

/** One numbered, append-only migration of one capability, in both SQL dialects. */
export interface Migration {
  /** 1, 2, 3… per capability; never renumbered, never edited once released. */
  readonly version: number;
  /** Short name, e.g. `create events`. */
  readonly name: string;
  /** SQLite statements (may contain several, separated by `;`). */
  readonly sqlite: string;
  /**
   * PostgreSQL statements. Unqualified table names resolve to the foundation's schema (the runner sets the
   * `search_path`); write `${schema}` nowhere.
   */
  readonly postgres: string;
}

/** An open SQLite connection (better-sqlite3 is synchronous; one connection per storage). */
export interface SqliteHandle {
  /** Always `sqlite`. */
  readonly kind: 'sqlite';
  /** The better-sqlite3 connection. */
  readonly db: BetterSqlite3.Database;
  /** Where the database file is. */
  readonly location: Extract<StoreLocation, { kind: 'sqlite' }>;
}

/**
 * An open PostgreSQL pool. Every client it hands out has `search_path` set to the foundation's schema,
 * so statements use unqualified table names. `schema` is a validated identifier, safe to quote.
 */
export interface PostgresHandle {
  /** Always `postgres`. */
  readonly kind: 'postgres';
  /** The `pg` pool (each client's `search_path` set to `schema`). */
  readonly pool: pg.Pool;
  /** The foundation's schema name. */
  readonly schema: string;
  /** Which database and schema. */
  readonly location: Extract<StoreLocation, { kind: 'postgres' }>;
}

/** No connection: capabilities keep their state in memory. */
export interface MemoryHandle {
  /** Always `memory`. */
  readonly kind: 'memory';
}

/** What `Storage.handle()` returns once open. */
export type StorageHandle = SqliteHandle | PostgresHandle | MemoryHandle;
