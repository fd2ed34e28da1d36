import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import { CoarseTimer } from './coarse-timer.js';
import {
  policyConfigSchema,
  protectionConfigSchema,
  rateLimitsConfigSchema,
  type ProtectionSettings,
} from './policy-config.js';
import { ProtectionRegistry } from './protect.js';
import { NamedRateLimiters } from './rate-limit/named-limiters.js';
import type { RateLimitRule } from './rate-limit/types.js';
import { LAYER_ORDER } from './types.js';
import { refusal } from '../../test/helpers/refusal.js';

/** Lets queued promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

function setup(raw: unknown, rules: Record<string, RateLimitRule> = {}) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock);
  let settings: ProtectionSettings = protectionConfigSchema.parse(raw);
  let named = rules;
  const limiters = new NamedRateLimiters({ rules: () => named, clock, timer });
  const registry = new ProtectionRegistry({
    clock,
    timer,
    settings: () => settings,
    rateLimiter: (rule) => limiters.get(rule),
  });
  return {
    clock,
    registry,
    limiters,
    change: (next: unknown) => {
      settings = protectionConfigSchema.parse(next);
      return registry.reconfigure();
    },
    changeRules: (next: Record<string, RateLimitRule>) => {
      named = next;
      limiters.reconfigure();
    },
  };
}

const one = (): Promise<number> => Promise.resolve(1);

describe('protect(): the rateLimit layer', () => {
  it('sits inside retry and before the breaker; the pool is innermost', () => {
    expect(LAYER_ORDER.indexOf('retry')).toBeLessThan(LAYER_ORDER.indexOf('rateLimit'));
    expect(LAYER_ORDER.indexOf('rateLimit')).toBeLessThan(LAYER_ORDER.indexOf('breaker'));
    expect(LAYER_ORDER.at(-1)).toBe('pool');
    const { registry } = setup({
      api: { rateLimit: { limit: 1, windowMs: 1000 }, breaker: {}, retry: {}, timeout: {} },
    });
    expect(
      registry
        .policy('api')
        .status()
        .map((layer) => layer.kind),
    ).toEqual(['retry', 'rateLimit', 'breaker', 'timeout']);
  });

  it('admits the rule, then refuses with FND_PROTECT_LIMIT_EXCEEDED and the exact retryAfterMs, per key', async () => {
    const { registry, clock } = setup({ api: { rateLimit: { limit: 2, windowMs: 1000 } } });
    const api = registry.policy('api');
    expect(await api.execute(one)).toBe(1);
    expect(await api.execute(one)).toBe(1);
    const error = await refusal(api.execute(one));
    expect(error.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'api', retryAfterMs: 500 });
    // Another key has its own allowance; the function sees its key.
    expect(await api.execute(({ key }) => key, { key: 'tenant-b' })).toBe('tenant-b');
    clock.advance(500);
    expect(await api.execute(one)).toBe(1);
    expect(api.status()[0]).toMatchObject({ kind: 'rateLimit', shared: false, admitted: 4, refused: 1 });
  });

  it('a refused call never reaches the breaker nor the function', async () => {
    const { registry } = setup({
      api: { rateLimit: { limit: 1, windowMs: 60_000 }, breaker: { threshold: 1 } },
    });
    const api = registry.policy('api');
    let runs = 0;
    await api.execute(() => (runs += 1));
    for (let i = 0; i < 5; i += 1) {
      expect((await refusal(api.execute(() => (runs += 1)))).code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    }
    expect(runs).toBe(1);
    expect(registry.breaker('api').state()).toBe('closed');
  });

  it('a retry above waits the refusal retryAfterMs and succeeds on the next unit', async () => {
    const { registry, clock } = setup({
      api: {
        retry: { maxAttempts: 3, backoff: { kind: 'constant', delayMs: 1, maxMs: 5000 } },
        rateLimit: { limit: 1, windowMs: 1000 },
      },
    });
    const api = registry.policy('api');
    await api.execute(one);
    const attempts: number[] = [];
    const second = api.execute(({ attempt }) => {
      attempts.push(attempt);
      return 'second';
    });
    await flush();
    expect(attempts).toEqual([]);
    clock.advance(999);
    await flush();
    expect(attempts).toEqual([]);
    clock.advance(1);
    await flush();
    expect(await second).toBe('second');
    expect(attempts).toEqual([2]);
  });

  it('onLimit "wait" queues the call until a unit is free, and a cancelled wait takes nothing', async () => {
    const { registry, clock } = setup({
      api: { rateLimit: { limit: 1, windowMs: 1000, onLimit: 'wait', maxWaitMs: 5000 } },
    });
    const api = registry.policy('api');
    await api.execute(one);
    const order: string[] = [];
    const waited = api.execute(() => order.push('first waiter'));
    const controller = new AbortController();
    const cancelled = refusal(api.execute(() => order.push('cancelled'), { signal: controller.signal }));
    const third = api.execute(() => order.push('second waiter'));
    controller.abort();
    expect((await cancelled).code).toBe('FND_PROTECT_CANCELLED');
    clock.advance(1000);
    await flush();
    await waited;
    expect(order).toEqual(['first waiter']);
    clock.advance(1000);
    await flush();
    await third;
    expect(order).toEqual(['first waiter', 'second waiter']);
  });

  it('a named rule is one limiter shared by every policy naming it, and its changes apply in place', async () => {
    const { registry, changeRules, clock } = setup(
      { github: { rateLimit: { rule: 'api_calls' } }, gitlab: { rateLimit: { rule: 'api_calls' } } },
      { api_calls: { algorithm: 'fixed_window', limit: 2, windowMs: 60_000 } },
    );
    const key = { key: 'shared' };
    await registry.policy('github').execute(one, key);
    await registry.policy('gitlab').execute(one, key);
    const error = await refusal(registry.policy('github').execute(one, key));
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'github', rule: 'api_calls' });
    expect(registry.rateLimiter('gitlab')).toBe(registry.rateLimiter('github'));
    changeRules({ api_calls: { algorithm: 'fixed_window', limit: 3, windowMs: 60_000 } });
    expect(await registry.policy('gitlab').execute(one, key)).toBe(1);
    expect((await refusal(registry.policy('gitlab').execute(one, key))).code).toBe(
      'FND_PROTECT_LIMIT_EXCEEDED',
    );
    clock.advance(60_000);
    expect(await registry.policy('github').execute(one, key)).toBe(1);
  });

  it('feedback: hold(key) on the limiter refuses the key until the hold ends', async () => {
    const { registry, clock } = setup({ api: { rateLimit: { limit: 100, windowMs: 1000 } } });
    const api = registry.policy('api');
    await api.execute(one, { key: 'svc' });
    const limiter = registry.rateLimiter('api');
    expect(limiter.name).toBe('api');
    await (limiter as unknown as { hold(key: string, ms: number): Promise<void> }).hold('svc', 3000);
    const error = await refusal(api.execute(one, { key: 'svc' }));
    expect(error.context.retryAfterMs).toBe(3000);
    expect(await api.execute(one, { key: 'other' })).toBe(1);
    clock.advance(3000);
    expect(await api.execute(one, { key: 'svc' })).toBe(1);
  });

  it('a reconfigured own rule keeps the keys state; a removed layer stops limiting new calls', async () => {
    const window = { algorithm: 'fixed_window', windowMs: 60_000 };
    const { registry, change } = setup({ api: { rateLimit: { ...window, limit: 2 } } });
    const api = registry.policy('api');
    await api.execute(one);
    await api.execute(one);
    expect(change({ api: { rateLimit: { ...window, limit: 3 } } }).reconfigured).toEqual(['api']);
    expect(await api.execute(one)).toBe(1);
    expect((await refusal(api.execute(one))).code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    change({ api: {} });
    expect(await api.execute(one)).toBe(1);
    expect(api.status()).toEqual([]);
  });

  it('refuses garbage: a bad key per call, unknown rules, rule plus own rule — nothing consumed', async () => {
    const { registry, limiters } = setup(
      { api: { rateLimit: { limit: 1, windowMs: 1000 } }, other: { rateLimit: { rule: 'nope' } } },
      { api_calls: { algorithm: 'token_bucket', limit: 1, windowMs: 1000 } },
    );
    const api = registry.policy('api');
    for (const key of ['', 'x'.repeat(513), 'a\u0000b']) {
      expect((await refusal(api.execute(one, { key }))).code).toBe('FND_PROTECT_INVALID_POLICY');
    }
    expect((await registry.rateLimiter('api').status('api')).remaining).toBe(1);
    expect(await api.execute(one)).toBe(1);
    expect(() => registry.policy('other')).toThrow(/No rate-limit rule "nope".*api_calls/);
    expect(limiters.names()).toEqual(['api_calls']);
    const parsed = policyConfigSchema.safeParse({
      rateLimit: { rule: 'api_calls', limit: 3, windowMs: 1000 },
    });
    expect(parsed.success).toBe(false);
    for (const bad of [
      { rateLimit: {} },
      { rateLimit: { limit: 1 } },
      { rateLimit: { limit: 1, windowMs: 1.5 } },
      { rateLimit: { limit: 1, windowMs: 1000, maxWaitMs: 10 } },
      { rateLimit: { limit: 1, windowMs: 1000, algorithm: 'leaky' } },
      { rateLimit: { limit: 1, windowMs: 1000, algorithm: 'fixed_window', burst: 2 } },
      { pool: { max: 1, min: 2 } },
      { pool: { max: 0 } },
      { pool: { max: 1, size: 3 } },
    ]) {
      expect(policyConfigSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('the foundation.rateLimits section: the seed rules by default, redis needs a URL', () => {
    const defaults = rateLimitsConfigSchema.parse(undefined);
    expect(defaults.store).toBe('memory');
    expect(defaults.rules).toEqual({
      api_calls: { algorithm: 'token_bucket', limit: 100, windowMs: 60_000 },
      db_queries: { algorithm: 'token_bucket', limit: 500, windowMs: 60_000 },
      file_operations: { algorithm: 'token_bucket', limit: 10, windowMs: 1000 },
    });
    expect(rateLimitsConfigSchema.safeParse({ store: 'redis' }).success).toBe(false);
    expect(rateLimitsConfigSchema.safeParse({ store: 'redis', redisUrl: 'http://x' }).success).toBe(false);
    expect(rateLimitsConfigSchema.safeParse({ rules: { Bad: { limit: 1, windowMs: 1 } } }).success).toBe(
      false,
    );
  });

  it('never admits more than the limit per window, whatever the call pattern (property, fake clock)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), key: fc.constantFrom('a', 'b') }), {
          maxLength: 60,
        }),
        async (limit, calls) => {
          const { registry, clock } = setup({
            p: { rateLimit: { algorithm: 'fixed_window', limit, windowMs: 1000 } },
          });
          const policy = registry.policy('p');
          const admitted = new Map<string, number>();
          for (const { gap, key } of calls) {
            clock.advance(gap);
            const window = `${key}@${String(Math.floor(clock.now() / 1000))}`;
            try {
              await policy.execute(one, { key });
              admitted.set(window, (admitted.get(window) ?? 0) + 1);
            } catch (error) {
              expect((error as FoundationError).code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
            }
          }
          for (const count of admitted.values()) expect(count).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('protect(): the pool layer', () => {
  function pooled(raw: unknown) {
    const context = setup(raw);
    let created = 0;
    const destroyed: number[] = [];
    const resource = {
      create: () => {
        created += 1;
        return created;
      },
      destroy: (r: number) => {
        destroyed.push(r);
      },
      broken: (error: unknown) => error instanceof Error && error.message === 'broken',
    };
    return { ...context, resource, destroyed, created: () => created };
  }

  it('lends a resource to each attempt (attempt.resource) and takes it back when the function settles', async () => {
    const { registry, resource } = pooled({ db: { pool: { max: 2 } } });
    const db = registry.policy<number>('db', { pool: resource });
    expect(await db.execute(({ resource: r }) => r * 10)).toBe(10);
    // Idle resource 1 is lent again.
    expect(await db.execute(({ resource: r }) => r)).toBe(1);
    const both = await Promise.all([db.execute(({ resource: r }) => r), db.execute(({ resource: r }) => r)]);
    expect(both.sort()).toEqual([1, 2]);
    expect(registry.pool('db').status()).toMatchObject({ size: 2, idle: 2, inUse: 0 });
    expect(db.status()).toEqual([expect.objectContaining({ kind: 'pool', size: 2, idle: 2, max: 2 })]);
  });

  it('destroys a resource whose error says it is broken, gives others back', async () => {
    const { registry, resource, destroyed } = pooled({ db: { pool: { max: 1 } } });
    const db = registry.policy<number>('db', { pool: resource });
    await expect(
      db.execute(() => {
        throw new Error('query failed');
      }),
    ).rejects.toThrow('query failed');
    expect(destroyed).toEqual([]);
    await expect(
      db.execute(() => {
        throw new Error('broken');
      }),
    ).rejects.toThrow('broken');
    expect(destroyed).toEqual([1]);
    expect(await db.execute(({ resource: r }) => r)).toBe(2);
  });

  it('the attempt timeout ends the wait for a resource; the waiter does not keep a place', async () => {
    const { registry, resource, clock } = pooled({ db: { timeout: { ms: 100 }, pool: { max: 1 } } });
    const db = registry.policy<number>('db', { pool: resource });
    let release: () => void = () => undefined;
    // The holder's function ignores its signal: it keeps the resource after its own timeout.
    const holder = refusal(db.execute(() => new Promise<void>((resolve) => (release = resolve))));
    await flush();
    clock.advance(50);
    const waiting = refusal(db.execute(() => 'late'));
    await flush();
    expect(registry.pool('db').status()).toMatchObject({ inUse: 1, waiting: 1 });
    clock.advance(50);
    expect((await holder).code).toBe('FND_PROTECT_TIMEOUT');
    clock.advance(50);
    const timedOut = await waiting;
    expect(timedOut.code).toBe('FND_PROTECT_TIMEOUT');
    expect(timedOut.context.layer).toBe('timeout');
    await flush();
    expect(registry.pool('db').status()).toMatchObject({ inUse: 1, waiting: 0 });
    release();
    await flush();
    expect(registry.pool('db').status()).toMatchObject({ inUse: 0, idle: 1, waiting: 0 });
  });

  it('a pool entry without a resource in code is refused; sizes are validated without one', () => {
    const { registry } = pooled({ db: { pool: { max: 2 } } });
    expect(() => registry.policy('db')).toThrow(/give its resource in code/);
    expect(() => {
      registry.validate(protectionConfigSchema.parse({ db: { pool: { max: 3 } } }));
    }).not.toThrow();
    expect(() => {
      registry.validate({ db: { pool: { max: 0 } } } as unknown as ProtectionSettings);
    }).toThrow(/pool.max/);
  });

  it('new sizes build a new pool for new calls and drain the old one; close drains everything', async () => {
    const { registry, resource, destroyed, change } = pooled({ db: { pool: { max: 1 } } });
    const db = registry.policy<number>('db', { pool: resource });
    expect(await db.execute(({ resource: r }) => r)).toBe(1);
    change({ db: { pool: { max: 3 } } });
    await flush();
    expect(destroyed).toEqual([1]);
    expect(registry.pool('db').status()).toMatchObject({ max: 3, size: 0 });
    expect(await db.execute(({ resource: r }) => r)).toBe(2);
    await registry.close();
    expect(destroyed).toEqual([1, 2]);
  });

  it('reopen after close: a new pool of the same options; a live pool is left as it is', async () => {
    const { registry, resource, destroyed } = pooled({ db: { pool: { max: 2 } } });
    const db = registry.policy<number>('db', { pool: resource });
    expect(await db.execute(({ resource: r }) => r)).toBe(1);
    const live = registry.pool('db');
    registry.reopen();
    expect(registry.pool('db')).toBe(live);
    await registry.close();
    expect(destroyed).toEqual([1]);
    await expect(db.execute(({ resource: r }) => r)).rejects.toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
    });
    registry.reopen();
    expect(registry.pool('db')).not.toBe(live);
    expect(registry.pool('db').status()).toMatchObject({ max: 2, size: 0, drained: false });
    expect(await db.execute(({ resource: r }) => r)).toBe(2);
    await registry.close();
    expect(destroyed).toEqual([1, 2]);
  });
});
