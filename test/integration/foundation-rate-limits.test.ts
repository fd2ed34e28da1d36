/**
 * Rate limits and pools in a real foundation: the named rules of `foundation.rateLimits` (the seed's
 * defaults), policies using them, hot reload of rules (and a veto of a policy naming a missing rule, config
 * unchanged), limiter state shared by two foundations through real Redis and through real PostgreSQL (the
 * foundation's own storage), and a pool of real PostgreSQL connections through `protect()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, type Foundation } from '../../src/index.js';
import { createTestSchema, describePg, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import { describeRedis, dropRedisPrefix, redisTestPrefix, redisTestUrl } from '../helpers/redis.js';
import { refusal } from '../helpers/refusal.js';

const one = (): number => 1;

describe('foundation.rateLimits', () => {
  it('has the seed default rules, and policies naming them share one limiter', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            protection: {
              github: { rateLimit: { rule: 'file_operations' } },
              gitlab: { rateLimit: { rule: 'file_operations' } },
            },
          },
        },
      },
    });
    await foundation.start();
    expect(foundation.rateLimits.names()).toEqual(['api_calls', 'db_queries', 'file_operations']);
    expect(foundation.rateLimits.get('api_calls').rule).toEqual({
      algorithm: 'token_bucket',
      limit: 100,
      windowMs: 60_000,
    });
    // file_operations: 10 per second, one bucket for both policies and key.
    for (let i = 0; i < 5; i += 1) await foundation.protect('github').execute(one, { key: 'disk' });
    for (let i = 0; i < 5; i += 1) await foundation.protect('gitlab').execute(one, { key: 'disk' });
    const error = await refusal(foundation.protect('github').execute(one, { key: 'disk' }));
    expect(error.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'github', rule: 'file_operations' });
    // One unit back every 100 ms (a few ms may have passed since the first call).
    expect(error.context.retryAfterMs).toBeGreaterThan(50);
    expect(error.context.retryAfterMs).toBeLessThanOrEqual(100);
  });

  it('applies a rule change at once, and vetoes a policy naming a missing rule (config unchanged)', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            rateLimits: { rules: { api_calls: { algorithm: 'fixed_window', limit: 1, windowMs: 60_000 } } },
            protection: { api: { rateLimit: { rule: 'api_calls' } } },
          },
        },
      },
    });
    await foundation.start();
    const api = foundation.protect('api');
    await api.execute(one);
    expect((await refusal(api.execute(one))).code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    await foundation.config.update('foundation.rateLimits.rules.api_calls.limit', 2);
    expect(await api.execute(one)).toBe(1);

    const before = foundation.config.version;
    const vetoed = await refusal(
      foundation.config.update('foundation.protection.other', { rateLimit: { rule: 'missing' } }),
    );
    expect(vetoed.code).toBe('FND_CONFIG_UPDATE_VETOED');
    expect(vetoed.message).toMatch(/No rate-limit rule "missing"/);
    const renamed = await refusal(
      foundation.config.update('foundation.protection.api.rateLimit.rule', 'nope'),
    );
    expect(renamed.code).toBe('FND_CONFIG_UPDATE_VETOED');
    expect(foundation.config.version).toBe(before);
    expect(foundation.config.get('foundation.rateLimits.rules.api_calls.limit')).toBe(2);
    expect(foundation.protection.names()).toEqual(['api']);

    // A batch adding a rule and its first user is one consistent change.
    await foundation.config.updateBatch([
      { path: 'foundation.rateLimits.rules.uploads', value: { limit: 1, windowMs: 1000 } },
      { path: 'foundation.protection.uploads', value: { rateLimit: { rule: 'uploads' } } },
    ]);
    expect(await foundation.protect('uploads').execute(one)).toBe(1);
    expect((await refusal(foundation.protect('uploads').execute(one))).context.rule).toBe('uploads');
  });

  it('refuses a bad rateLimits section at creation with a catalog code', () => {
    expect(() =>
      createFoundation({
        store: 'memory:',
        config: { arguments: { foundation: { rateLimits: { store: 'redis' } } } },
      }),
    ).toThrow(expect.objectContaining({ code: 'FND_CONFIG_INVALID_VALUE' }) as Error);
  });
});

/** Two foundations sharing limiter state; `key` is fresh per test so runs never meet. */
async function sharedLimit(a: Foundation, b: Foundation): Promise<void> {
  const key = `user-${randomBytes(4).toString('hex')}`;
  await a.start();
  await b.start();
  await a.protect('api').execute(one, { key });
  await b.protect('api').execute(one, { key });
  await a.protect('api').execute(one, { key });
  for (const foundation of [a, b]) {
    const error = await refusal(foundation.protect('api').execute(one, { key }));
    expect(error.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
  }
  // A hold from one node (a dependency said retry-after) is seen by the other.
  const other = `${key}-held`;
  await a.protection.rateLimiter('api').hold(other, 30_000);
  const held = await refusal(b.protect('api').execute(one, { key: other }));
  expect(held.context.retryAfterMs).toBeGreaterThan(29_000);
  // And the operator's reset on one node gives the key back on both.
  await b.protection.rateLimiter('api').reset(key);
  expect(await a.protect('api').execute(one, { key })).toBe(1);
}

const SHARED_RULE = { api: { rateLimit: { algorithm: 'fixed_window', limit: 3, windowMs: 60_000 } } };

describeRedis('foundation.rateLimits on Redis', () => {
  const prefix = redisTestPrefix();
  afterAll(() => dropRedisPrefix(prefix));

  it('two foundations share the limit of a key through one Redis', async () => {
    const make = () =>
      createFoundation({
        store: 'memory:',
        config: {
          arguments: {
            foundation: {
              rateLimits: { store: 'redis', redisUrl: redisTestUrl(), keyPrefix: prefix },
              protection: SHARED_RULE,
            },
          },
        },
      });
    await using a = make();
    await using b = make();
    await sharedLimit(a, b);
    expect(a.config.redacted()).toMatchObject({ foundation: { rateLimits: { redisUrl: '[redacted]' } } });
  });
});

describePg('foundation.rateLimits and pools on PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(() => schema.drop());

  it('two foundations on one PostgreSQL store share the limit of a key (store: storage)', async () => {
    const make = () =>
      createFoundation({
        store: schema.url,
        dataDir: `/tmp/fnd-rl-${randomBytes(4).toString('hex')}`,
        config: {
          arguments: { foundation: { rateLimits: { store: 'storage' }, protection: SHARED_RULE } },
        },
      });
    await using a = make();
    await using b = make();
    await sharedLimit(a, b);
    expect(a.rateLimits.storeKind).toBe('postgres');
  });

  it('a pool of real connections: each attempt gets a live client, broken ones are replaced', async () => {
    let created = 0;
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: { protection: { db: { timeout: { ms: 10_000 }, pool: { max: 2 } } } },
        },
      },
    });
    await foundation.start();
    const db = foundation.protect<pg.Client>('db', {
      pool: {
        create: async () => {
          const client = new pg.Client({ connectionString: pgTestUrl() });
          client.on('error', () => undefined);
          await client.connect();
          created += 1;
          return client;
        },
        destroy: (client) => client.end(),
        validate: async (client) => (await client.query('SELECT 1 AS ok')).rows.length === 1,
        broken: (error) => (error as { code?: string }).code === '57P01',
      },
    });
    const pid = async (client: pg.Client): Promise<number> =>
      (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? -1;
    const pids = await Promise.all([1, 2, 3, 4].map(() => db.execute(({ resource }) => pid(resource))));
    expect(new Set(pids).size).toBeLessThanOrEqual(2);
    // Four waiters on an empty pool of 2 start two creations; the four calls may all finish on the first
    // connection while the second is still connecting, so wait for the pool to settle before counting.
    await expect
      .poll(() => foundation.protection.pool('db').status())
      .toMatchObject({ size: 2, idle: 2, creating: 0 });
    expect(created).toBe(2);
    // The server ends one backend while it is lent: its error destroys it, the next attempt gets a new one.
    const killed = await db
      .execute(async ({ resource }) => {
        await resource.query('SELECT pg_terminate_backend(pg_backend_pid())');
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect((killed as { code?: string }).code).toBe('57P01');
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 1, idle: 1 });
    // Two attempts holding a client at the same time need two: the broken one was replaced.
    let started = 0;
    let bothStarted: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (bothStarted = resolve));
    const after = await Promise.all(
      [1, 2].map(() =>
        db.execute(async ({ resource }) => {
          started += 1;
          if (started === 2) bothStarted();
          await barrier;
          return pid(resource);
        }),
      ),
    );
    expect(after.every((value) => value > 0)).toBe(true);
    expect(new Set(after).size).toBe(2);
    expect(created).toBe(3);
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 2, inUse: 0 });
    await foundation.stop();
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 0, drained: true });
  });
});
