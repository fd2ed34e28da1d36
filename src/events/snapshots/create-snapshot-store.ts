/**
 * Picks the snapshot store for a storage: memory, SQLite or PostgreSQL.
 *
 * @module
 */
import type { Storage } from '../../storage/index.js';
import type { JsonValue } from '../model/types.js';
import { MemorySnapshotStore } from './memory-snapshot-store.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';
import type { SqlSnapshotStoreOptions } from './sqlite-snapshot-store.js';
import { SqliteSnapshotStore } from './sqlite-snapshot-store.js';

/** A {@link SnapshotStore} that can be opened ahead of first use (it also opens itself lazily). */
export interface OpenableSnapshotStore extends SnapshotStore {
  /** Runs the `events` migrations (idempotent); optional: `load` / `save` do it on first use. */
  open(): Promise<void>;
}

/**
 * The snapshot store for `storage`'s kind: `memory` → {@link MemorySnapshotStore}, `sqlite` →
 * {@link SqliteSnapshotStore}, `postgres` → `PostgresSnapshotStore` (its module imported on first use).
 * The storage must be open before the first `open` / `load` / `save`.
 *
 * @example
 * ```ts
 * const snapshots = createSnapshotStore(storage);
 * const accounts = aggregate(events, account, { snapshots: { store: snapshots, every: 100, kind: 'account@1' } });
 * ```
 */
export function createSnapshotStore(
  storage: Storage,
  options: SqlSnapshotStoreOptions = {},
): OpenableSnapshotStore {
  switch (storage.kind) {
    case 'memory':
      return new MemorySnapshotStore();
    case 'sqlite':
      return new SqliteSnapshotStore(storage, options);
    case 'postgres':
      return new LazySnapshotStore(async () => {
        const { PostgresSnapshotStore } = await import('./postgres-snapshot-store.js');
        return new PostgresSnapshotStore(storage, options);
      });
  }
}

/** Imports the adapter's module on first use, so `pg` loads only when a PostgreSQL store is used. */
class LazySnapshotStore implements OpenableSnapshotStore {
  readonly #load: () => Promise<OpenableSnapshotStore>;
  #store: Promise<OpenableSnapshotStore> | undefined;

  constructor(load: () => Promise<OpenableSnapshotStore>) {
    this.#load = load;
  }

  async open(): Promise<void> {
    await (await this.#target()).open();
  }

  async load(stream: string, kind: string): Promise<Snapshot | undefined> {
    return (await this.#target()).load(stream, kind);
  }

  async save(stream: string, kind: string, version: number, state: JsonValue): Promise<void> {
    await (await this.#target()).save(stream, kind, version, state);
  }

  #target(): Promise<OpenableSnapshotStore> {
    this.#store ??= this.#load().catch((error: unknown) => {
      this.#store = undefined;
      throw error;
    });
    return this.#store;
  }
}
