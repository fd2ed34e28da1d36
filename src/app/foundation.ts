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
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createConfig, type ManagedConfig, type ManagedConfigView } from '../config/config.js';
import {
  FOUNDATION_MUTABLE_PATHS,
  FOUNDATION_SECRET_PATHS,
  withFoundationSection,
  type FoundationConfigShape,
} from '../config/foundation-settings.js';
import { ConfigWatchHub } from '../config/stores/config-watch-hub.js';
import { createConfigVersionStore } from '../config/stores/create-version-store.js';
import type { ConfigEventRecord } from '../config/config.js';
import type { ConfigOptions, JsonObject, JsonValue } from '../config/types.js';
import { FoundationError } from '../errors/index.js';
import { createEventStorePort } from '../events/create-event-store.js';
import { EventStore, type EventStoreOptions } from '../events/event-store.js';
import { Projections } from '../events/projections/projections.js';
import { validateDefinition } from '../events/projections/validate-definition.js';
import type { ProjectionDefinition } from '../events/projections/types.js';
import type { EventSpoolOptions } from '../events/spool/spool-options.js';
import { SpoolingEventStorePort } from '../events/spool/spooling-port.js';
import { MemoryEventStore } from '../events/stores/memory-store.js';
import { createCheckpointStore } from '../events/subscriptions/durable/create-checkpoint-store.js';
import { durableSubscription } from '../events/subscriptions/durable/durable-subscription.js';
import type {
  DurableStatus,
  DurableSubscription,
  DurableSubscriptionOptions,
} from '../events/subscriptions/durable/types.js';
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
import {
  projectionStoreFor,
  projectionsService,
  retentionService,
  type FoundationRetentionOptions,
} from './event-services.js';
import { appendConfigEvent, configService, settingsOf } from './config-service.js';
import { FoundationTelemetry, type FoundationMetrics } from './foundation-telemetry.js';
import { wireProtection } from './protection-wiring.js';
import type { Policy } from '../protection/pipeline.js';
import type { PolicyOverrides, ProtectionRegistry } from '../protection/protect.js';
import type { NamedRateLimiters } from '../protection/rate-limit/named-limiters.js';
import { eventsService, storageService } from './store-services.js';

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

/** A foundation whose config is typed by its schema: what {@link createFoundation} returns. */
export interface TypedFoundation<C> extends Foundation {
  /** The typed config: `foundation.config.get('limits.rps')` is typed from the schema. */
  readonly config: ManagedConfig<C>;
}

/** The event-store settings of a foundation. */
export interface FoundationEventsOptions extends Omit<EventStoreOptions, 'clock'> {
  /**
   * PostgreSQL only: appends made while the server is unreachable go to a local spool file and are replayed
   * in order when it returns (docs/event-spool.md). `true` uses `<dataDir>/events-spool.db` and the defaults.
   * On another store it is refused with `FND_CONFIG_INVALID_VALUE`.
   */
  spool?: boolean | (Omit<EventSpoolOptions, 'clock' | 'path'> & { path?: string });
  /** Retention policies run by a supervised `retention` service (docs/retention.md). */
  retention?: FoundationRetentionOptions;
  /**
   * A live subscription more than this many events behind makes the `events` service `degraded`.
   * Default 10 000.
   */
  maxHealthyLag?: number;
}

/**
 * Lifecycle state of a foundation: the state of its supervisor (`idle`, `starting`, `running`, `stopping`,
 * `stopped`, or `failed` after a failed start or an escalation).
 */
export type FoundationState = SupervisorState;

/** Snapshot returned by {@link Foundation.status}. */
export interface FoundationStatus {
  /** Unique id of this instance (UUID), the same as {@link Foundation.id}. */
  readonly id: string;
  /** Human name of this node (`foundation.name` unless given to {@link createFoundation}). */
  readonly name: string;
  /** Lifecycle state of the foundation (its supervisor's state). */
  readonly state: FoundationState;
  /** Wall ms when `start()` last completed, if running. */
  readonly startedAt: number | undefined;
  /** Milliseconds since `start()` last completed (monotonic clock, rounded); 0 when not running. */
  readonly uptimeMs: number;
  /** Total restarts of all services since start. */
  readonly restarts: number;
  /** Status of every supervised service (the foundation's own and the caller's), in start order. */
  readonly services: readonly ServiceStatus[];
  /** The Node.js process this foundation runs in. */
  readonly process: {
    /** Process id (`process.pid`). */
    readonly pid: number;
    /** Node.js version string (`process.version`, e.g. `v20.20.0`). */
    readonly node: string;
    /** Resident set size of the process, in bytes. */
    readonly rssBytes: number;
    /** V8 heap in use, in bytes. */
    readonly heapUsedBytes: number;
  };
}

/** Result of {@link Foundation.health}. */
export interface FoundationHealth {
  /**
   * Overall health: the worst of the services' statuses, and `unhealthy` when the supervisor is not running
   * or escalated.
   */
  readonly status: HealthStatus;
  /** The process is alive and the foundation has not escalated a failure. */
  readonly live: boolean;
  /** Every service is running and healthy or degraded. */
  readonly ready: boolean;
  /** The health of each supervised service (a service that is not running counts as `unhealthy`). */
  readonly services: ReadonlyArray<{
    /** The service's name. */
    readonly name: string;
    /** The service's health: its own check when running (a throw or timeout is `unhealthy`). */
    readonly status: HealthStatus;
    /** Short human explanation from the service's check, when it gave one. */
    readonly message?: string;
  }>;
  /** Wall-clock time of the check, in epoch milliseconds (the foundation's clock). */
  readonly checkedAt: number;
}

/** A foundation instance. Create with {@link createFoundation}. */
export interface Foundation extends AsyncDisposable {
  /** Unique id of this instance (UUID). */
  readonly id: string;
  /** Human name of this node, shown on the dashboard (`foundation.name`, default `foundation`). */
  readonly name: string;
  /** Directory of the embedded store and other local data (`foundation.dataDir`, default `./.foundation`). */
  readonly dataDir: string;
  /** The clock every time-dependent part of this foundation uses (the system clock unless one was given). */
  readonly clock: Clock;
  /**
   * The typed, versioned config (docs/config.md): readable at once; changes need the supervised `config`
   * service to run (it persists versions in the foundation's store).
   */
  readonly config: ManagedConfigView;
  /**
   * Metrics (docs/telemetry.md): the registry of this foundation (`metrics.registry.counter(…)`), fed from the
   * capabilities' telemetry events while the foundation runs, with runtime metrics, in-memory series and the
   * exporters chosen in `foundation.telemetry` (Prometheus at `GET /metrics`, StatsD, OpenTelemetry).
   */
  readonly metrics: FoundationMetrics;
  /**
   * The named protection policies of this foundation (docs/protection.md), built from the config's
   * `foundation.protection` section and reconfigured when it changes: `list()`, `breaker(name)` (isolate,
   * reset), `policy(name, overrides)`.
   */
  readonly protection: ProtectionRegistry;
  /**
   * The named rate limiters (`foundation.rateLimits.rules`, hot-reloaded): `rateLimits.get('api_calls')` is a
   * `RateLimiter` (`consume`, `wait`, `status`, `reset`, `hold`) shared by every policy naming the rule.
   */
  readonly rateLimits: NamedRateLimiters;
  /**
   * The protection policy `name` (`foundation.protection.<name>`): its layers in the documented order, built
   * once; `execute(fn, { key?, signal? })` runs `fn({ attempt, signal, deadline, key, resource })` under them.
   * `overrides` adds the code-only options (a fallback, failure predicates, the pool's resource).
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when the config has no such entry (the message lists
   * the configured names).
   */
  protect<R = unknown>(name: string, overrides?: PolicyOverrides<R>): Policy<R>;
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
   * Projections over the event store (inline and async), started by the supervised `projections` service.
   * `register` adds one at any time.
   */
  readonly projections: Projections;
  /**
   * A durable named subscription (or a consumer-group member) on this foundation's events, with its
   * checkpoints in this foundation's store (docs/durable-subscriptions.md). Call `start()` once the
   * foundation runs; `stop()` of the foundation stops it first.
   */
  durable(options: DurableSubscriptionOptions): DurableSubscription;
  /**
   * Statuses of the durable subscriptions created with {@link Foundation.durable} that have not ended yet
   * (shown by the control bus, `GET /api/subscriptions`).
   */
  durableSubscriptions(): DurableStatus[];
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
  /** A synchronous snapshot: identity, lifecycle state, uptime, restarts, services and process figures. */
  status(): FoundationStatus;
  /**
   * Checks every service concurrently, each bounded by `timeoutMs` (default 5000 ms), and reports overall
   * health with liveness and readiness.
   */
  health(options?: { timeoutMs?: number }): Promise<FoundationHealth>;
}

export { EVENTS_SERVICE, STORAGE_SERVICE } from './store-services.js';

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== key)) as Omit<T, K>;
}

function objectOrEmpty(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

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
export function createFoundation<S extends StandardSchemaV1 | undefined = undefined>(
  options: FoundationOptions<S> = {},
): TypedFoundation<FoundationConfigOf<S>> {
  const clock = options.clock ?? systemClock;
  const id = randomUUID();
  const { schema, mutable, secrets, arguments: userArguments, ...configSources } = options.config ?? {};
  const explicit: Record<string, JsonValue> = {};
  if (options.name !== undefined) explicit.name = options.name;
  if (options.dataDir !== undefined) explicit.dataDir = options.dataDir;
  if (options.store !== undefined) explicit.store = options.store;
  if (options.events?.maxHealthyLag !== undefined) {
    explicit.events = { maxHealthyLag: options.events.maxHealthyLag };
  }
  const configArguments: JsonObject = {
    ...userArguments,
    foundation: { ...objectOrEmpty(userArguments?.foundation), ...explicit },
  };
  // Forward reference: the config records its changes as events once the event store runs.
  let recordConfigEvent: (event: ConfigEventRecord) => Promise<unknown> = () => Promise.resolve();
  const hub = new ConfigWatchHub();
  const config = createConfig(
    {
      ...configSources,
      schema: withFoundationSection(schema),
      arguments: configArguments,
      mutable: [...FOUNDATION_MUTABLE_PATHS, ...(mutable ?? [])],
      secrets: [...FOUNDATION_SECRET_PATHS, ...(secrets ?? [])],
    },
    {
      clock,
      node: () => name,
      store: () => createConfigVersionStore(storage, { hub }),
      recordEvent: (event) => recordConfigEvent(event),
    },
  ) as unknown as ManagedConfig<FoundationConfigOf<S>>;
  const settings = settingsOf(config);
  const name = settings.name;
  const dataDir = settings.dataDir;
  const location = parseStoreUrl(settings.store ?? `sqlite:${join(dataDir, 'foundation.db')}`);
  const storage = new Storage(location, { clock });
  const telemetry = new FoundationTelemetry(clock, () => settingsOf(config).telemetry);
  (config as unknown as ManagedConfig<FoundationConfigShape>).subscribe('foundation.telemetry', {
    onChange: () => telemetry.apply(),
  });
  // maxHealthyLag is not an event-store option: it went into the config (an argument-level value).
  const { spool: spoolOption, retention: retentionOption, ...withLag } = options.events ?? {};
  // Retention from the options, else from the config's foundation.retention section.
  const retention =
    retentionOption ??
    (settings.retention.policies === undefined
      ? undefined
      : { policies: settings.retention.policies, intervalMs: settings.retention.intervalMs });
  const eventOptions: Omit<typeof withLag, 'maxHealthyLag'> = withoutKey(withLag, 'maxHealthyLag');
  const port = createEventStorePort(storage);
  let spool: SpoolingEventStorePort | undefined;
  if (spoolOption !== undefined && spoolOption !== false) {
    if (location.kind !== 'postgres') {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: `The event spool protects a PostgreSQL store from outages; the store is ${location.kind}`,
        context: { option: 'events.spool', store: location.kind },
      });
    }
    const spoolOptions = spoolOption === true ? {} : spoolOption;
    spool = new SpoolingEventStorePort(
      port,
      { ...spoolOptions, path: spoolOptions.path ?? join(dataDir, 'events-spool.db') },
      clock,
    );
  }
  const events = new EventStore(spool ?? port, { ...eventOptions, clock });
  // Checked at once: an entry a layer refuses throws FND_PROTECT_INVALID_POLICY here.
  const protection = wireProtection(config, events, clock, storage);
  const projections = new Projections(events, projectionStoreFor(storage), { clock });
  const durables = new Set<DurableSubscription>();
  // One checkpoint store for every durable subscription of this foundation (on memory it holds the
  // checkpoints, so handles created one after the other share them); each handle opens it at start.
  const checkpoints = createCheckpointStore(storage, { clock });
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
