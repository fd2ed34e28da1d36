/**
 * The optional supervised services of the event capability that the composition root adds: `retention`
 * (scheduled retention policies) and `projections` (inline and async projections), both after `events`.
 *
 * @module
 */
import type { EventStore } from '../events/event-store.js';
import { PostgresProjectionStore } from '../events/projections/postgres-projection-store.js';
import { MemoryProjectionStore } from '../events/projections/memory-projection-store.js';
import type { ProjectionStore } from '../events/projections/projection-store.js';
import type { Projections } from '../events/projections/projections.js';
import { SqliteProjectionStore } from '../events/projections/sqlite-projection-store.js';
import { createRetentionTarget } from '../events/retention/create-retention-target.js';
import { EventRetention } from '../events/retention/event-retention.js';
import type { PartitioningOptions } from '../events/stores/postgres-partitioning.js';
import type { MemoryEventStore } from '../events/stores/memory-store.js';
import type { Clock } from '../kernel/clock.js';
import type { HealthReport, Service } from '../kernel/service.js';
import type { Storage } from '../storage/index.js';
import { EVENTS_SERVICE } from './store-services.js';

/** Name of the retention service in the supervisor and registry. */
export const RETENTION_SERVICE = 'retention';

/** Name of the projections service in the supervisor and registry. */
export const PROJECTIONS_SERVICE = 'projections';

/** Retention settings of a foundation (see docs/retention.md). */
export interface FoundationRetentionOptions {
  /** The policies (`FND_EVENTS_INVALID_POLICY` when invalid, at start). */
  readonly policies: unknown;
  /** Time between runs, ms. Default one hour. */
  readonly intervalMs?: number;
  /** Events per delete statement. Default 1000. */
  readonly batchSize?: number;
  /** PostgreSQL only: time partitioning of `foundation_events`. */
  readonly partitioning?: PartitioningOptions;
}

/**
 * The projection store for a storage, chosen synchronously (the PostgreSQL store's module imports `pg` types
 * only, so it costs nothing to load on SQLite).
 */
export function projectionStoreFor(storage: Storage): ProjectionStore {
  switch (storage.kind) {
    case 'memory':
      return new MemoryProjectionStore();
    case 'sqlite':
      return new SqliteProjectionStore(storage);
    case 'postgres':
      return new PostgresProjectionStore(storage);
  }
}

/**
 * The `retention` service: once `events` runs, builds the store's retention target (the memory adapter for
 * a memory store), runs the policies every `intervalMs`, and stops after the current batch. Its health is
 * degraded while the last run failed.
 */
export function retentionService(
  events: EventStore,
  backing: Storage | MemoryEventStore,
  options: FoundationRetentionOptions,
  clock: Clock,
): Service<EventRetention> {
  return {
    name: RETENTION_SERVICE,
    dependencies: [EVENTS_SERVICE],
    start() {
      const target = createRetentionTarget(
        backing,
        options.partitioning === undefined ? {} : { partitioning: options.partitioning },
      );
      const retention = new EventRetention({
        events,
        target,
        policies: options.policies,
        clock,
        ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      });
      retention.start();
      return retention;
    },
    async stop(retention) {
      await retention.stop();
    },
    health(retention): HealthReport {
      const status = retention.status();
      const details = {
        policies: retention.policies.length,
        running: status.running,
        lastDeleted: status.lastReport?.deleted,
      };
      if (status.lastError !== undefined) {
        return {
          status: 'degraded',
          message: `last retention run failed: ${status.lastError.code}`,
          details,
        };
      }
      return { status: 'healthy', details };
    },
  };
}

/**
 * The `projections` service: starts the projections (inline ones attach to the event store, async ones
 * follow it) once `events` runs; stops the async runners first. Degraded while a projection has failed.
 */
export function projectionsService(projections: Projections): Service<Projections> {
  return {
    name: PROJECTIONS_SERVICE,
    dependencies: [EVENTS_SERVICE],
    async start() {
      await projections.start();
      return projections;
    },
    async stop(instance) {
      await instance.stop();
    },
    async health(instance): Promise<HealthReport> {
      const statuses = await instance.statuses();
      const failed = statuses.filter((s) => s.state === 'failed');
      const details = { projections: statuses.length, failed: failed.map((s) => s.name) };
      if (failed.length > 0) {
        return {
          status: 'degraded',
          message: `projection ${failed[0]?.name ?? ''} failed${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
          details,
        };
      }
      return { status: 'healthy', details };
    },
  };
}
