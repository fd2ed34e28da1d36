/**
 * The supervised services the composition root adds to every foundation: `storage` (the connection chosen
 * by the store URL) and `events` (the event store, which needs `storage`).
 *
 * @module
 */
import type { EventStore } from '../events/event-store.js';
import type { HealthReport, Service } from '../kernel/service.js';
import { describeStore, type Storage, type StoreLocation } from '../storage/index.js';

/** Name of the storage service in the supervisor and registry. */
export const STORAGE_SERVICE = 'storage';

/** Name of the event-store service in the supervisor and registry. */
export const EVENTS_SERVICE = 'events';

/**
 * A cheap liveness probe of the open connection: `SELECT 1` on PostgreSQL, a pragma on SQLite, nothing on
 * the memory store. A failure is reported as `unhealthy` with the error's message.
 */
async function pingStorage(storage: Storage, shown: string): Promise<HealthReport> {
  try {
    const handle = storage.handle();
    switch (handle.kind) {
      case 'memory':
        return { status: 'healthy', message: shown, details: { kind: 'memory' } };
      case 'sqlite':
        handle.db.pragma('schema_version', { simple: true });
        return { status: 'healthy', message: shown, details: { kind: 'sqlite' } };
      case 'postgres': {
        await handle.pool.query('SELECT 1');
        const { totalCount, idleCount, waitingCount } = handle.pool;
        return {
          status: 'healthy',
          message: shown,
          details: { kind: 'postgres', pool: { total: totalCount, idle: idleCount, waiting: waitingCount } },
        };
      }
    }
  } catch (error) {
    return {
      status: 'unhealthy',
      message: `${shown}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300),
    };
  }
}

/**
 * The `storage` service: `start()` opens the connection (a SQLite file's folder is created if missing), `stop()`
 * closes it, `health()` pings it.
 */
export function storageService(storage: Storage, location: StoreLocation): Service<Storage> {
  const shown = describeStore(location);
  return {
    name: STORAGE_SERVICE,
    async start() {
      await storage.open(); // creates a SQLite file's folder itself
      return storage;
    },
    async stop(instance) {
      await instance.close();
    },
    health: (instance) => pingStorage(instance, shown),
  };
}

/** The `events` service: starts the event store once `storage` runs and stops it (draining appends) first. */
export function eventsService(events: EventStore): Service<EventStore> {
  return {
    name: EVENTS_SERVICE,
    dependencies: [STORAGE_SERVICE],
    async start() {
      await events.start();
      return events;
    },
    async stop(instance) {
      await instance.stop();
    },
    health: (instance) => ({ status: 'healthy', details: { kind: instance.kind } }),
  };
}
