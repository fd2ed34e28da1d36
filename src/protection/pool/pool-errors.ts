/**
 * The pool's refusals, `layer: 'pool'` in their context and published on `protection:rejected` like every
 * layer's: acquire timed out → `FND_PROTECT_TIMEOUT`; full and no waiting allowed → `FND_PROTECT_BULKHEAD_FULL`;
 * the caller's signal aborted → `FND_PROTECT_CANCELLED`; drained → `FND_SYSTEM_SERVICE_UNAVAILABLE`.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { refuse } from '../timeout/refuse.js';

/** `FND_PROTECT_TIMEOUT`: no resource within `timeoutMs` (`cause`: the last creation failure, if any). */
export function acquireTimeout(pool: string, timeoutMs: number, cause: unknown): FoundationError {
  const message = `No resource of pool "${pool}" within ${String(timeoutMs)} ms`;
  return refuse('FND_PROTECT_TIMEOUT', message, { layer: 'pool', policy: pool, timeoutMs }, cause);
}

/** `FND_PROTECT_BULKHEAD_FULL`: every resource lent, none can be created, no more waiters allowed. */
export function poolFull(pool: string, capacity: number, maxWaiting: number): FoundationError {
  return refuse('FND_PROTECT_BULKHEAD_FULL', `Pool "${pool}" is full`, {
    layer: 'pool',
    policy: pool,
    capacity,
    maxWaiting,
  });
}

/** `FND_PROTECT_CANCELLED`: the caller's signal aborted the acquire. */
export function acquireCancelled(pool: string, reason: unknown): FoundationError {
  return refuse(
    'FND_PROTECT_CANCELLED',
    `Acquire from pool "${pool}" cancelled by its caller`,
    { layer: 'pool', policy: pool },
    reason,
  );
}

/** `FND_SYSTEM_SERVICE_UNAVAILABLE`: the pool was drained. */
export function poolDrained(pool: string): FoundationError {
  return new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
    message: `Pool "${pool}" is drained`,
    context: { layer: 'pool', policy: pool },
  });
}
