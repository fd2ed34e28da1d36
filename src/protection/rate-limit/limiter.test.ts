import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { RateLimiter } from './limiter.js';
import { MemoryRateLimitStore } from './memory-store.js';
import type { RateLimitDecision, RateLimitRule } from './types.js';

const perSecond = (limit: number): RateLimitRule => ({ algorithm: 'token_bucket', limit, windowMs: 1000 });

async function refusal(promise: Promise<unknown>): Promise<FoundationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function setup(rule: RateLimitRule, extra: { maxQueue?: number; store?: MemoryRateLimitStore } = {}) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock);
  const limiter = new RateLimiter({ name: 'api', rule, clock, timer, ...extra });
  return { clock, timer, limiter };
}

describe('RateLimiter', () => {
  it('consume admits, then refuses with FND_PROTECT_LIMIT_EXCEEDED naming layer, policy, key and retryAfterMs', async () => {
    const { limiter, clock } = setup(perSecond(2));
    expect((await limiter.consume('u1')).remaining).toBe(1);
    expect((await limiter.consume('u1')).remaining).toBe(0);
    const error = await refusal(limiter.consume('u1'));
    expect(error.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    expect(error.context).toMatchObject({ layer: 'rate_limit', policy: 'api', key: 'u1', retryAfterMs: 500 });
    expect((await limiter.consume('u2', 2)).allowed).toBe(true);
    clock.advance(500);
    expect((await limiter.consume('u1')).allowed).toBe(true);
    expect((await refusal(limiter.consume('u1', 3))).code).toBe('FND_PROTECT_INVALID_POLICY');
  });

  it('check consumes nothing and gives the exact wait for n; status and reset', async () => {
    const { limiter } = setup(perSecond(4));
    await limiter.consume('k', 3);
    expect(await limiter.check('k', 2)).toMatchObject({ allowed: false, remaining: 1, retryAfterMs: 250 });
    expect(await limiter.check('k', 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.status('k')).remaining).toBe(1);
    await limiter.reset('k');
    expect((await limiter.status('k')).remaining).toBe(4);
  });

  it('prefixes keys with the policy name on a store passed in, and answers through its promise port', async () => {
    const store = new MemoryRateLimitStore({ clock: new FakeClock() });
    const { limiter } = setup(perSecond(1), { store });
    await limiter.consume('k');
    expect(store.statusSync('api:k', perSecond(1)).remaining).toBe(0);
    expect(store.statusSync('k', perSecond(1)).remaining).toBe(1);
    expect(await limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    const error = await refusal(limiter.consume('k'));
    expect(error.context).toMatchObject({ layer: 'rate_limit', key: 'k', retryAfterMs: 1000 });
  });

  it('configure swaps the rule (hot reload); a bad rule is refused and the old one stays', async () => {
    const { limiter, clock } = setup(perSecond(2));
    await limiter.consume('k', 2);
    limiter.configure(perSecond(5)); // same algorithm and window: the units taken still count
    expect((await limiter.check('k', 3)).retryAfterMs).toBe(600);
    clock.advance(600);
    expect((await limiter.consume('k', 3)).allowed).toBe(true);
    expect(() => {
      limiter.configure({ algorithm: 'token_bucket', limit: 0, windowMs: 1000 });
    }).toThrow(expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }) as Error);
    expect(limiter.rule.limit).toBe(5);
    expect(() => new RateLimiter({ name: 'x', rule: { algorithm: 'gcra', limit: 1, windowMs: 0 } })).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }) as Error,
    );
  });

  it('wait serves the key FIFO as units come back, with no timer left afterwards', async () => {
    const { limiter, clock, timer } = setup(perSecond(10)); // one unit per 100 ms
    await limiter.consume('k', 10);
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) =>
      limiter.wait('k', 1, { maxWaitMs: 1000 }).then((d: RateLimitDecision) => {
        order.push(i);
        return d;
      }),
    );
    await clock.advanceAsync(0);
    expect(limiter.waiting('k')).toBe(3);
    await clock.advanceAsync(95);
    expect(order).toEqual([]);
    await clock.advanceAsync(20); // 115 ms: one unit (timer resolution 10 ms)
    expect(order).toEqual([1]);
    await clock.advanceAsync(200);
    expect(order).toEqual([1, 2, 3]);
    await Promise.all(waits);
    expect(limiter.waiting('k')).toBe(0);
    expect(timer.pending).toBe(0);
    await clock.advanceAsync(2000); // the coarse timer's last (now empty) tick
    expect(clock.pending()).toBe(0);
  });

  it('wait refuses at once when the wait is known to exceed maxWaitMs, and when the queue is full', async () => {
    const { limiter, clock } = setup(perSecond(1), { maxQueue: 1 });
    await limiter.consume('k');
    const tooLong = await refusal(limiter.wait('k', 1, { maxWaitMs: 999 }));
    expect(tooLong.context).toMatchObject({ reason: 'max_wait', retryAfterMs: 1000 });
    const queued = limiter.wait('k', 1, { maxWaitMs: 5000 });
    await clock.advanceAsync(0);
    const full = await refusal(limiter.wait('k', 1, { maxWaitMs: 5000 }));
    expect(full.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    expect(full.context).toMatchObject({ reason: 'queue_full', layer: 'rate_limit' });
    await clock.advanceAsync(1010);
    expect((await queued).allowed).toBe(true);
    expect((await limiter.wait('other')).allowed).toBe(true);
  });

  it('a queued wait gives up at its maxWaitMs, consuming nothing', async () => {
    const { limiter, clock, timer } = setup(perSecond(1));
    await limiter.consume('k');
    const head = limiter.wait('k', 1, { maxWaitMs: 2000 });
    const second = limiter.wait('k', 1, { maxWaitMs: 1500 }); // behind the head: its turn comes at 2000 ms
    const secondRefused = refusal(second);
    await clock.advanceAsync(1010);
    expect((await head).allowed).toBe(true);
    await clock.advanceAsync(600);
    const error = await secondRefused;
    expect(error.context).toMatchObject({ reason: 'max_wait', key: 'k' });
    expect((await limiter.status('k')).remaining).toBe(0);
    await clock.advanceAsync(1000);
    expect((await limiter.status('k')).remaining).toBe(1);
    expect(timer.pending).toBe(0);
  });

  it('an aborted wait rejects with FND_PROTECT_CANCELLED, leaves the queue and the next waiter is served', async () => {
    const { limiter, clock, timer } = setup(perSecond(1));
    await limiter.consume('k');
    const controller = new AbortController();
    const first = refusal(limiter.wait('k', 1, { maxWaitMs: 5000, signal: controller.signal }));
    const second = limiter.wait('k', 1, { maxWaitMs: 5000 });
    await clock.advanceAsync(100);
    controller.abort();
    const error = await first;
    expect(error.code).toBe('FND_PROTECT_CANCELLED');
    expect(error.context).toMatchObject({ layer: 'rate_limit', policy: 'api', key: 'k' });
    expect(limiter.waiting('k')).toBe(1);
    await clock.advanceAsync(910);
    expect((await second).allowed).toBe(true);
    expect(timer.pending).toBe(0);
    const aborted = new AbortController();
    aborted.abort();
    expect((await refusal(limiter.wait('k', 1, { signal: aborted.signal }))).code).toBe(
      'FND_PROTECT_CANCELLED',
    );
  });

  it('reset serves waiters at once; close cancels the remaining ones', async () => {
    const { limiter, clock, timer } = setup(perSecond(1));
    await limiter.consume('k');
    const a = limiter.wait('k', 1, { maxWaitMs: 5000 });
    const b = refusal(limiter.wait('k', 1, { maxWaitMs: 5000 }));
    await clock.advanceAsync(0);
    await limiter.reset('k');
    expect((await a).allowed).toBe(true);
    await limiter.close();
    expect((await b).code).toBe('FND_PROTECT_CANCELLED');
    expect(timer.pending).toBe(0);
  });

  it('wait validates maxWaitMs', async () => {
    const { limiter } = setup(perSecond(1));
    expect((await refusal(limiter.wait('k', 1, { maxWaitMs: -1 }))).code).toBe('FND_PROTECT_INVALID_POLICY');
  });
});
