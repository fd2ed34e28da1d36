/**
 * Rate limiting: the pure models (token bucket, GCRA, two-window sliding counter, aligned fixed window), the
 * store port and its in-process store, the keyed {@link RateLimiter} (consume, check, status, reset, wait, hold,
 * keys) and {@link parseRetryAfter} (a dependency's `Retry-After` → ms for `hold`).
 *
 * @module
 */
export * from './types.js';
export * from './token-bucket.js';
export * from './gcra.js';
export * from './sliding-window.js';
export * from './fixed-window.js';
export * from './memory-store.js';
export * from './limiter.js';
export * from './create-store.js';
export { parseRetryAfter } from './retry-after.js';
export { PostgresRateLimitStore } from './postgres-store.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-store.js';
export { RATELIMIT_MIGRATIONS } from './migrations.js';
