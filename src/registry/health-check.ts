/**
 * Runs one service health check with a timeout and an abort signal, turning every outcome into a
 * {@link HealthReport}.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../kernel/clock.js';
import type { HealthReport, HealthStatus } from '../kernel/service.js';
import { FoundationError } from '../errors/index.js';

/** A registered service's health check: receives the registered value and a signal aborted on timeout. */
export type HealthCheck<T> = (value: T, signal: AbortSignal) => HealthReport | Promise<HealthReport>;

/** Options of {@link runHealthCheck}. */
export interface RunHealthCheckOptions {
  /** Time source for the timeout. */
  readonly clock: Clock;
  /** Time allowed to the check, in ms; `Infinity` allows it forever. */
  readonly timeoutMs: number;
  /** Aborts the check: the check's own signal is aborted and the returned promise rejects `FND_SYSTEM_ABORTED`. */
  readonly signal?: AbortSignal | undefined;
}

const STATUSES: ReadonlySet<HealthStatus> = new Set<HealthStatus>(['healthy', 'degraded', 'unhealthy']);

/** The report of a service registered without a health check. */
export const HEALTHY_REPORT: HealthReport = Object.freeze({ status: 'healthy' });

/** Whether `value` is a well-formed `HealthReport` (`@elixirscope/foundation/kernel`). */
export function isHealthReport(value: unknown): value is HealthReport {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as { status?: unknown; message?: unknown; details?: unknown };
  return (
    STATUSES.has(report.status as HealthStatus) &&
    (report.message === undefined || typeof report.message === 'string') &&
    (report.details === undefined || (typeof report.details === 'object' && report.details !== null))
  );
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'health check failed';
}

function failedReport(error: unknown): HealthReport {
  const details: Record<string, unknown> = { code: 'FND_REGISTRY_HEALTH_FAILED' };
  if (error instanceof FoundationError) details['errorCode'] = error.code;
  return { status: 'unhealthy', message: errorMessage(error), details };
}

function invalidReport(): HealthReport {
  return {
    status: 'unhealthy',
    message:
      'health check returned an invalid report (expected { status: "healthy" | "degraded" | "unhealthy" })',
    details: { code: 'FND_REGISTRY_HEALTH_FAILED' },
  };
}

/** The report of a check that exceeded `timeoutMs`. */
export function timedOutReport(timeoutMs: number): HealthReport {
  return {
    status: 'unhealthy',
    message: `health check timed out after ${timeoutMs} ms`,
    details: { code: 'FND_REGISTRY_HEALTH_TIMEOUT' },
  };
}

function abortedError(signal: AbortSignal): FoundationError {
  return new FoundationError('FND_SYSTEM_ABORTED', {
    message: 'Health check aborted by the caller',
    cause: signal.reason,
  });
}

/**
 * Calls `check(value, signal)` and resolves with its report. Never rejects for the check's own failures: a
 * throw or rejection gives `unhealthy` (details code `FND_REGISTRY_HEALTH_FAILED`), a malformed result gives
 * `unhealthy`, and exceeding the timeout gives `unhealthy` (details code `FND_REGISTRY_HEALTH_TIMEOUT`) and
 * aborts the check's signal. Rejects `FND_SYSTEM_ABORTED` only when the caller's `signal` aborts first.
 */
export function runHealthCheck<T>(
  check: HealthCheck<T>,
  value: T,
  options: RunHealthCheckOptions,
): Promise<HealthReport> {
  const { clock, timeoutMs, signal } = options;
  if (signal?.aborted === true) return Promise.reject(abortedError(signal));
  const controller = new AbortController();
  return new Promise<HealthReport>((resolve, reject) => {
    let settled = false;
    let timer: TimerHandle | undefined;
    const onAbort = (): void => {
      if (signal === undefined || !finish()) return;
      controller.abort(signal.reason);
      reject(abortedError(signal));
    };
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const complete = (report: HealthReport): void => {
      if (finish()) resolve(report);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(timeoutMs)) {
      timer = clock.setTimeout(() => {
        if (!finish()) return;
        controller.abort(
          new FoundationError('FND_REGISTRY_HEALTH_TIMEOUT', {
            message: `health check timed out after ${timeoutMs} ms`,
            context: { timeoutMs },
          }),
        );
        resolve(timedOutReport(timeoutMs));
      }, timeoutMs);
    }
    let result: HealthReport | Promise<HealthReport>;
    try {
      result = check(value, controller.signal);
    } catch (error) {
      complete(failedReport(error));
      return;
    }
    Promise.resolve(result).then(
      (report: unknown) => {
        complete(isHealthReport(report) ? report : invalidReport());
      },
      (error: unknown) => {
        complete(failedReport(error));
      },
    );
  });
}
