/**
 * The `Service` contract: what the supervisor starts, stops, restarts and health-checks.
 *
 * @module
 */

/** Result of a health check. `degraded` means working with reduced capacity. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What a service's health check reports. */
export interface HealthReport {
  /** `healthy`, `degraded` (working with reduced capacity) or `unhealthy`. */
  readonly status: HealthStatus;
  /** Short human explanation, shown on the dashboard. */
  readonly message?: string;
  /** Extra structured details. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Handed to a service's `start()`. `signal` aborts when the supervisor stops the service; `fail(error)`
 * reports a failure at run time (after `start()` resolved) so the supervisor restarts it per its strategy.
 */
export interface ServiceContext {
  /** Aborted when this instance of the service is being stopped. */
  readonly signal: AbortSignal;
  /** Reports that the running service failed; the supervisor restarts it per strategy and intensity. */
  fail(error: unknown): void;
  /** Returns a started dependency's instance value, or `undefined` for an optional one that is not running. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed convenience for callers
  dependency<T = unknown>(name: string): T | undefined;
}

/**
 * A supervised service.
 *
 * - `start` resolves when the service is ready; its resolved value is what `dependency(name)` returns to
 *   dependants and what the registry holds.
 * - `stop` releases everything `start` acquired; it should be idempotent.
 * - `health` is optional; without it a running service is healthy.
 */
export interface Service<T = unknown> {
  /** Unique name within its foundation (letters, digits, `.`, `-`, `_`; starts with a letter). */
  readonly name: string;
  /** Services that must be running before this one starts; a failed required dependency blocks it. */
  readonly dependencies?: readonly string[];
  /** Services used when present: this one starts without them and is told when they appear. */
  readonly optionalDependencies?: readonly string[];
  /** Starts the service; the resolved value is its instance (what dependants and the registry get). */
  start(ctx: ServiceContext): Promise<T> | T;
  /** Stops the instance `start` returned, releasing everything it acquired; should be idempotent. */
  stop(instance: T): Promise<void> | void;
  /** Checks the running instance; `signal` aborts when the check times out. Without it: healthy. */
  health?(instance: T, signal: AbortSignal): Promise<HealthReport> | HealthReport;
  /** Called when an optional dependency becomes available (started or restarted). */
  onDependencyUp?(instance: T, name: string, dependency: unknown): void;
  /** Called when an optional dependency goes away (stopped or failed). */
  onDependencyDown?(instance: T, name: string): void;
}
