/**
 * The idle sweep's pure decision: which idle resources go (past their lifetime, or idle too long while the
 * pool holds more than `min`), which stay, and when the next sweep is due. No I/O; `now` is an argument.
 *
 * @module
 */
import type { PoolEntry } from './lease.js';

/** What one sweep decided. */
export interface IdleSweep<R> {
  /** Idle resources that stay, in their order (oldest idle first). */
  readonly kept: PoolEntry<R>[];
  /** Idle resources to destroy. */
  readonly evicted: PoolEntry<R>[];
  /** Monotonic ms of the next due expiry among the kept ones (`Infinity`: none). */
  readonly next: number;
}

/** The limits a sweep applies. */
export interface IdleSweepLimits {
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly min: number;
}

/**
 * Sweeps `idle` (oldest idle first) at monotonic `now`; `total` counts every resource of the pool (idle, lent,
 * being created), so that idle timeouts never take the pool below `min`. Lifetimes apply regardless.
 */
export function sweepIdle<R>(
  idle: readonly PoolEntry<R>[],
  now: number,
  total: number,
  limits: IdleSweepLimits,
): IdleSweep<R> {
  let left = total;
  let next = Number.POSITIVE_INFINITY;
  const kept: PoolEntry<R>[] = [];
  const evicted: PoolEntry<R>[] = [];
  for (const entry of idle) {
    const lifeEnd = entry.createdAt + limits.maxLifetimeMs;
    const idleEnd = entry.idleSince + limits.idleTimeoutMs;
    if (lifeEnd <= now || (idleEnd <= now && left > limits.min)) {
      evicted.push(entry);
      left -= 1;
      continue;
    }
    kept.push(entry);
    next = Math.min(next, lifeEnd);
    if (idleEnd > now) next = Math.min(next, idleEnd);
  }
  return { kept, evicted, next };
}
