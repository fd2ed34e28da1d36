/**
 * The examples of docs/protection.md, run as written (a local function instead of `fetch`, a memory store):
 * when one of them stops working, this fails.
 */
import { describe, expect, it } from 'vitest';
import { createFoundation } from '../../src/index.js';
import { isRejection, parseRetryAfter } from '../../src/protection/index.js';

describe('docs/protection.md examples', () => {
  it('protects a call from config, reads the attempt, maps an open breaker to retry-after, overrides, lists', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            protection: {
              payments: {
                deadline: { ms: 5000 },
                retry: { maxAttempts: 3, backoff: { kind: 'exponential', initialMs: 1, maxMs: 2 } },
                breaker: { policy: 'consecutive', threshold: 5, openMs: 30_000 },
                timeout: { ms: 1000 },
              },
              search: { timeout: { ms: 1000 } },
            },
          },
        },
      },
    });
    await foundation.start();

    const payments = foundation.protect('payments');
    const seen: number[] = [];
    const receipt = await payments.execute(({ attempt, signal, deadline }) => {
      seen.push(attempt);
      expect(signal.aborted).toBe(false);
      expect(deadline).toBeGreaterThan(Date.now());
      if (attempt < 2) throw new Error('psp hiccup');
      return Promise.resolve({ id: 'r-1' });
    });
    expect(receipt).toEqual({ id: 'r-1' });
    expect(seen).toEqual([1, 2]);

    foundation.protection.breaker('payments').isolate(); // an operator holds it open
    let retryAfter: string | undefined;
    try {
      await foundation.protect('payments').execute(() => 'charged');
    } catch (error) {
      if (isRejection(error) && error.code === 'FND_PROTECT_CIRCUIT_OPEN') retryAfter = 'isolated';
      else throw error;
    }
    expect(retryAfter).toBe('isolated');
    foundation.protection.breaker('payments').reset();
    expect(await payments.execute(() => 'charged')).toBe('charged');

    const search = foundation.protect('search', {
      fallback: { value: { hits: [], degraded: true } },
      failures: { result: (page) => (page as { status: number }).status >= 500 },
    });
    expect(await search.execute(() => Promise.reject(new Error('index down')))).toEqual({
      hits: [],
      degraded: true,
    });
    const status = foundation.protection.list();
    expect(status.map((policy) => policy.name)).toEqual(['payments', 'search']);

    await foundation.config.update('foundation.protection.payments.breaker.threshold', 10);
    expect(foundation.protection.list()[0]?.layers.find((layer) => layer.kind === 'breaker')).toMatchObject({
      kind: 'breaker',
    });
    // An unknown name is refused at once, naming the configured ones.
    expect(() => foundation.protect('orders')).toThrow(/configured: payments, search/);
  });

  it('rate limits and pools in policies: 429 feedback holds the shared key; a pool lends resource clients', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            protection: {
              github: { rateLimit: { rule: 'api_calls' } },
              db: { timeout: { ms: 2000 }, retry: {}, pool: { max: 5, maxOverflow: 2 } },
            },
          },
        },
      },
    });
    await foundation.start();
    // A local stand-in for fetch: the first answer is a 429 with Retry-After: 120.
    const asked: string[] = [];
    const fetch = (url: string) => {
      asked.push(url);
      const answers = asked.length;
      return Promise.resolve({
        status: answers === 1 ? 429 : 200,
        headers: new Map([['retry-after', '120']]),
        json: () => Promise.resolve({ name }),
      });
    };
    const name = 'foundation';

    const github = foundation.protect('github'); // foundation.protection.github: { rateLimit: { rule: 'api_calls' } }
    const repo = await github.execute(
      async ({ key }) => {
        const response = await fetch(`https://api.github.com/repos/${name}`);
        const wait =
          response.status === 429
            ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
            : undefined;
        if (wait !== undefined) await foundation.protection.rateLimiter('github').hold(key ?? 'github', wait);
        return response.json();
      },
      { key: 'github' },
    );
    expect(repo).toEqual({ name: 'foundation' });
    expect(asked).toEqual(['https://api.github.com/repos/foundation']);
    const held = await github.execute(() => 'never', { key: 'github' }).catch((error: unknown) => error);
    expect(held).toMatchObject({ code: 'FND_PROTECT_LIMIT_EXCEEDED', context: { rule: 'api_calls' } });
    expect((held as { context: { retryAfterMs: number } }).context.retryAfterMs).toBeGreaterThan(119_000);

    // The pool example with a stand-in client (the real one is pg.Client; see the integration tests).
    interface Client {
      query(sql: string): Promise<{ rowCount: number; rows: Array<{ now: number }> }>;
      end(): Promise<void>;
    }
    const db = foundation.protect<Client>('db', {
      pool: {
        create: () => ({
          query: () => Promise.resolve({ rowCount: 1, rows: [{ now: 1 }] }),
          end: () => Promise.resolve(),
        }),
        destroy: (client) => client.end(),
        validate: async (client) => (await client.query('SELECT 1')).rowCount === 1, // on borrow
        broken: (error) => (error as { code?: string }).code === '57P01', // destroyed, not given back
      },
    });
    const rows = await db.execute(async ({ resource }) => (await resource.query('SELECT now()')).rows);
    expect(rows).toEqual([{ now: 1 }]);
    expect(foundation.protection.pool('db').status()).toMatchObject({ size: 1, idle: 1, inUse: 0, max: 5 });
  });
});
