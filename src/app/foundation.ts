/**
 * `createFoundation()` and its options: the composition root. It wires the registry, supervisor, storage
 * (chosen by the store URL), config, event store, projections, protection and telemetry into one instance
 * with `start()`, `stop()`, `status()`, `health()` and `Symbol.asyncDispose`. Instances share nothing.
 *
 * The parts live beside it: the instance contract in `foundation-types.ts`, the config in
 * `foundation-config.ts`, the event store and its options in `foundation-event-store.ts`, the bridge from
 * the supervisor to the registry in `supervised-services.ts`. Their public names are re-exported here.
 *
 * Every foundation adds its own supervised services before the caller's, in this order: `storage`,
 * `config`, `events`, `retention` (when retention is configured) and `projections`. Nothing connects,
 * registers or starts until `start()`; what can be checked early throws from `createFoundation()` itself:
 * the store URL, the config sources, the event spool, the protection policies, the projection definitions.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ConfigEventRecord, ManagedConfig } from '../config/config.js';
import type { FoundationConfigShape } from '../config/foundation-settings.js';
import type { ConfigOptions } from '../config/types.js';
import { FoundationError } from '../errors/index.js';
import { Projections } from '../events/projections/projections.js';
import type { ProjectionDefinition } from '../events/projections/types.js';
import { validateDefinition } from '../events/projections/validate-definition.js';
import { MemoryEventStore } from '../events/stores/memory-store.js';
import { createCheckpointStore } from '../events/subscriptions/durable/create-checkpoint-store.js';
import { durableSubscription } from '../events/subscriptions/durable/durable-subscription.js';
import type { DurableSubscription } from '../events/subscriptions/durable/types.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import type { Service } from '../kernel/service.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { Supervisor, type RestartStrategy } from '../kernel/supervisor.js';
import { ServiceRegistry } from '../registry/index.js';
import { parseStoreUrl, Storage } from '../storage/index.js';
import { projectionStoreFor, projectionsService, retentionService } from './event-services.js';
import { appendConfigEvent, configService, settingsOf } from './config-service.js';
import { createFoundationConfig } from './foundation-config.js';
import { createFoundationEventStore, type FoundationEventsOptions } from './foundation-event-store.js';
import { FoundationTelemetry } from './foundation-telemetry.js';
import type { TypedFoundation } from './foundation-types.js';
import { wireProtection } from './protection-wiring.js';
import { eventsService, storageService } from './store-services.js';
import { mirrorSupervisedServices } from './supervised-services.js';

export type { FoundationEventsOptions } from './foundation-event-store.js';
export type {
  Foundation,
  FoundationHealth,
  FoundationState,
  FoundationStatus,
  TypedFoundation,
} from './foundation-types.js';
export { EVENTS_SERVICE, STORAGE_SERVICE } from './store-services.js';
export { SERVICES_NAMESPACE } from './supervised-services.js';

/**
 * The telemetry events of a foundation's own lifecycle: `foundation:started` when `start()` completes,
 * `foundation:stopped` when a running foundation stops.
 */
const foundationStarted = telemetryEvent('foundation:started');
const foundationStopped = telemetryEvent('foundation:stopped');

/**
 * The config of a foundation (docs/config.md): the user's schema and sources; the `foundation` section (the
 * foundation's own settings) is added to the schema, its mutable and secret paths to the declared ones.
 */
export interface FoundationConfigOptions<S extends StandardSchemaV1 | undefined = undefined> extends Omit<
  ConfigOptions,
  'schema'
> {
  /** The user's part of the config (every key but `foundation`). Without it, that part is not validated. */
  readonly schema?: S;
}

/** The config type of a foundation created with schema `S`. */
export type FoundationConfigOf<S extends StandardSchemaV1 | undefined> = FoundationConfigShape<
  S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Record<string, unknown>
>;

/** Options for {@link createFoundation}. All are optional. */
export interface FoundationOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /**
   * Human name of this node, shown on the dashboard. Defaults to the config's `foundation.name`
   * (`foundation`). Given here, it is an `argument`-level value: above the file and the environment.
   */
  name?: string;
  /** Directory for the embedded store and other local state. Defaults to `foundation.dataDir` (`./.foundation`). */
  dataDir?: string;
  /**
   * Where the foundation keeps its data: `memory:`, `sqlite:<path>` (query parameters `synchronous=FULL`,
   * `busyTimeoutMs`) or `postgres://user@host:5432/db?schema=foundation&poolSize=10`. Defaults to
   * `foundation.store`, else `sqlite:<dataDir>/foundation.db`. Validated at once: a bad URL throws
   * `FND_STORAGE_INVALID_URL`.
   */
  store?: string;
  /**
   * The config: schema, file, environment prefix, mutable and secret paths (docs/config.md). Its sources are
   * read at once (a corrupt file throws here); a supervised `config` service persists its versions in the
   * foundation's store and shares them with the other nodes of a PostgreSQL store.
   */
  config?: FoundationConfigOptions<S>;
  /** Event store limits (the clock is the foundation's), outage spool, retention, health threshold. */
  events?: FoundationEventsOptions;
  /**
   * Projections registered before start (more can be added with `foundation.projections.register`). A
   * supervised `projections` service starts them after `events`. See docs/projections.md.
   */
  projections?: ReadonlyArray<ProjectionDefinition>;
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
export function createFoundation<S extends StandardSchemaV1 | undefined = undefined>(
  options: FoundationOptions<S> = {},
): TypedFoundation<FoundationConfigOf<S>> {
  const clock = options.clock ?? systemClock;
  const id = randomUUID();
  // Forward reference: the config records its changes as events once the event store runs.
  let recordConfigEvent: (event: ConfigEventRecord) => Promise<unknown> = () => Promise.resolve();
  const config = createFoundationConfig(options, {
    clock,
    node: () => name,
    storage: () => storage,
    recordEvent: (event) => recordConfigEvent(event),
  });
  const settings = settingsOf(config);
  const name = settings.name;
  const dataDir = settings.dataDir;
  const location = parseStoreUrl(settings.store ?? `sqlite:${join(dataDir, 'foundation.db')}`);
  const storage = new Storage(location, { clock });
  const telemetry = new FoundationTelemetry(clock, () => settingsOf(config).telemetry);
  (config as unknown as ManagedConfig<FoundationConfigShape>).subscribe('foundation.telemetry', {
    onChange: () => telemetry.apply(),
  });
  const { events, port, spool, retention } = createFoundationEventStore(options.events, {
    settings,
    location,
    storage,
    dataDir,
    clock,
  });
  // Checked at once: an entry a layer refuses throws FND_PROTECT_INVALID_POLICY here.
  const protection = wireProtection(config, events, clock, storage);
  const projections = new Projections(events, projectionStoreFor(storage), { clock });
  const durables = new Set<DurableSubscription>();
  // One checkpoint store for every durable subscription of this foundation (on memory it holds the
  // checkpoints, so handles created one after the other share them); each handle opens it at start.
  const checkpoints = createCheckpointStore(storage, { clock });
  const registry = new ServiceRegistry({ clock });
  const supervisor = new Supervisor({ clock, ...options.supervisor });
  let startedAt: number | undefined;
  let startedMonotonic = 0;

  const addService = mirrorSupervisedServices(supervisor, registry);
  addService(storageService(storage, location));
  addService(configService(config));
  addService(
    eventsService(events, {
      ...(spool === undefined ? {} : { spool }),
      maxHealthyLag: () => settingsOf(config).events.maxHealthyLag,
    }),
  );
  recordConfigEvent = (event) => appendConfigEvent(events, event);
  if (retention !== undefined) {
    addService(retentionService(events, port instanceof MemoryEventStore ? port : storage, retention, clock));
  }
  const projectionDefinitions = options.projections ?? [];
  // Validated at once: a bad definition throws FND_EVENTS_INVALID_POLICY here, not at start.
  for (const definition of projectionDefinitions) validateDefinition(definition);
  addService(projectionsService(projections));
  for (const service of options.services ?? []) addService(service);
  const registering = Promise.all(
    projectionDefinitions.map((definition) => projections.register(definition)),
  );
  registering.catch(() => undefined);

  const foundation: TypedFoundation<FoundationConfigOf<S>> = {
    config,
    metrics: telemetry,
    protection: protection.registry,
    rateLimits: protection.rateLimits,
    protect(policyName, overrides) {
      return protection.registry.policy(policyName, overrides);
    },
    id,
    name,
    dataDir,
    clock,
    registry,
    supervisor,
    storage,
    events,
    projections,
    durable(durableOptions) {
      const handle = durableSubscription(events, checkpoints, durableOptions, { clock });
      durables.add(handle);
      void handle.done.then(
        () => durables.delete(handle),
        () => durables.delete(handle),
      );
      return handle;
    },
    durableSubscriptions() {
      return [...durables].map((handle) => handle.status());
    },
    add(service, addOptions) {
      addService(service, addOptions);
      return foundation;
    },
    async start() {
      await registering;
      // Started again after a stop: new pools, the shared rate-limit store reconnecting.
      protection.open();
      // Metrics first, so they see the services start; stopped after them.
      await telemetry.start();
      try {
        await supervisor.start();
      } catch (error) {
        await telemetry.stop();
        throw error;
      }
      startedAt = clock.now();
      startedMonotonic = clock.monotonic();
      foundationStarted.emit({ services: supervisor.status().services.length }, { id, name });
    },
    async stop() {
      const wasRunning = startedAt !== undefined;
      await Promise.all([...durables].map((handle) => handle.stop().catch(() => undefined)));
      await supervisor.stop();
      await protection.close();
      await telemetry.stop();
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
