/**
 * Picks the retention target for a storage (memory, SQLite, PostgreSQL).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Storage } from '../../storage/index.js';
import { MemoryEventStore } from '../stores/memory-store.js';
import { MemoryRetentionTarget } from './memory-retention.js';
import { PostgresRetentionTarget, type PostgresRetentionOptions } from './postgres-retention.js';
import { SqliteRetentionTarget } from './sqlite-retention.js';
import type { RetentionTarget } from './types.js';

/**
 * The {@link RetentionTarget} of an event store's backing: a {@link MemoryEventStore} (the adapter itself,
 * since its events live in the object), or a SQLite / PostgreSQL storage. `options.partitioning` applies to
 * PostgreSQL only (`FND_EVENTS_INVALID_POLICY` elsewhere).
 *
 * @example
 * ```ts
 * const target = createRetentionTarget(storage, { partitioning: { interval: 'day', premake: 2 } });
 * ```
 */
export function createRetentionTarget(
  backing: Storage | MemoryEventStore,
  options: PostgresRetentionOptions = {},
): RetentionTarget {
  const kind = backing instanceof MemoryEventStore ? 'memory' : backing.kind;
  if (options.partitioning !== undefined && kind !== 'postgres') {
    throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
      message: `Time partitioning needs PostgreSQL, the store is ${kind}`,
      context: { field: 'partitioning', reason: `not available on ${kind}` },
    });
  }
  if (backing instanceof MemoryEventStore) return new MemoryRetentionTarget(backing);
  if (backing.kind === 'sqlite') return new SqliteRetentionTarget(backing);
  if (backing.kind === 'postgres') return new PostgresRetentionTarget(backing, options);
  throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
    message: 'A memory storage has no events of its own: pass the MemoryEventStore adapter instead',
    context: { field: 'backing', reason: 'memory storage' },
  });
}
