/**
 * Resource pool: min/max/overflow, FIFO waiters with timeout and abort, validation on borrow, idle eviction,
 * max lifetime, creation backoff, drain.
 *
 * @module
 */
export type { Lease } from './lease.js';
export type { PoolCreateRetry, PoolOptions } from './pool-options.js';
export { type AcquireOptions, type Pool, type PoolStatus, createPool } from './pool.js';
