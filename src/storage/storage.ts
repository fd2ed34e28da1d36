/**
 * `Storage`: one store chosen by URL, opened once and shared by every capability (events, config, jobs…).
 * It owns the connection (a better-sqlite3 database or a `pg` pool), runs each capability's migrations and
 * hands the connection out through {@link Storage.handle}.
 *
 * @module
 */
import { FoundationError } from '../errors/foundation-error.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { runMigrations } from './migrations.js';
import { openPostgres } from './pg-pool.js';
import { openSqlite } from './sqlite-connection.js';
import { describeStore, toStoreLocation } from './store-url.js';
import type { Migration, StorageHandle, StoreLocation } from './types.js';

/** Options of {@link Storage}. */
export interface StorageOptions {
  /** Clock for `applied_at` of migrations and telemetry durations (default: the system clock). */
  readonly clock?: Clock;
  /**
   * PostgreSQL `application_name` of the pool's connections (default `foundation:<schema>`; an
   * `application_name` in the URL wins). Visible in `pg_stat_activity`.
   */
  readonly applicationName?: string;
}

type State =
  | { readonly status: 'closed' }
  | { readonly status: 'opening'; readonly done: Promise<void> }
  | { readonly status: 'open'; readonly handle: StorageHandle }
  | { readonly status: 'closing'; readonly done: Promise<void> };

/** A promise with its settle functions (Node 20 has no `Promise.withResolvers`). */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const opened = telemetryEvent('storage:opened');
const closed = telemetryEvent('storage:closed');
const poolError = telemetryEvent('storage:pool_error');
const migrated = telemetryEvent('storage:migrated');

/**
 * A store chosen by URL. The constructor only parses; `open()` connects (loading better-sqlite3 or pg on first
 * use) and `close()` releases everything. Open and close are idempotent; a closed storage can be opened again.
 *
 * @example
 * ```ts
 * const storage = new Storage('sqlite:./.foundation/foundation.db');
 * await storage.open();
 * await storage.migrate('events', EVENTS_MIGRATIONS);
 * const handle = storage.handle(); // { kind: 'sqlite', db, location }
 * await storage.close();
 * ```
 */
export class Storage {
  /** The parsed, validated location. */
  readonly location: StoreLocation;
  readonly #clock: Clock;
  readonly #applicationName: string;
  #state: State = { status: 'closed' };

  /** @throws FoundationError `FND_STORAGE_INVALID_URL` for a bad URL or location. */
  constructor(location: StoreLocation | string, options: StorageOptions = {}) {
    this.location = toStoreLocation(location);
    this.#clock = options.clock ?? systemClock;
    this.#applicationName =
      options.applicationName ??
      (this.location.kind === 'postgres' ? `foundation:${this.location.schema}` : 'foundation');
  }

  /** Which engine backs this storage. */
  get kind(): StoreLocation['kind'] {
    return this.location.kind;
  }

  /** A display string without credentials, e.g. `sqlite:./.foundation/foundation.db`. */
  get description(): string {
    return describeStore(this.location);
  }

  /** Whether `open()` completed and `close()` has not been called since. */
  get isOpen(): boolean {
    return this.#state.status === 'open';
  }

  /**
   * Connects: opens the SQLite file (creating its directory) or creates the PostgreSQL pool, checks the server
   * answers and creates the schema if missing. Calling it again while open (or opening) is harmless.
   *
   * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the store cannot be reached or opened.
   */
  async open(): Promise<void> {
    for (;;) {
      const state = this.#state;
      if (state.status === 'open') return;
      if (state.status === 'opening') {
        await state.done;
        return;
      }
      if (state.status === 'closing') {
        await state.done;
        continue;
      }
      const { promise, resolve, reject } = deferred();
      // Other callers await the same attempt; a failed attempt must not become an unhandled rejection.
      promise.catch(() => undefined);
      this.#state = { status: 'opening', done: promise };
      const started = this.#clock.monotonic();
      try {
        const handle = await this.#createHandle();
        this.#state = { status: 'open', handle };
        resolve();
      } catch (error) {
        this.#state = { status: 'closed' };
        reject(error);
        throw error;
      }
      opened.emit(
        { duration: this.#clock.monotonic() - started },
        { kind: this.kind, store: this.description },
      );
      return;
    }
  }

  #createHandle(): Promise<StorageHandle> {
    const location = this.location;
    switch (location.kind) {
      case 'memory':
        return Promise.resolve({ kind: 'memory' });
      case 'sqlite':
        return openSqlite(location);
      case 'postgres':
        return openPostgres(location, {
          applicationName: this.#applicationName,
          onPoolError: (error) => {
            // An idle client lost its connection (server restart, pg_terminate_backend). The pool has already
            // dropped it and will connect a new one on demand; never let this crash the process.
            poolError.emit({}, { store: this.description, message: error.message });
          },
        });
    }
  }

  /**
   * Closes the connection (ends the pool, closes the SQLite database). Harmless when already closed; waits
   * for an `open()` in progress first.
   */
  async close(): Promise<void> {
    for (;;) {
      const state = this.#state;
      if (state.status === 'closed') return;
      if (state.status === 'closing') {
        await state.done;
        return;
      }
      if (state.status === 'opening') {
        await state.done.catch(() => undefined);
        continue;
      }
      const { promise, resolve } = deferred();
      this.#state = { status: 'closing', done: promise };
      try {
        const handle = state.handle;
        if (handle.kind === 'sqlite') handle.db.close();
        else if (handle.kind === 'postgres') await handle.pool.end();
      } finally {
        this.#state = { status: 'closed' };
        resolve();
        closed.emit({}, { kind: this.kind, store: this.description });
      }
      return;
    }
  }

  /**
   * The open connection, for capabilities' store adapters.
   *
   * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the storage is not open.
   */
  handle(): StorageHandle {
    const state = this.#state;
    if (state.status !== 'open') {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: `Storage ${this.description} is not open (${state.status}); call open() first`,
        context: { store: this.description, status: state.status },
      });
    }
    return state.handle;
  }

  /**
   * Applies the missing migrations of one capability, in order, each in its own transaction, safely when
   * several processes migrate at once. Returns the versions this call applied (`[]` when up to date, and
   * always for `memory:`).
   *
   * @throws FoundationError `FND_STORAGE_MIGRATION_FAILED`, `FND_STORAGE_MIGRATION_TAMPERED`,
   * `FND_STORAGE_UNAVAILABLE`.
   */
  async migrate(capability: string, migrations: readonly Migration[]): Promise<{ applied: number[] }> {
    const handle = this.handle();
    const started = this.#clock.monotonic();
    const applied = await runMigrations(handle, capability, migrations, () => this.#clock.now());
    if (applied.length > 0) {
      migrated.emit(
        { count: applied.length, duration: this.#clock.monotonic() - started },
        { capability, versions: applied, store: this.description },
      );
    }
    return { applied };
  }
}
