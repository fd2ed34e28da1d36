/**
 * The retry layer: runs the layers below again after a failure, up to `maxAttempts` attempts in all, waiting
 * between attempts as the backoff says — or as the error's retry-after hint says (`error.retryAfterMs` or
 * `error.context.retryAfterMs`, capped by the backoff's `maxMs`). It never retries:
 * - a caller's cancellation (`FND_PROTECT_CANCELLED`) or the call's deadline (`FND_PROTECT_TIMEOUT` from the
 *   deadline layer), nor anything once the call was aborted;
 * - an error the `failures.error` predicate does not count (by default every other error counts, including a
 *   per-attempt timeout and an inner layer's refusal);
 * - when the wait would end at or after the call's deadline (the last error is rethrown at once).
 * With a `budget`, retries are at most a share of the calls (see {@link RetryBudget}); a retry the budget
 * refuses rejects with `FND_PROTECT_BUDGET_EXHAUSTED`, the last error as its cause. A returned value the
 * `failures.result` predicate counts as a failure is retried too; when the attempts run out, that last value
 * is returned. Waits use the shared coarse timer and are cut short by the call's abort.
 *
 * Each attempt runs in a child state of the call (`attempt.attempt` = 1, 2, …), so a timed-out attempt's
 * abort never reaches the next one.
 *
 * @module
 */
import { defaultRetryDelay, FoundationError, isFoundationError } from '../../errors/index.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { CallState } from '../call-state.js';
import { invalidPolicy } from '../errors.js';
import { refuse } from '../timeout/refuse.js';
import type { FailurePredicate, Layer, LayerStatus } from '../types.js';
import {
  type BackoffOptions,
  backoffDelay,
  maxBackoffMs,
  type RandomSource,
  validateBackoff,
} from './backoff.js';
import { RetryBudget, type RetryBudgetOptions } from './budget.js';

const retried = telemetryEvent('protection:retry');

/** Options of {@link createRetryLayer} (the `retry` entry of a named policy). */
export interface RetryOptions {
  /** Attempts in all, the first included (≥ 1; 1 = never retry). */
  readonly maxAttempts: number;
  /** The wait before each retry. */
  readonly backoff: BackoffOptions;
  /** Retries at most a share of the traffic. */
  readonly budget?: RetryBudgetOptions;
  /** Which errors and results are worth a retry (code only). */
  readonly failures?: FailurePredicate;
  /** Random source of the jittered backoffs (code only; default `Math.random`). */
  readonly random?: RandomSource;
}

/** The retry layer, reconfigurable at run time. */
export interface RetryLayer extends Layer {
  /** Always `retry`: the layer's kind in the pipeline order. */
  readonly kind: 'retry';
  /** New options for calls that start from now on; the budget keeps its counts when its window is unchanged. */
  configure(options: RetryOptions): void;
  /**
   * The live state: the most attempts per call, the backoff kind, and how many retries were made and how many
   * the budget refused since the layer was created.
   */
  status(): LayerStatus & {
    readonly kind: 'retry';
    readonly maxAttempts: number;
    readonly backoff: BackoffOptions['kind'];
    readonly retries: number;
    readonly budgetExhausted: number;
  };
}

function validate(options: RetryOptions): RetryOptions {
  if (typeof options !== 'object') throw invalidPolicy('retry options are required', { option: 'retry' });
  const { maxAttempts } = options;
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw invalidPolicy('retry.maxAttempts must be an integer ≥ 1', { option: 'retry.maxAttempts' });
  }
  validateBackoff(options.backoff);
  return options;
}

/**
 * The retry-after hint of an error, ms: `error.context.retryAfterMs` (where the rejection family puts it),
 * else `error.retryAfterMs` — on a `FoundationError` only when it is not the catalog's default delay for
 * the error's retry strategy (that default is no hint from the dependency).
 */
export function retryAfterHint(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const context = (error as { context?: unknown }).context;
  if (typeof context === 'object' && context !== null) {
    const hinted = (context as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0) return hinted;
  }
  const direct = (error as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof direct !== 'number' || !Number.isFinite(direct) || direct < 0) return undefined;
  if (isFoundationError(error) && direct === defaultRetryDelay(error.retryStrategy, 0)) return undefined;
  return direct;
}

/** Whether an error must never be retried: a cancellation or the call's deadline. */
export function isFinal(error: unknown): boolean {
  if (!(error instanceof FoundationError)) return false;
  if (error.code === 'FND_PROTECT_CANCELLED') return true;
  return error.code === 'FND_PROTECT_TIMEOUT' && error.context.layer === 'deadline';
}

/** Waits `ms` on the coarse timer; rejects with the call's reason as soon as it is aborted. */
function wait(call: CallState, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (call.aborted) {
      reject(call.reason ?? new Error('aborted'));
      return;
    }
    // Only a waiting retry reads the call's signal (a retry path: the wait dwarfs the controller's cost).
    const signal = call.signal;
    const onAbort = (): void => {
      handle.cancel();
      reject(call.reason ?? new Error('aborted'));
    };
    const handle = call.runtime.timer.schedule(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Creates a retry layer. */
export function createRetryLayer(options: RetryOptions): RetryLayer {
  let current = validate(options);
  let budget = current.budget === undefined ? undefined : new RetryBudget(current.budget);
  let retries = 0;
  let budgetExhausted = 0;

  /** Everything after a first failed attempt (error or counted result). */
  async function again<T>(
    call: CallState,
    next: (call: CallState) => Promise<T>,
    o: RetryOptions,
    failedWithError: boolean,
    lastError: unknown,
    lastValue: T | undefined,
  ): Promise<T> {
    const random = o.random ?? Math.random;
    const clock = call.runtime.clock;
    let attempts = 1;
    let previous: number | undefined;
    for (;;) {
      if (failedWithError) {
        if (
          call.aborted ||
          isFinal(lastError) ||
          (o.failures?.error !== undefined && !o.failures.error(lastError))
        ) {
          throw lastError;
        }
      } else if (call.aborted) {
        throw call.reason ?? new Error('aborted');
      }
      if (attempts >= o.maxAttempts) {
        if (failedWithError) throw lastError;
        return lastValue as T;
      }
      const hint = failedWithError ? retryAfterHint(lastError) : undefined;
      let delay: number;
      if (hint === undefined) {
        delay = backoffDelay(o.backoff, attempts, previous, random);
        previous = delay;
      } else {
        delay = Math.min(hint, maxBackoffMs(o.backoff));
      }
      if (call.deadline !== undefined && clock.now() + delay >= call.deadline) {
        if (failedWithError) throw lastError;
        return lastValue as T;
      }
      const model = budget;
      if (model !== undefined && !model.tryRetry(clock.monotonic())) {
        budgetExhausted += 1;
        if (!failedWithError) return lastValue as T;
        throw refuse(
          'FND_PROTECT_BUDGET_EXHAUSTED',
          `Retry budget of "${call.runtime.policy}" is spent`,
          { layer: 'retry', policy: call.runtime.policy },
          lastError,
        );
      }
      attempts += 1;
      retries += 1;
      if (retried.hasSubscribers)
        retried.emit({ attempt: attempts, delayMs: delay }, { policy: call.runtime.policy });
      if (delay > 0) await wait(call, delay);
      const child = call.child(call.nextAttempt());
      try {
        const value = await next(child);
        if (o.failures?.result === undefined || !o.failures.result(value)) return value;
        failedWithError = false;
        lastValue = value;
      } catch (error) {
        failedWithError = true;
        lastError = error;
      } finally {
        call.release(child);
      }
    }
  }

  return {
    kind: 'retry',
    configure(next: RetryOptions): void {
      const validated = validate(next);
      if (validated.budget === undefined) budget = undefined;
      else if (budget === undefined) budget = new RetryBudget(validated.budget);
      else budget.configure(validated.budget);
      current = validated;
    },
    status() {
      return {
        kind: 'retry',
        maxAttempts: current.maxAttempts,
        backoff: current.backoff.kind,
        retries,
        budgetExhausted,
      };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const o = current;
      budget?.recordCall(call.runtime.clock.monotonic());
      const child = call.child(call.attempt);
      return next(child).then(
        (value) => {
          call.release(child);
          if (o.failures?.result === undefined || o.maxAttempts === 1 || !o.failures.result(value))
            return value;
          return again(call, next, o, false, undefined, value);
        },
        (error: unknown) => {
          call.release(child);
          return again<T>(call, next, o, true, error, undefined);
        },
      );
    },
  };
}
