/**
 * Picks the projection store for a storage: memory, SQLite or PostgreSQL.
 *
 * @module
 */
import type { Storage } from '../../storage/index.js';
import { MemoryProjectionStore } from './memory-projection-store.js';
import type { ProjectionStore } from './projection-store.js';
import { SqliteProjectionStore } from './sqlite-projection-store.js';

/**
 * The projection store for `storage`'s kind. PostgreSQL's module (and `pg`) is imported here only when the
 * storage is PostgreSQL, hence the promise. The storage must be open before the store's `open()`.
 *
 * @example
 * ```ts
 * const projections = new Projections(events, await createProjectionStore(storage));
 * ```
 */
export async function createProjectionStore(storage: Storage): Promise<ProjectionStore> {
  switch (storage.kind) {
    case 'memory':
      return new MemoryProjectionStore();
    case 'sqlite':
      return new SqliteProjectionStore(storage);
    case 'postgres': {
      const { PostgresProjectionStore } = await import('./postgres-projection-store.js');
      return new PostgresProjectionStore(storage);
    }
  }
}
