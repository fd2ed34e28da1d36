/**
 * How a capability's store gets at the storage's connection: it runs the capability's migrations once (again
 * after a failure) and checks the storage's kind; on SQLite it also prepares its statements on the current
 * connection, and prepares them again when the storage was closed and opened since.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { FoundationError } from '../errors/index.js';
import type { Storage } from './storage.js';
import type { Migration } from './types.js';

function wrongKind(what: string, wanted: string, got: string): FoundationError {
  return new FoundationError('FND_STORAGE_UNAVAILABLE', {
    message: `The ${what} needs a ${wanted} storage, got ${got}`,
    context: { kind: got },
  });
}

/**
 * A capability's access to a PostgreSQL storage: `ready()` migrates the capability on first use (a failed
 * attempt is retried by the next call) and resolves to the storage's pool.
 *
 * @example
 * ```ts
 * const access = new PostgresCapability(storage, 'projections', PROJECTIONS_MIGRATIONS, 'PostgreSQL projection store');
 * const pool = await access.ready();
 * ```
 */
export class PostgresCapability {
  readonly #storage: Storage;
  readonly #capability: string;
  readonly #migrations: readonly Migration[];
  readonly #what: string;
  #opening: Promise<pg.Pool> | undefined;

  /** @param what - the store's name in error messages, e.g. `PostgreSQL checkpoint store` */
  constructor(storage: Storage, capability: string, migrations: readonly Migration[], what: string) {
    this.#storage = storage;
    this.#capability = capability;
    this.#migrations = migrations;
    this.#what = what;
  }

  /** The pool, once the capability is migrated. `FND_STORAGE_UNAVAILABLE` on another kind of storage. */
  ready(): Promise<pg.Pool> {
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #open(): Promise<pg.Pool> {
    await this.#storage.migrate(this.#capability, this.#migrations);
    const handle = this.#storage.handle();
    if (handle.kind !== 'postgres') throw wrongKind(this.#what, 'PostgreSQL', handle.kind);
    return handle.pool;
  }
}

/**
 * A capability's access to a SQLite storage: `ready()` migrates the capability and prepares `T` (its
 * statements) on the storage's connection; when the storage has been closed and opened again since, the
 * next `ready()` prepares on the new connection.
 *
 * @example
 * ```ts
 * const access = new SqliteCapability(storage, 'subscriptions', SUBSCRIPTIONS_MIGRATIONS, 'SQLite checkpoint store',
 *   (db) => ({ db, load: db.prepare('SELECT …') }));
 * const { load } = await access.ready();
 * ```
 */
export class SqliteCapability<T> {
  readonly #storage: Storage;
  readonly #capability: string;
  readonly #migrations: readonly Migration[];
  readonly #what: string;
  readonly #prepare: (db: BetterSqlite3.Database) => T;
  #opening: Promise<T> | undefined;
  #prepared: { readonly db: BetterSqlite3.Database; readonly value: T } | undefined;

  /**
   * @param what - the store's name in error messages, e.g. `SQLite checkpoint store`
   * @param prepare - prepares the statements on a migrated connection
   */
  constructor(
    storage: Storage,
    capability: string,
    migrations: readonly Migration[],
    what: string,
    prepare: (db: BetterSqlite3.Database) => T,
  ) {
    this.#storage = storage;
    this.#capability = capability;
    this.#migrations = migrations;
    this.#what = what;
    this.#prepare = prepare;
  }

  /** The prepared statements on the current connection. `FND_STORAGE_UNAVAILABLE` on another kind. */
  ready(): Promise<T> {
    if (this.#prepared !== undefined && this.#prepared.db !== this.#currentDb()) this.#opening = undefined;
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  /** What `ready()` resolved to, if it was prepared on the connection that is open now. */
  current(): T | undefined {
    const prepared = this.#prepared;
    return prepared !== undefined && prepared.db === this.#currentDb() ? prepared.value : undefined;
  }

  async #open(): Promise<T> {
    await this.#storage.migrate(this.#capability, this.#migrations);
    const handle = this.#storage.handle();
    if (handle.kind !== 'sqlite') throw wrongKind(this.#what, 'SQLite', handle.kind);
    const value = this.#prepare(handle.db);
    this.#prepared = { db: handle.db, value };
    return value;
  }

  /** The storage's current connection, if it is an open SQLite storage. */
  #currentDb(): BetterSqlite3.Database | undefined {
    if (!this.#storage.isOpen) return undefined;
    const handle = this.#storage.handle();
    return handle.kind === 'sqlite' ? handle.db : undefined;
  }
}
