/**
 * Choosing a rate-limit store (memory, PostgreSQL or Redis), and the input checks every store runs before a decision (so that a
 * garbage key, rule or unit count is refused with `FND_PROTECT_INVALID_POLICY` on every store alike, and
 * never reaches the state).
 *
 * @module
 */
export {
  checkRateLimitCall,
  checkRateLimitKey,
  checkRateLimitRule,
  checkRateLimitUnits,
  MAX_RATE_LIMIT_KEY_LENGTH,
  MAX_RATE_LIMIT_SPAN,
  ruleCapacity,
} from './checks.js';
import type { Storage } from '../../storage/index.js';
import { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory-store.js';
import { PostgresRateLimitStore } from './postgres-store.js';
import { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-store.js';
import type { RateLimitStore } from './types.js';

/** Where {@link createRateLimitStore} keeps state. */
export type RateLimitStoreTarget =
  | ({ readonly storage: Storage } & MemoryRateLimitStoreOptions)
  | ({ readonly redisUrl: string } & RedisRateLimitStoreOptions);

/**
 * A rate-limit store for a foundation's storage or a Redis server: on a PostgreSQL `storage` the shared
 * PostgreSQL store (its `ratelimit` migrations run on first use); on a memory or SQLite storage a
 * {@link MemoryRateLimitStore} (one process; `clock` and `maxKeys` apply); with `redisUrl` (`redis://…`) the
 * Redis store (ioredis is loaded on first use). Constructing connects to nothing.
 *
 * @example
 * ```ts
 * const shared = createRateLimitStore({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: 'svc:rl:' });
 * const local = createRateLimitStore({ storage }); // PostgreSQL store when storage is postgres://…
 * const d = await shared.consume('user:42', { algorithm: 'gcra', limit: 100, windowMs: 60_000 }, 1);
 * ```
 */
export function createRateLimitStore(target: RateLimitStoreTarget): RateLimitStore {
  if ('redisUrl' in target) {
    const { redisUrl, ...options } = target;
    return new RedisRateLimitStore(redisUrl, options);
  }
  const { storage, ...options } = target;
  if (storage.location.kind === 'postgres') return new PostgresRateLimitStore(storage);
  return new MemoryRateLimitStore(options);
}
