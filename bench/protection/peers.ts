/**
 * The peers of the protection suite, configured as issue 7's targets name them: cockatiel 4.0.0
 * (`circuitBreaker` with a `ConsecutiveBreaker(5)`, `retry` with `ExponentialBackoff`, a cooperative
 * `timeout(1000)`, and `wrap(retry, breaker, timeout)`), and opossum 10.0.0 (`new CircuitBreaker(fn)` with its
 * defaults, then `fire()`). Every policy is created once per case (setup), never per call.
 *
 * @module
 */
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IDefaultPolicyContext,
  type IPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import CircuitBreaker from 'opossum';

/** Consecutive failures that open every breaker of the suite. */
export const BREAKER_THRESHOLD = 5;

/** How long an opened breaker stays open, ms (cockatiel's `halfOpenAfter`, ours `openMs`). */
export const OPEN_MS = 30_000;

/**
 * `maxAttempts` of every retry of the suite, as issue 7 writes it. cockatiel counts retries (3 means up to 4
 * calls); ours counts attempts (3 means up to 3 calls). The cases' functions succeed at once, so no case
 * ever retries and the difference does not show in the figures.
 */
export const MAX_ATTEMPTS = 3;

/** Time limit of every timeout of the suite, ms. */
export const TIMEOUT_MS = 1000;

/** The protected function of most cases: resolves to 1 and never reads its signal. */
export const valueFn = async (): Promise<number> => 1;

/** The protected function that reads its signal (so an implementation must create one), then returns 1. */
export function signalFn({ signal }: { readonly signal: AbortSignal }): number {
  // eslint-disable-next-line @typescript-eslint/no-meaningless-void-operator -- the issue's function, verbatim: the read is the point
  void signal;
  return 1;
}

/** cockatiel's breaker: `circuitBreaker(handleAll, { halfOpenAfter: 30000, breaker: new ConsecutiveBreaker(5) })`. */
export function cockatielBreaker(): CircuitBreakerPolicy {
  return circuitBreaker(handleAll, {
    halfOpenAfter: OPEN_MS,
    breaker: new ConsecutiveBreaker(BREAKER_THRESHOLD),
  });
}

/** cockatiel's retry: `retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() })`. */
export function cockatielRetry(): RetryPolicy {
  return retry(handleAll, { maxAttempts: MAX_ATTEMPTS, backoff: new ExponentialBackoff() });
}

/** cockatiel's timeout: `timeout(1000, TimeoutStrategy.Cooperative)` (its defaults otherwise). */
export function cockatielTimeout(): TimeoutPolicy {
  return timeout(TIMEOUT_MS, TimeoutStrategy.Cooperative);
}

/** cockatiel's composition: `wrap(retry, breaker, timeout)` (retry outermost, timeout innermost). */
export function cockatielComposed(): IPolicy<IDefaultPolicyContext & { readonly signal: AbortSignal }> {
  return wrap(cockatielRetry(), cockatielBreaker(), cockatielTimeout());
}

/** opossum with its defaults around `fn` (10 s timeout per call, 50 % error threshold, 30 s reset). */
export function opossumBreaker<T>(fn: () => Promise<T>): CircuitBreaker<[], T> {
  return new CircuitBreaker(fn);
}

/** Stops an opossum breaker's rolling-window timer. */
export function stopOpossum(breaker: CircuitBreaker<[]>): void {
  breaker.shutdown();
}
