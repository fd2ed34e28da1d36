/**
 * Picks the config version store for a storage: memory, SQLite, or PostgreSQL (its module, and `pg`, loaded
 * on first use).
 *
 * @module
 */
import type { Storage } from '../../storage/index.js';
import type { ConfigVersionRecord, ConfigVersionStore } from '../types.js';
import { ConfigWatchHub } from './config-watch-hub.js';
import { MemoryConfigVersionStore } from './memory-store.js';
import { SqliteConfigVersionStore } from './sqlite-store.js';

/** Options of {@link createConfigVersionStore}. */
export interface ConfigVersionStoreOptions {
  /**
   * The in-process state shared by every config version store of this `Storage` object: create one hub per
   * `Storage` and pass it to every call. On memory it also holds the versions (without it, every call on a
   * memory storage returns a new, empty store); on memory and SQLite, appends through any store made with
   * the hub notify the watchers of all of them (without it, a store's watchers see only its own appends).
   * PostgreSQL ignores it: its stores hear every append through LISTEN/NOTIFY. Default: a private hub.
   */
  readonly hub?: ConfigWatchHub;
}

/**
 * The config version store for `storage`'s kind (`storage.location.kind`): `memory` →
 * {@link MemoryConfigVersionStore}, `sqlite` → {@link SqliteConfigVersionStore}, `postgres` →
 * `PostgresConfigVersionStore`. Creating the store connects nothing; the storage must be open before
 * `open()` or the first call.
 *
 * @throws FoundationError `FND_DATA_INVALID_INPUT` when `hub` already serves another `Storage` object.
 *
 * @example
 * ```ts
 * const hub = new ConfigWatchHub(); // one per Storage object
 * const versions = createConfigVersionStore(storage, { hub });
 * await versions.open();
 * const stop = versions.watch((version) => reload(version));
 * ```
 */
export function createConfigVersionStore(
  storage: Storage,
  options: ConfigVersionStoreOptions = {},
): ConfigVersionStore {
  const hub = options.hub ?? new ConfigWatchHub();
  hub.attach(storage);
  switch (storage.location.kind) {
    case 'memory':
      return new MemoryConfigVersionStore({ hub });
    case 'sqlite':
      return new SqliteConfigVersionStore(storage, { hub });
    case 'postgres':
      return new LazyConfigVersionStore('postgres', async () => {
        const { PostgresConfigVersionStore } = await import('./postgres-store.js');
        return new PostgresConfigVersionStore(storage);
      });
  }
}

/**
 * Imports the adapter's module on first use. `watch` is synchronous: watchers registered before the module
 * is loaded are handed to the store once it is.
 */
class LazyConfigVersionStore implements ConfigVersionStore {
  readonly kind: string;
  readonly #load: () => Promise<ConfigVersionStore>;
  #store: Promise<ConfigVersionStore> | undefined;
  #loaded: ConfigVersionStore | undefined;
  #closed = false;

  constructor(kind: string, load: () => Promise<ConfigVersionStore>) {
    this.kind = kind;
    this.#load = load;
  }

  async open(): Promise<void> {
    this.#closed = false;
    await (await this.#target()).open();
  }
  async close(): Promise<void> {
    this.#closed = true;
    await this.#loaded?.close();
  }
  async latest(): Promise<ConfigVersionRecord | undefined> {
    return (await this.#target()).latest();
  }
  async get(version: number): Promise<ConfigVersionRecord | undefined> {
    return (await this.#target()).get(version);
  }
  async list(options?: {
    readonly limit?: number;
    readonly before?: number;
  }): Promise<ConfigVersionRecord[]> {
    return (await this.#target()).list(options);
  }
  async since(version: number): Promise<ConfigVersionRecord[]> {
    return (await this.#target()).since(version);
  }
  async append(record: ConfigVersionRecord): Promise<void> {
    await (await this.#target()).append(record);
  }

  watch(onVersion: (version: number) => void): () => void {
    this.#closed = false;
    if (this.#loaded !== undefined) return this.#loaded.watch(onVersion);
    let stop: (() => void) | undefined;
    let stopped = false;
    this.#target().then(
      (store) => {
        if (!stopped && !this.#closed) stop = store.watch(onVersion);
      },
      () => undefined, // the next call reports the failure
    );
    return () => {
      stopped = true;
      stop?.();
    };
  }

  #target(): Promise<ConfigVersionStore> {
    this.#store ??= this.#load().then(
      (store) => {
        this.#loaded = store;
        return store;
      },
      (error: unknown) => {
        this.#store = undefined;
        throw error;
      },
    );
    return this.#store;
  }
}
