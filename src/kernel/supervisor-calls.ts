/**
 * Helpers of the supervisor: calls into service code bounded by a clock timer, option defaults, service
 * definition checks and health checks.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { systemClock, type Clock } from './clock.js';
import type { HealthStatus, Service } from './service.js';
import type {
  BootPolicy,
  RestartPolicy,
  RestartStrategy,
  ServiceHealth,
  SupervisorOptions,
} from './supervisor-types.js';

/** Outcome of a {@link boundedCall}. `late` is the still-pending promise of a call that timed out. */
export type BoundedOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout'; readonly late: Promise<T> };

/**
 * Calls `fn` and waits at most `ms` (on `clock`) for its result. Never rejects: a synchronous throw or a
 * rejection is an `error` outcome. The timer is created synchronously, right after `fn` returns, and is
 * cancelled as soon as the call settles.
 */
export function boundedCall<T>(
  clock: Clock,
  ms: number,
  fn: () => Promise<T> | T,
): Promise<BoundedOutcome<T>> {
  let promise: Promise<T>;
  try {
    promise = Promise.resolve(fn());
  } catch (error) {
    return Promise.resolve({ kind: 'error', error });
  }
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => {
      resolve({ kind: 'timeout', late: promise });
    }, ms);
    promise.then(
      (value) => {
        timer.cancel();
        resolve({ kind: 'ok', value });
      },
      (error: unknown) => {
        timer.cancel();
        resolve({ kind: 'error', error });
      },
    );
  });
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]*$/;
const POLICIES: readonly RestartPolicy[] = ['permanent', 'transient', 'temporary'];
const BOOT_POLICIES: readonly BootPolicy[] = ['required', 'background'];

function invalid(message: string, context: Record<string, unknown>): FoundationError {
  return new FoundationError('FND_LIFECYCLE_INVALID_SERVICE', { message, context });
}

function isNameList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Throws `FND_LIFECYCLE_INVALID_SERVICE` unless `service`, its restart `policy` and its `boot` policy form a
 * valid definition.
 */
export function validateService(
  service: unknown,
  policy: unknown,
  boot: unknown = 'required',
): asserts service is Service {
  if (typeof service !== 'object' || service === null) {
    throw invalid('A service must be an object', {});
  }
  const s = service as Record<string, unknown>;
  const name = s.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw invalid(
      'A service name must start with a letter and contain only letters, digits, ".", "-" and "_"',
      { service: typeof name === 'string' ? name : String(name) },
    );
  }
  for (const fn of ['start', 'stop'] as const) {
    if (typeof s[fn] !== 'function')
      throw invalid(`Service "${name}" has no ${fn} function`, { service: name });
  }
  for (const fn of ['health', 'onDependencyUp', 'onDependencyDown'] as const) {
    if (s[fn] !== undefined && typeof s[fn] !== 'function') {
      throw invalid(`Service "${name}": ${fn} must be a function`, { service: name });
    }
  }
  for (const list of ['dependencies', 'optionalDependencies'] as const) {
    if (s[list] !== undefined && !isNameList(s[list])) {
      throw invalid(`Service "${name}": ${list} must be an array of names`, { service: name });
    }
  }
  if (!POLICIES.includes(policy as RestartPolicy)) {
    throw invalid(`Service "${name}": unknown restart policy`, { service: name, restart: String(policy) });
  }
  if (!BOOT_POLICIES.includes(boot as BootPolicy)) {
    throw invalid(`Service "${name}": unknown boot policy`, { service: name, boot: String(boot) });
  }
}

/** `FND_LIFECYCLE_INVALID_STATE` with `message`. */
export function invalidState(message: string): FoundationError {
  return new FoundationError('FND_LIFECYCLE_INVALID_STATE', { message, context: {} });
}

/** The `FND_LIFECYCLE_RESTART_INTENSITY` escalation error: `service` failed once too often. */
export function intensityError(
  service: string,
  limits: { readonly maxRestarts: number; readonly withinMs: number },
  cause: FoundationError,
): FoundationError {
  const { maxRestarts, withinMs } = limits;
  return new FoundationError('FND_LIFECYCLE_RESTART_INTENSITY', {
    message: `More than ${maxRestarts} restarts within ${withinMs} ms (last: "${service}"); escalated`,
    context: { service, maxRestarts, withinMs },
    cause,
  });
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The worst of `statuses` (`healthy` for none). */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'healthy';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}

/**
 * Runs one running service's health check, bounded by `timeoutMs`: no health function = healthy; a throw, a
 * timeout or a malformed report = unhealthy. The signal given to the check aborts on timeout.
 */
export async function checkServiceHealth(
  clock: Clock,
  timeoutMs: number,
  service: Service,
  instance: unknown,
): Promise<ServiceHealth> {
  const name = service.name;
  if (service.health === undefined) return { name, status: 'healthy' };
  const controller = new AbortController();
  const outcome = await boundedCall(clock, timeoutMs, () => service.health?.(instance, controller.signal));
  switch (outcome.kind) {
    case 'timeout':
      controller.abort();
      outcome.late.catch(() => undefined);
      return { name, status: 'unhealthy', message: `health check timed out after ${timeoutMs} ms` };
    case 'error':
      return { name, status: 'unhealthy', message: `health check failed: ${errorMessage(outcome.error)}` };
    case 'ok': {
      const report = outcome.value as { status?: unknown; message?: unknown } | undefined;
      const status = report?.status;
      if (status !== 'healthy' && status !== 'degraded' && status !== 'unhealthy') {
        return { name, status: 'unhealthy', message: 'health check returned no valid status' };
      }
      return typeof report?.message === 'string'
        ? { name, status, message: report.message }
        : { name, status };
    }
  }
}

/** {@link SupervisorOptions} with defaults applied. */
export interface ResolvedSupervisorOptions {
  readonly clock: Clock;
  readonly strategy: RestartStrategy;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly stopTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly backoff: { readonly initial: number; readonly max: number };
}

/** Applies defaults; throws `FND_CONFIG_INVALID_VALUE` on a negative or non-finite duration. */
export function resolveSupervisorOptions(options: SupervisorOptions): ResolvedSupervisorOptions {
  const resolved: ResolvedSupervisorOptions = {
    clock: options.clock ?? systemClock,
    strategy: options.strategy ?? 'one_for_one',
    maxRestarts: options.maxRestarts ?? 3,
    withinMs: options.withinMs ?? 5000,
    stopTimeoutMs: options.stopTimeoutMs ?? 5000,
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    backoff: options.restartBackoffMs ?? { initial: 10, max: 5000 },
  };
  for (const [key, value] of Object.entries({
    stopTimeoutMs: resolved.stopTimeoutMs,
    startTimeoutMs: resolved.startTimeoutMs,
    'restartBackoffMs.initial': resolved.backoff.initial,
    'restartBackoffMs.max': resolved.backoff.max,
  })) {
    if (!Number.isFinite(value) || value < 0) {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: `Supervisor option ${key} must be a non-negative number`,
        context: { option: key, value },
      });
    }
  }
  if (!['one_for_one', 'rest_for_one'].includes(resolved.strategy)) {
    throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
      message: 'Supervisor option strategy must be one_for_one or rest_for_one',
      context: { option: 'strategy', value: resolved.strategy },
    });
  }
  return resolved;
}
