import { describe, expect, it } from 'vitest';
import { Storage } from '../../storage/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { checkRateLimitCall, createRateLimitStore, ruleCapacity } from './create-store.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { PostgresRateLimitStore } from './postgres-store.js';
import { RedisRateLimitStore } from './redis-store.js';

describe('createRateLimitStore', () => {
  it('picks the store by target without connecting', async () => {
    const redis = createRateLimitStore({ redisUrl: 'redis://127.0.0.1:1', keyPrefix: 'x:' });
    expect(redis).toBeInstanceOf(RedisRateLimitStore);
    expect(redis.kind).toBe('redis');
    await redis.close();
    const pg = createRateLimitStore({ storage: new Storage('postgres://u@127.0.0.1:1/db') });
    expect(pg).toBeInstanceOf(PostgresRateLimitStore);
    expect(createRateLimitStore({ storage: new Storage('memory:') })).toBeInstanceOf(MemoryRateLimitStore);
    expect(createRateLimitStore({ storage: new Storage('sqlite::memory:') }).kind).toBe('memory');
  });

  it('hands clock and maxKeys to the memory store', async () => {
    const clock = new FakeClock();
    const store = createRateLimitStore({ storage: new Storage('memory:'), clock });
    const rule = { algorithm: 'fixed_window', limit: 1, windowMs: 1000 } as const;
    expect((await store.consume('k', rule, 1)).allowed).toBe(true);
    expect((await store.consume('k', rule, 1)).allowed).toBe(false);
    clock.advance(1000);
    expect((await store.consume('k', rule, 1)).allowed).toBe(true);
  });
});

describe('checkRateLimitCall', () => {
  const good = { algorithm: 'token_bucket', limit: 10, windowMs: 1000, burst: 15 } as const;

  it('accepts valid calls up to the capacity', () => {
    expect(() => {
      checkRateLimitCall('k', good, 15);
    }).not.toThrow();
    expect(ruleCapacity(good)).toBe(15);
    expect(ruleCapacity({ ...good, algorithm: 'fixed_window' })).toBe(10);
  });

  it('names the option, never the key', () => {
    const secretKey = 'tenant:secret-token-value'.padEnd(600, 'x');
    let caught: unknown;
    try {
      checkRateLimitCall(secretKey, good, 1);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY', context: { option: 'key' } });
    expect(JSON.stringify((caught as { context: unknown }).context)).not.toContain('secret');
    expect(() => {
      checkRateLimitCall('k', good, 16);
    }).toThrow(expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }) as Error);
  });
});
