/**
 * A foundation stopped and started again (the supervisor's `stopped` state "can be started again"): its
 * protection works as before. `stop()` drains the policies' pools, ends limiter waits, closes the shared
 * rate-limit store and detaches the breakers' event recording; `start()` gives each pooled policy a new pool
 * (resources created anew from the same code), reconnects the shared store and records breaker changes
 * again. Limiter state kept outside the process (Redis) is still there after the restart.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createFoundation } from '../../src/index.js';
import { describeRedis, dropRedisPrefix, redisTestPrefix, redisTestUrl } from '../helpers/redis.js';
import { refusal } from '../helpers/refusal.js';

describe('a foundation started again after stop()', () => {
  it('gives pooled policies a new pool, keeps limits and records breaker changes again', async () => {
    let created = 0;
    let destroyed = 0;
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            protection: {
              db: {
                pool: { max: 1 },
                breaker: { policy: 'consecutive', threshold: 5, openMs: 30_000 },
                rateLimit: { algorithm: 'fixed_window', limit: 100, windowMs: 60_000 },
              },
            },
          },
        },
      },
    });
    const db = foundation.protect<{ id: number }>('db', {
      pool: {
        create: () => ({ id: ++created }),
        destroy: () => {
          destroyed += 1;
        },
      },
    });
    await foundation.start();
    expect(await db.execute(({ resource }) => resource.id)).toBe(1);
    await foundation.stop();
    expect(destroyed).toBe(1);
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 0, drained: true });
    // A call between stop and start is refused by the drained pool, with its catalog code.
    const between = await refusal(db.execute(({ resource }) => resource.id));
    expect(between).toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
      message: 'Pool "db" is drained',
    });

    await foundation.start();
    // The same policy handle, a new pool: a resource created anew from the same code.
    expect(await db.execute(({ resource }) => resource.id)).toBe(2);
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 1, idle: 1, drained: false });
    expect(foundation.protection.policy('db')).toBe(db);

    // Breaker changes are recorded as events again.
    foundation.protection.breaker('db').isolate();
    await expect
      .poll(async () => {
        const page = await foundation.events.query({ types: ['protection.*'] });
        return page.events.map((event) => [event.type, event.data]);
      })
      .toEqual([
        [
          'protection.breaker_isolated',
          expect.objectContaining({ policy: 'db', from: 'closed', to: 'isolated' }),
        ],
      ]);
    await foundation.stop();
    expect(destroyed).toBe(2);
  });
});

describeRedis('a foundation on a shared Redis rate-limit store, started again', () => {
  const prefix = redisTestPrefix();
  afterAll(() => dropRedisPrefix(prefix));

  it('reconnects the store, and the key state kept in Redis still counts', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            rateLimits: { store: 'redis', redisUrl: redisTestUrl(), keyPrefix: prefix },
            protection: { api: { rateLimit: { algorithm: 'fixed_window', limit: 2, windowMs: 60_000 } } },
          },
        },
      },
    });
    const key = `user-${randomBytes(4).toString('hex')}`;
    const api = foundation.protect('api');
    await foundation.start();
    expect(await api.execute(() => 1, { key })).toBe(1);
    await foundation.stop();
    await foundation.start();
    expect(await api.execute(() => 2, { key })).toBe(2);
    const third = await refusal(api.execute(() => 3, { key }));
    expect(third.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    const listed = await foundation.protection.rateLimiter('api').keys();
    expect(listed.map((entry) => [entry.key, entry.decision.remaining, entry.decision.limit])).toEqual([
      [key, 0, 2],
    ]);
  });
});
