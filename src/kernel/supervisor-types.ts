/**
 * Public types of the {@link Supervisor}: strategies, policies, states, status snapshots, options and events.
 *
 * @module
 */
import type { FoundationError } from '../errors/index.js';
import type { Clock } from './clock.js';
import type { HealthStatus } from './service.js';

/**
 * What is restarted when a service fails.
 *
 * - `one_for_one`: only the failed service — plus the services that *require* it (transitively), which are
 *   stopped first and restarted after it, because a required dependency going away takes its dependants down.
 * - `rest_for_one`: the failed service, its required dependants, and every service after it in start order.
 */
export type RestartStrategy = 'one_for_one' | 'rest_for_one';

/**
 * Whether a failed service is restarted. `permanent` and `transient` restart on failure (a stop is never a
 * failure, so they behave the same here); `temporary` is never restarted.
 */
export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

/**
 * What a start failure of a service during {@link Supervisor.start} means.
 *
 * - `required` (default): the service is needed to boot. Its start failure rolls back every started service
 *   and `start()` rejects with `FND_LIFECYCLE_START_FAILED`.
 * - `background`: the service may come up later. Its start failure is handled like a run-time failure: it
 *   goes to `backoff` and is retried per its restart policy and the backoff (counted in the restart intensity;
 *   a `temporary` one goes to `failed`). `start()` resolves without it; services listing it as an optional
 *   dependency start without it and get `onDependencyUp` when it starts; services requiring it are `waiting`
 *   until it runs.
 *
 * Only the first start attempt made by `start()` is concerned: later (re)starts are run-time starts whatever
 * the policy.
 */
export type BootPolicy = 'required' | 'background';

/** Options of {@link Supervisor.add}. */
export interface AddServiceOptions {
  /** Whether the service is restarted after a failure. Default `permanent`. */
  readonly restart?: RestartPolicy;
  /** Whether a start failure during `start()` fails the whole boot. Default `required`. */
  readonly boot?: BootPolicy;
}

/**
 * State of one supervised service.
 *
 * - `pending`: defined, not started yet. `waiting`: blocked on a required dependency that is not running.
 * - `starting` / `running` / `stopping` / `stopped`: the normal life cycle.
 * - `failed`: failed and not going to be restarted (yet). `backoff`: failed, restart scheduled.
 */
export type ServiceState =
  'pending' | 'waiting' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'backoff';

/** The last error of a service as shown in a status snapshot. */
export interface ServiceLastError {
  /** The catalog code of the failure, e.g. `FND_LIFECYCLE_START_FAILED`. */
  readonly code: string;
  /** The error's message. */
  readonly message: string;
  /** Wall-clock ms of the failure. */
  readonly at: number;
}

/** Snapshot of one supervised service. */
export interface ServiceStatus {
  /** The service's name. */
  readonly name: string;
  /** Where the service is in its lifecycle. */
  readonly state: ServiceState;
  /** Restart attempts since the supervisor last started. */
  readonly restarts: number;
  /** Wall-clock ms when the running instance started; `undefined` when not running. */
  readonly startedAt: number | undefined;
  /** How long the running instance has run, whole ms; 0 when not running. */
  readonly uptimeMs: number;
  /** The last failure, `undefined` when it never failed. */
  readonly lastError: ServiceLastError | undefined;
  /** Services that must run before this one. */
  readonly dependencies: readonly string[];
  /** Services used when present. */
  readonly optionalDependencies: readonly string[];
  /** When the service is restarted: `permanent`, `transient` or `temporary`. */
  readonly restartPolicy: RestartPolicy;
  /** What a start failure during `start()` means for this service. */
  readonly boot: BootPolicy;
}

/** State of the supervisor itself. `failed` after a failed start or an escalation. */
export type SupervisorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Snapshot of the supervisor. */
export interface SupervisorStatus {
  /** Where the supervisor is in its lifecycle. */
  readonly state: SupervisorState;
  /** The `FND_LIFECYCLE_RESTART_INTENSITY` error when the supervisor escalated. */
  readonly escalated: FoundationError | undefined;
  /** Every service, in start order. */
  readonly services: ServiceStatus[];
}

/** Options of the {@link Supervisor} constructor. */
export interface SupervisorOptions {
  /** Time source for timeouts, backoff and restart intensity. Default: the system clock. */
  readonly clock?: Clock;
  /** Default `one_for_one`. */
  readonly strategy?: RestartStrategy;
  /** Restarts allowed within `withinMs` before escalating. Default 3. */
  readonly maxRestarts?: number;
  /** Restart intensity window, ms. Default 5000. */
  readonly withinMs?: number;
  /** Bound of each service's `stop`, ms. Default 5000. */
  readonly stopTimeoutMs?: number;
  /** Bound of each service's `start`, ms. Default 30 000. */
  readonly startTimeoutMs?: number;
  /**
   * Delay before a restart attempt: `initial` ms, doubled per consecutive failure of the same service, capped
   * at `max`. The count resets once the service has stayed up for at least `max` ms. Default
   * `{ initial: 10, max: 5000 }`.
   */
  readonly restartBackoffMs?: { readonly initial: number; readonly max: number };
}

/** Events of a supervisor; subscribe with {@link Supervisor.on}. */
// A type alias (not an interface) so it satisfies `TypedEvents`' `Record<string, unknown>` constraint.
export type SupervisorEvents = {
  /** A service's `start` is about to be called. */
  service_starting: { readonly name: string };
  /** A service started; `restarts` counts earlier restart attempts. */
  service_started: { readonly name: string; readonly instance: unknown; readonly restarts: number };
  /** A service was stopped (by `stop`, `remove`, a restart or an escalation). */
  service_stopped: { readonly name: string };
  /**
   * A service failed at run time, while being (re)started after `start()` resolved, or — a `background`
   * service — while being started by `start()`.
   */
  service_failed: { readonly name: string; readonly error: FoundationError; readonly willRestart: boolean };
  /** Restart intensity was exceeded: everything was stopped and the supervisor is `failed`. */
  escalated: { readonly error: FoundationError };
};

/** Result of {@link Supervisor.health} for one service. */
export interface ServiceHealth {
  /** The service's name. */
  readonly name: string;
  /** The service's health; `unhealthy` when it is not running. */
  readonly status: HealthStatus;
  /** The explanation the health check gave, or why the check failed. */
  readonly message?: string;
}

/** Result of {@link Supervisor.health}. */
export interface SupervisorHealth {
  /** The worst of all services; `unhealthy` when the supervisor is not running or escalated. */
  readonly status: HealthStatus;
  /** Every service's health, in start order. */
  readonly services: ServiceHealth[];
}
