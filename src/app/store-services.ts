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

/** Default subscription lag (events) above which the `events` service reports `degraded`. */
export const DEFAULT_MAX_HEALTHY_LAG = 10_000;

/** What the `events` service's health looks at besides the store itself. */
export interface EventsHealthOptions {
  /** The outage spool wrapping the store, if any: its depth makes the service degraded or unhealthy. */
  readonly spool?: { health(): HealthReport };
  /**
   * A live subscription further behind than this many events makes the service `degraded`; a function is
   * read at every health check (the foundation passes its config's `foundation.events.maxHealthyLag`).
   */
  readonly maxHealthyLag?: number | (() => number);
}

/**
 * The health of the event store: its live subscriptions' lag (the slowest one names the service
 * `degraded` when it is more than `maxHealthyLag` events behind) and, with an outage spool, the spool's
 * depth (degraded while events wait in it, unhealthy when it is full).
 */
export function eventsHealth(events: EventStore, options: EventsHealthOptions = {}): HealthReport {
  const setting = options.maxHealthyLag ?? DEFAULT_MAX_HEALTHY_LAG;
  const maxLag = typeof setting === 'function' ? setting() : setting;
  const subscriptions = events.subscriptions();
  let slowest: (typeof subscriptions)[number] | undefined;
  for (const status of subscriptions) if (slowest === undefined || status.lag > slowest.lag) slowest = status;
  const details = {
    kind: events.kind,
    subscriptions: subscriptions.length,
    maxLag: slowest?.lag ?? 0,
  };
  const spool = options.spool?.health();
  if (spool !== undefined && spool.status !== 'healthy') {
    return {
      status: spool.status,
      message: spool.message ?? 'event spool',
      details: { ...details, spool: spool.details },
    };
  }
  if (slowest !== undefined && slowest.lag > maxLag) {
    return {
      status: 'degraded',
      message: `subscription ${slowest.name} is ${slowest.lag} events behind (more than ${maxLag})`,
      details,
    };
  }
  return { status: 'healthy', details: spool === undefined ? details : { ...details, spool: spool.details } };
}

/** The `events` service: starts the event store once `storage` runs and stops it (draining appends) first. */
export function eventsService(events: EventStore, health: EventsHealthOptions = {}): Service<EventStore> {
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
    health: (instance) => eventsHealth(instance, health),
  };
}
