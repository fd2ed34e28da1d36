/**
 * The contract of a running foundation: the {@link Foundation} interface `createFoundation()` returns (typed
 * by its config schema as {@link TypedFoundation}), and the snapshots its `status()` and `health()` report.
 * Types only; the options and the wiring live in `foundation.ts`.
 *
 * @module
 */
import type { ManagedConfig, ManagedConfigView } from '../config/config.js';
import type { EventStore } from '../events/event-store.js';
import type { Projections } from '../events/projections/projections.js';
import type {
  DurableStatus,
  DurableSubscription,
  DurableSubscriptionOptions,
} from '../events/subscriptions/durable/types.js';
import type { Clock } from '../kernel/clock.js';
import type { HealthStatus, Service } from '../kernel/service.js';
import type { AddServiceOptions, ServiceStatus, Supervisor, SupervisorState } from '../kernel/supervisor.js';
import type { Policy } from '../protection/pipeline.js';
import type { PolicyOverrides, ProtectionRegistry } from '../protection/protect.js';
import type { NamedRateLimiters } from '../protection/rate-limit/named-limiters.js';
import type { ServiceRegistry } from '../registry/index.js';
import type { Storage } from '../storage/index.js';
import type { FoundationMetrics } from './foundation-telemetry.js';

/** A foundation whose config is typed by its schema: what {@link createFoundation} returns. */
export interface TypedFoundation<C> extends Foundation {
  /** The typed config: `foundation.config.get('limits.rps')` is typed from the schema. */
  readonly config: ManagedConfig<C>;
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
