/**
 * The rejection family of the protection layers: one catalog code per refusing layer, a context naming the
 * layer and the policy, `retryAfterMs` when the layer knows it. Rejections carry no stack trace capture cost
 * beyond `FoundationError`'s.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { LayerKind, RejectionCode } from './types.js';

/** The context of every protection rejection. */
export interface RejectionContext {
  /** The kind of layer that refused the call (`breaker`, `bulkhead`, `timeout`…). */
  readonly layer: LayerKind;
  /** The name of the policy whose layer refused the call. */
  readonly policy: string;
  /** How long to wait before trying again, ms, when the layer knows it (an open breaker, a rate limit). */
  readonly retryAfterMs?: number;
  /** Per-layer details, e.g. a deadline's `deadlineMs` or a bulkhead's `maxConcurrent` and `maxQueue`. */
  readonly [key: string]: unknown;
}

/** A refusal by `layer` of policy `policy`. */
export function rejection(code: RejectionCode, message: string, context: RejectionContext): FoundationError {
  return new FoundationError(code, { message, context });
}

/** Whether `error` is a refusal by a protection layer (and which code). */
export function isRejection(error: unknown): error is FoundationError & { code: RejectionCode } {
  return (
    error instanceof FoundationError &&
    (error.code === 'FND_PROTECT_CIRCUIT_OPEN' ||
      error.code === 'FND_PROTECT_BULKHEAD_FULL' ||
      error.code === 'FND_PROTECT_LIMIT_EXCEEDED' ||
      error.code === 'FND_PROTECT_BUDGET_EXHAUSTED' ||
      error.code === 'FND_PROTECT_TIMEOUT' ||
      error.code === 'FND_PROTECT_CANCELLED')
  );
}

/** `FND_PROTECT_INVALID_POLICY` for a bad option, naming the option (never a secret value). */
export function invalidPolicy(message: string, context: Record<string, unknown>): FoundationError {
  return new FoundationError('FND_PROTECT_INVALID_POLICY', { message, context });
}
