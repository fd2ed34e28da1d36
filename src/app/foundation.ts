/**
 * `createFoundation()`: the composition root. It wires the registry, the supervisor, the storage chosen by
 * the store URL and the event store (and, in later capabilities, config, jobs…) into one instance with
 * `start()`, `stop()`, `status()`, `health()` and `Symbol.asyncDispose`. Two instances in one process share
 * nothing.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FoundationError } from '../errors/index.js';
import { createEventStore } from '../events/create-event-store.js';
import type { EventStore, EventStoreOptions } from '../events/event-store.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import type { HealthStatus, Service } from '../kernel/service.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import {
  Supervisor,
  type AddServiceOptions,
  type RestartStrategy,
  type ServiceStatus,
  type SupervisorState,
} from '../kernel/supervisor.js';
import { ServiceRegistry } from '../registry/index.js';
import { parseStoreUrl, Storage } from '../storage/index.js';
import { eventsService, storageService } from './store-services.js';

/** Options for {@link createFoundation}. All are optional. */
export interface FoundationOptions {
  /** Human name of this node, shown on the dashboard. Defaults to `foundation`. */
  name?: string;
  /** Directory for the embedded store and other local state. Defaults to `./.foundation`. */
  dataDir?: string;
  /**
   * Where the foundation keeps its data: `memory:`, `sqlite:<path>` (query parameters `synchronous=FULL`,
   * `busyTimeoutMs`) or `postgres://user@host:5432/db?schema=foundation&poolSize=10`. Defaults to
   * `sqlite:<dataDir>/foundation.db`. Validated at once: a bad URL throws `FND_STORAGE_INVALID_URL`.
   */
  store?: string;
  /** Event store limits (the clock is the foundation's). */
  events?: Omit<EventStoreOptions, 'clock'>;
  /** Services to supervise, in addition to those added later with {@link Foundation.add}. */
  services?: readonly Service[];
  /** Clock for every time-dependent part (tests pass a fake clock). */
  clock?: Clock;
  /** Supervisor settings: restart strategy and intensity, stop timeout. */
  supervisor?: {
    strategy?: RestartStrategy;
    maxRestarts?: number;
    withinMs?: number;
    stopTimeoutMs?: number;
    startTimeoutMs?: number;
  };
}

/** Lifecycle state of a foundation. */
export type FoundationState = SupervisorState;

/** Snapshot returned by {@link Foundation.status}. */
export interface FoundationStatus {
  readonly id: string;
  readonly name: string;
  readonly state: FoundationState;
  /** Wall ms when `start()` last completed, if running. */
  readonly startedAt: number | undefined;
  readonly uptimeMs: number;
  /** Total restarts of all services since start. */
  readonly restarts: number;
  readonly services: readonly ServiceStatus[];
  readonly process: {
    readonly pid: number;
    readonly node: string;
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
  };
}

/** Result of {@link Foundation.health}. */
export interface FoundationHealth {
  readonly status: HealthStatus;
  /** The process is alive and the foundation has not escalated a failure. */
  readonly live: boolean;
  /** Every service is running and healthy or degraded. */
  readonly ready: boolean;
  readonly services: ReadonlyArray<{
    readonly name: string;
    readonly status: HealthStatus;
    readonly message?: string;
  }>;
  readonly checkedAt: number;
}

/** A foundation instance. Create with {@link createFoundation}. */
export interface Foundation extends AsyncDisposable {
  /** Unique id of this instance (UUID). */
  readonly id: string;
  readonly name: string;
  readonly dataDir: string;
  readonly clock: Clock;
  /** This instance's service registry; running supervised services appear in namespace `services`. */
  readonly registry: ServiceRegistry;
  /** This instance's supervisor. */
  readonly supervisor: Supervisor;
  /** The storage chosen by the store URL; opened by the supervised `storage` service. */
  readonly storage: Storage;
  /**
   * The event store, started by the supervised `events` service (after `storage`). Its methods throw
   * `FND_SYSTEM_SERVICE_UNAVAILABLE` while that service is not running.
   */
  readonly events: EventStore;
  /**
   * Adds a supervised service (started at once if the foundation is running). `restart` chooses whether it is
   * restarted on failure; `boot: 'background'` lets the foundation start even when this service cannot start
   * yet (it retries in the background, and services that list it as an optional dependency start without it).
   */
  add(service: Service, options?: AddServiceOptions): this;
  /**
   * Starts every service in dependency order. When a `required`-boot service fails to start, rolls back
   * (stops what started, in reverse) and rejects with `FND_LIFECYCLE_START_FAILED`.
   */
  start(): Promise<void>;
  /** Stops every service in reverse order. Idempotent. */
  stop(): Promise<void>;
  status(): FoundationStatus;
  health(options?: { timeoutMs?: number }): Promise<FoundationHealth>;
}

export { EVENTS_SERVICE, STORAGE_SERVICE } from './store-services.js';

/** The registry namespace where supervised services appear while running. */
export const SERVICES_NAMESPACE = 'services';

const foundationStarted = telemetryEvent('foundation:started');
const foundationStopped = telemetryEvent('foundation:stopped');

/**
 * Creates a foundation instance. Nothing connects, registers or starts until `start()`. Every foundation
 * supervises two services of its own before the caller's: `storage` and `events` (names reserved).
 *
 * @throws FoundationError `FND_STORAGE_INVALID_URL` when `store` is not a valid store URL.
 *
 * @example
 * ```ts
 * await using foundation = createFoundation({ name: 'orders' });
 * foundation.add({ name: 'db', start: () => connect(), stop: (db) => db.close() });
 * await foundation.start();
 * ```
 */
export function createFoundation(options: FoundationOptions = {}): Foundation {
  const clock = options.clock ?? systemClock;
  const id = randomUUID();
  const name = options.name ?? 'foundation';
  const dataDir = options.dataDir ?? './.foundation';
  const location = parseStoreUrl(options.store ?? `sqlite:${join(dataDir, 'foundation.db')}`);
  const storage = new Storage(location, { clock });
  const events = createEventStore(storage, { ...options.events, clock });
  const registry = new ServiceRegistry({ clock });
  const supervisor = new Supervisor({ clock, ...options.supervisor });
  const unregisterBy = new Map<string, () => void>();
  /** Definitions added through this foundation, so the registry can run their health checks. */
  const definitions = new Map<string, Service>();
  let startedAt: number | undefined;
  let startedMonotonic = 0;

  supervisor.on('service_started', ({ name: serviceName, instance }) => {
    unregisterBy.get(serviceName)?.();
    const definition = definitions.get(serviceName);
    unregisterBy.set(
      serviceName,
      registry.register(SERVICES_NAMESPACE, serviceName, instance, {
        metadata: { supervised: true },
        ...(definition?.health === undefined
          ? {}
          : {
              health: (value: unknown, signal: AbortSignal) =>
                definition.health?.(value, signal) ?? { status: 'healthy' as const },
            }),
      }),
    );
  });
  const dropEntry = ({ name: serviceName }: { name: string }): void => {
    unregisterBy.get(serviceName)?.();
    unregisterBy.delete(serviceName);
  };
  supervisor.on('service_stopped', dropEntry);
  supervisor.on('service_failed', dropEntry);

  const addService = (service: Service, addOptions?: AddServiceOptions): void => {
    supervisor.add(service, addOptions);
    definitions.set(service.name, service);
  };
  addService(storageService(storage, location));
  addService(eventsService(events));
  for (const service of options.services ?? []) addService(service);

  const foundation: Foundation = {
    id,
    name,
    dataDir,
    clock,
    registry,
    supervisor,
    storage,
    events,
    add(service, addOptions) {
      addService(service, addOptions);
      return foundation;
    },
    async start() {
      await supervisor.start();
      startedAt = clock.now();
      startedMonotonic = clock.monotonic();
      foundationStarted.emit({ services: supervisor.status().services.length }, { id, name });
    },
    async stop() {
      const wasRunning = startedAt !== undefined;
      await supervisor.stop();
      registry.rejectWaiters(
        new FoundationError('FND_SYSTEM_ABORTED', {
          message: 'Foundation stopped',
          context: { foundation: name },
        }),
      );
      startedAt = undefined;
      if (wasRunning) foundationStopped.emit({}, { id, name });
    },
    status() {
      const sup = supervisor.status();
      const memory = process.memoryUsage();
      return {
        id,
        name,
        state: sup.state,
        startedAt,
        uptimeMs: startedAt === undefined ? 0 : Math.round(clock.monotonic() - startedMonotonic),
        restarts: sup.services.reduce((sum, s) => sum + s.restarts, 0),
        services: sup.services,
        process: {
          pid: process.pid,
          node: process.version,
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
        },
      };
    },
    async health(healthOptions) {
      const report = await supervisor.health(healthOptions);
      const state = supervisor.status().state;
      const live = state !== 'failed';
      const ready = state === 'running' && report.services.every((s) => s.status !== 'unhealthy');
      return {
        status: report.status,
        live,
        ready,
        services: report.services,
        checkedAt: clock.now(),
      };
    },
    async [Symbol.asyncDispose]() {
      await foundation.stop();
    },
  };
  return foundation;
}
