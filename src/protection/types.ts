/**
 * The protection capability's shared types: what a protected function receives, the layer contract every
 * policy implements (breaker, retry, timeout, bulkhead, fallback, hedging, adaptive concurrency), the names of
 * the layers, and the rejection family (docs/protection.md).
 *
 * @module
 */
import type { CallState } from './call-state.js';

/**
 * What a protected function receives on each attempt. `R` is the resource type of a policy with a `pool`
 * layer (a connection…); without one, `resource` is `undefined`.
 */
export interface Attempt<R = unknown> {
  /** 1 for the first attempt, 2 for the first retry, … (a hedged attempt counts as an attempt too). */
  readonly attempt: number;
  /**
   * Aborted when this attempt must stop: its timeout or the call's deadline passed, a hedge won, the caller's
   * signal aborted. Created on first read: a function that never reads it costs no AbortController.
   */
  readonly signal: AbortSignal;
  /** Wall ms by which the whole call must finish, when a deadline applies. */
  readonly deadline: number | undefined;
  /** The rate-limit key of the call (`execute(fn, { key })`), `undefined` when none was given. */
  readonly key: string | undefined;
  /** The resource lent by the policy's pool for this attempt (released when the attempt settles). */
  readonly resource: R;
}

/** A function run under protection. */
export type ProtectedFn<T, R = unknown> = (attempt: Attempt<R>) => T | PromiseLike<T>;

/**
 * The layers a policy can have, in the documented default order of `protect()` (outermost first): rate
 * limiting inside retry (each attempt takes a unit; a refusal's `retryAfterMs` paces the retry) and before
 * the breaker (a refused call never reaches it), the pool innermost (an attempt holds a resource only while
 * its function runs; the attempt's timeout covers the wait for one).
 */
export const LAYER_ORDER = [
  'fallback',
  'deadline',
  'retry',
  'rateLimit',
  'breaker',
  'adaptive',
  'bulkhead',
  'hedge',
  'timeout',
  'pool',
] as const;

/** One kind of layer. */
export type LayerKind = (typeof LAYER_ORDER)[number];

/**
 * One layer of a pipeline. `run` does its work around `next` (the rest of the pipeline, ending with the
 * function): it may call `next` several times (retry, hedge) with child states from `call.child()`, not at
 * all (an open breaker), or race it (timeout). It must not keep `call` after it settles.
 */
export interface Layer {
  /** Which kind of layer this is; it fixes the layer's place in the documented order. */
  readonly kind: LayerKind;
  /**
   * Runs one call (or attempt) `call` through this layer: does the layer's work around `next` (the rest of
   * the pipeline) and settles with its result or a rejection.
   */
  run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T>;
  /** Live state for status pages (breaker state, bulkhead occupancy, limit…). */
  status(): LayerStatus;
}

/** A layer's live state, JSON-serializable. */
export interface LayerStatus {
  /** Which kind of layer reports this state. */
  readonly kind: LayerKind;
  /** The layer's own figures (limits, counts, state), JSON values. */
  readonly [key: string]: unknown;
}

/**
 * The catalog codes of refusals, one per layer that can refuse: `FND_PROTECT_CIRCUIT_OPEN` (breaker),
 * `FND_PROTECT_BULKHEAD_FULL` (bulkhead, a full pool queue), `FND_PROTECT_LIMIT_EXCEEDED` (adaptive, rate limit), `FND_PROTECT_BUDGET_EXHAUSTED`
 * (retry budget), `FND_PROTECT_TIMEOUT` (timeout and deadline), `FND_PROTECT_CANCELLED` (the caller aborted).
 * Their context always has `layer` and `policy`, and `retryAfterMs` when known.
 */
export type RejectionCode =
  | 'FND_PROTECT_CIRCUIT_OPEN'
  | 'FND_PROTECT_BULKHEAD_FULL'
  | 'FND_PROTECT_LIMIT_EXCEEDED'
  | 'FND_PROTECT_BUDGET_EXHAUSTED'
  | 'FND_PROTECT_TIMEOUT'
  | 'FND_PROTECT_CANCELLED';

/** Decides whether an outcome counts as a failure (for breakers, retries, hedging). */
export interface FailurePredicate {
  /** A thrown error counts as a failure when this returns true. Default: every error. */
  readonly error?: (error: unknown) => boolean;
  /** A returned value counts as a failure when this returns true. Default: none. */
  readonly result?: (value: unknown) => boolean;
}
