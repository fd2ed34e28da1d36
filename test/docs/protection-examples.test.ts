/**
 * The examples of docs/protection.md, run as written (a local function instead of `fetch`, a memory store):
 * when one of them stops working, this fails.
 */
import { describe, expect, it } from 'vitest';
import { createFoundation } from '../../src/index.js';
import { isRejection } from '../../src/protection/index.js';

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
});
