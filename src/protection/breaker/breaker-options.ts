/**
 * The circuit breaker's options (also the config schema of a `breaker` entry under `foundation.protection`)
 * and their validation: the three failure policies (consecutive, count window, time sampling), the open
 * duration and its escalation, half-open probing, slow calls, and which outcomes count as failures.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import type { FailurePredicate } from '../types.js';

/** Opens after `threshold` failures in a row. */
export interface ConsecutivePolicyOptions {
  /** Always `consecutive`: selects the failures-in-a-row policy. */
  readonly policy: 'consecutive';
  /** Failures in a row that open the breaker (integer ≥ 1). */
  readonly threshold: number;
}

/** Opens when the failure ratio of the last `size` calls reaches `threshold`, once `minimumCalls` were seen. */
export interface CountPolicyOptions {
  /** Always `count`: selects the policy over a window of the last `size` calls. */
  readonly policy: 'count';
  /** Calls in the sliding window (integer ≥ 1). */
  readonly size: number;
  /** Failure ratio that opens the breaker, in (0, 1]: opens when failures / calls ≥ threshold. */
  readonly threshold: number;
  /** Calls the window must hold before the ratio is judged (integer in [1, size]; default `size`). */
  readonly minimumCalls?: number;
}

/**
 * Opens when the failure ratio of the calls of the last `windowMs` reaches `threshold`, once the window saw at
 * least `minimumRps` calls per second on average. The window is `buckets` buckets of `windowMs / buckets` ms.
 */
export interface SamplingPolicyOptions {
  /** Always `sampling`: selects the policy over a sliding time window. */
  readonly policy: 'sampling';
  /** Length of the sliding time window, ms (positive). */
  readonly windowMs: number;
  /** Failure ratio that opens the breaker, in (0, 1]. */
  readonly threshold: number;
  /** Average calls per second the window must see before the ratio is judged (≥ 0). */
  readonly minimumRps: number;
  /** Buckets of the window (integer in [1, 1000]; default 10). */
  readonly buckets?: number;
}

/** Half-open probing. */
export interface HalfOpenOptions {
  /** Calls admitted at the same time while half-open (integer ≥ 1; default 1). */
  readonly probes?: number;
  /** Successful probes that close the breaker (integer ≥ 1; default 1). Any failed probe re-opens it. */
  readonly successThreshold?: number;
}

/** Options common to every failure policy. */
export interface BreakerCommonOptions {
  /** How long the breaker stays open the first time, ms (positive; default 30 000). */
  readonly openMs?: number;
  /**
   * Cap of the escalating open duration, ms (≥ openMs; default max(openMs, 300 000)). Each re-open from
   * half-open doubles the duration up to this cap; a successful close resets it to `openMs`. Set it to
   * `openMs` to disable escalation.
   */
  readonly maxOpenMs?: number;
  /** Half-open probing: probes at once and the successes that close the breaker (default 1 and 1). */
  readonly halfOpen?: HalfOpenOptions;
  /** A success slower than this (ms, positive) counts as a failure. Default: none (speed is not judged). */
  readonly slowCallMs?: number;
  /**
   * Which outcomes count as failures (code only, not config). Default: every thrown error except the caller's
   * cancellation (`FND_PROTECT_CANCELLED`, which counts as nothing); no returned value.
   */
  readonly failures?: FailurePredicate;
}

/** The options of a circuit breaker (times in ms). */
export type BreakerOptions = BreakerCommonOptions &
  (ConsecutivePolicyOptions | CountPolicyOptions | SamplingPolicyOptions);

/** The failure policy part of validated options, every default filled in. */
export type ResolvedFailurePolicy =
  | { readonly policy: 'consecutive'; readonly threshold: number }
  | {
      readonly policy: 'count';
      readonly size: number;
      readonly threshold: number;
      readonly minimumCalls: number;
    }
  | {
      readonly policy: 'sampling';
      readonly windowMs: number;
      readonly threshold: number;
      readonly minimumRps: number;
      readonly buckets: number;
    };

/** Validated options, every default filled in. */
export interface ResolvedBreakerOptions {
  /** The failure policy (consecutive, count or sampling) with its defaults filled in. */
  readonly counter: ResolvedFailurePolicy;
  /** How long the breaker stays open the first time, ms ({@link DEFAULT_OPEN_MS} by default). */
  readonly openMs: number;
  /** Cap of the escalating open duration, ms (at least `openMs`; {@link DEFAULT_MAX_OPEN_MS} by default). */
  readonly maxOpenMs: number;
  /** Calls admitted at the same time while half-open (default 1). */
  readonly probes: number;
  /** Successful probes that close the breaker (default 1). */
  readonly successThreshold: number;
  /** A success slower than this many ms counts as a failure; `undefined` when speed is not judged. */
  readonly slowCallMs: number | undefined;
  /** Which outcomes count as failures; `undefined` for the default (every error but a cancellation). */
  readonly failures: FailurePredicate | undefined;
}

/** Default first open duration, ms. */
export const DEFAULT_OPEN_MS = 30_000;
/** Default cap of the escalating open duration, ms (raised to `openMs` when that is longer). */
export const DEFAULT_MAX_OPEN_MS = 300_000;
/** Default number of buckets of a sampling window. */
export const DEFAULT_SAMPLING_BUCKETS = 10;

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'number' || typeof value === 'boolean' ? value : typeof value;
  throw invalidPolicy(`Breaker option "${option}" must be ${expected}`, {
    layer: 'breaker',
    option,
    value: shown,
  });
}

function integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(option, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(option, 'a finite number > 0', value);
  }
  return value;
}

function ratio(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) fail(option, 'a ratio in (0, 1]', value);
  return value;
}

function failurePolicy(options: BreakerOptions): ResolvedFailurePolicy {
  // Config may hand over anything: read it as a record and check every field.
  const raw = options as unknown as Readonly<Record<string, unknown>>;
  switch (raw.policy) {
    case 'consecutive':
      return { policy: 'consecutive', threshold: integer('threshold', raw.threshold, 1) };
    case 'count': {
      const size = integer('size', raw.size, 1, 1_000_000);
      return {
        policy: 'count',
        size,
        threshold: ratio('threshold', raw.threshold),
        minimumCalls:
          raw.minimumCalls === undefined ? size : integer('minimumCalls', raw.minimumCalls, 1, size),
      };
    }
    case 'sampling': {
      const minimumRps = raw.minimumRps;
      if (typeof minimumRps !== 'number' || !Number.isFinite(minimumRps) || minimumRps < 0) {
        fail('minimumRps', 'a finite number ≥ 0', minimumRps);
      }
      return {
        policy: 'sampling',
        windowMs: positive('windowMs', raw.windowMs),
        threshold: ratio('threshold', raw.threshold),
        minimumRps,
        buckets:
          raw.buckets === undefined ? DEFAULT_SAMPLING_BUCKETS : integer('buckets', raw.buckets, 1, 1000),
      };
    }
    default:
      return fail('policy', "'consecutive', 'count' or 'sampling'", raw.policy);
  }
}

/**
 * Validates breaker options and fills in the defaults. Throws `FND_PROTECT_INVALID_POLICY` naming the first
 * bad option (its value only when it is a number or a boolean).
 */
export function resolveBreakerOptions(options: BreakerOptions): ResolvedBreakerOptions {
  if (typeof options !== 'object') fail('options', 'an object', options);
  const counter = failurePolicy(options);
  const openMs = options.openMs === undefined ? DEFAULT_OPEN_MS : positive('openMs', options.openMs);
  let maxOpenMs = Math.max(openMs, DEFAULT_MAX_OPEN_MS);
  if (options.maxOpenMs !== undefined) {
    maxOpenMs = positive('maxOpenMs', options.maxOpenMs);
    if (maxOpenMs < openMs) fail('maxOpenMs', 'at least openMs', maxOpenMs);
  }
  const halfOpen: HalfOpenOptions = options.halfOpen ?? {};
  if (typeof halfOpen !== 'object') fail('halfOpen', 'an object', halfOpen);
  const probes = halfOpen.probes === undefined ? 1 : integer('halfOpen.probes', halfOpen.probes, 1);
  const successThreshold =
    halfOpen.successThreshold === undefined
      ? 1
      : integer('halfOpen.successThreshold', halfOpen.successThreshold, 1);
  const slowCallMs =
    options.slowCallMs === undefined ? undefined : positive('slowCallMs', options.slowCallMs);
  const failures = options.failures;
  if (failures !== undefined) {
    if (typeof failures !== 'object') fail('failures', 'an object', failures);
    if (failures.error !== undefined && typeof failures.error !== 'function') {
      fail('failures.error', 'a function', failures.error);
    }
    if (failures.result !== undefined && typeof failures.result !== 'function') {
      fail('failures.result', 'a function', failures.result);
    }
  }
  return { counter, openMs, maxOpenMs, probes, successThreshold, slowCallMs, failures };
}
