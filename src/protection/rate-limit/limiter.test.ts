import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { RateLimiter } from './limiter.js';
import { MemoryRateLimitStore } from './memory-store.js';
import type { RateLimitDecision, RateLimitRule } from './types.js';
import { refusal } from '../../../test/helpers/refusal.js';

const perSecond = (limit: number): RateLimitRule => ({ algorithm: 'token_bucket', limit, windowMs: 1000 });

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
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'api', key: 'u1', retryAfterMs: 500 });
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
    expect(error.context).toMatchObject({ layer: 'rateLimit', key: 'k', retryAfterMs: 1000 });
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
    expect(full.context).toMatchObject({ reason: 'queue_full', layer: 'rateLimit' });
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
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'api', key: 'k' });
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

  it('hold refuses every decision on the key until it ends, then admits as before; reset clears it', async () => {
    const { limiter, clock } = setup(perSecond(4));
    await limiter.consume('k', 1);
    await limiter.hold('k', 2000);
    const error = await refusal(limiter.consume('k'));
    expect(error.code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
    expect(error.context).toMatchObject({ layer: 'rateLimit', policy: 'api', key: 'k', retryAfterMs: 2000 });
    expect(await limiter.check('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 2000 });
    expect(await limiter.status('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 2000 });
    expect((await limiter.consume('other', 4)).remaining).toBe(0);
    await limiter.hold('k', 500); // a shorter hold never shortens the longer one
    clock.advance(1500);
    expect((await refusal(limiter.consume('k'))).context).toMatchObject({ retryAfterMs: 500 });
    clock.advance(500);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 3 }); // refilled meanwhile
    await limiter.hold('k', 60_000);
    await limiter.reset('k');
    expect(await limiter.consume('k', 4)).toMatchObject({ allowed: true, remaining: 0 });
    const bad = await refusal(limiter.hold('k', 0));
    expect(bad.code).toBe('FND_PROTECT_INVALID_POLICY');
    expect(bad.context).toMatchObject({ option: 'ms' });
    expect((await refusal(limiter.hold('k', 86_400_001))).code).toBe('FND_PROTECT_INVALID_POLICY');
    expect((await limiter.status('k')).remaining).toBe(0);
    clock.advance(250);
    expect(await limiter.status('k')).toMatchObject({ allowed: true, remaining: 1, retryAfterMs: 0 });
  });

  it('hold and keys prefix the policy name on a store passed in', async () => {
    const clock = new FakeClock();
    const store = new MemoryRateLimitStore({ clock });
    const api = new RateLimiter({ name: 'api', rule: perSecond(2), clock, store });
    const web = new RateLimiter({ name: 'web', rule: perSecond(2), clock, store });
    await api.hold('k', 1000);
    expect(store.statusSync('api:k', perSecond(2))).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    expect(store.statusSync('k', perSecond(2)).allowed).toBe(true);
    await api.consume('b');
    await web.consume('a', 2);
    expect(await api.keys()).toEqual([
      { key: 'b', decision: { allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 500, limit: 2 } },
      { key: 'k', decision: { allowed: false, remaining: 0, retryAfterMs: 1000, resetMs: 1000, limit: 2 } },
    ]);
    expect(await web.keys()).toEqual([
      { key: 'a', decision: { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1000, limit: 2 } },
    ]);
    expect((await api.keys(1)).map((e) => e.key)).toEqual(['b']);
    expect(await store.keys(10)).toEqual(['api:b', 'api:k', 'web:a']);
    clock.advance(1000);
    expect(await api.keys()).toEqual([]);
    expect((await refusal(api.keys(0))).code).toBe('FND_PROTECT_INVALID_POLICY');
  });

  it('keys lists the private store keys with their status, at most limit (default 100)', async () => {
    const { limiter } = setup(perSecond(2));
    for (let i = 0; i < 120; i++) await limiter.consume(`u${String(i).padStart(3, '0')}`);
    const listed = await limiter.keys();
    expect(listed).toHaveLength(100);
    expect(listed[0]).toEqual({
      key: 'u000',
      decision: { allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 500, limit: 2 },
    });
    expect(listed.map((e) => e.key)).toEqual(
      Array.from({ length: 100 }, (_, i) => `u${String(i).padStart(3, '0')}`),
    );
    expect(await limiter.keys(1000)).toHaveLength(120);
  });

  it('a wait on a held key sleeps until the hold ends, then is served', async () => {
    const { limiter, clock, timer } = setup(perSecond(1));
    await limiter.hold('k', 3000);
    let served: RateLimitDecision | undefined;
    const waiting = limiter.wait('k', 1, { maxWaitMs: 5000 }).then((d) => (served = d));
    await clock.advanceAsync(2990);
    expect(served).toBeUndefined();
    expect(limiter.waiting('k')).toBe(1);
    await clock.advanceAsync(20); // 3010 ms: past the hold (timer resolution 10 ms)
    await waiting;
    expect(served).toMatchObject({ allowed: true, remaining: 0 });
    // A hold longer than the wait allowed: refused at once, nothing consumed.
    await limiter.hold('j', 2000);
    const tooLong = await refusal(limiter.wait('j', 1, { maxWaitMs: 1000 }));
    expect(tooLong.context).toMatchObject({ reason: 'max_wait', retryAfterMs: 2000 });
    await clock.advanceAsync(2000);
    expect(await limiter.status('j')).toMatchObject({ allowed: true, remaining: 1 });
    expect(timer.pending).toBe(0);
  });

  it('a hold while waiters sleep for units re-checks the head at once: it is refused when it cannot wait that long, the next sleeps until the hold ends', async () => {
    const { limiter, clock, timer } = setup(perSecond(2)); // one unit per 500 ms
    await limiter.consume('k', 2);
    const order: string[] = [];
    const hasty = refusal(limiter.wait('k', 1, { maxWaitMs: 1500 }));
    const patient = limiter.wait('k', 1, { maxWaitMs: 5000 }).then(() => order.push('patient'));
    await clock.advanceAsync(100);
    expect(limiter.waiting('k')).toBe(2);
    await limiter.hold('k', 2000); // until 2100 ms: past the head's 1500 ms
    const error = await hasty;
    expect(error.context).toMatchObject({ reason: 'max_wait', key: 'k', retryAfterMs: 2000 });
    expect(limiter.waiting('k')).toBe(1);
    await clock.advanceAsync(1990); // 2090 ms: still held (without the hold it would have been served at 500 ms)
    expect(order).toEqual([]);
    await clock.advanceAsync(20);
    await patient;
    expect(order).toEqual(['patient']);
    expect(timer.pending).toBe(0);
  });

  it('wait validates maxWaitMs', async () => {
    const { limiter } = setup(perSecond(1));
    expect((await refusal(limiter.wait('k', 1, { maxWaitMs: -1 }))).code).toBe('FND_PROTECT_INVALID_POLICY');
  });

  it('tryConsume decides synchronously on its own memory store; a refusal is a value, not an error', () => {
    const { limiter, clock } = setup(perSecond(2));
    expect(limiter.local).toBe(true);
    expect(limiter.tryConsume('u')).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.tryConsume('u')).toMatchObject({ allowed: true, remaining: 0 });
    const refused = limiter.tryConsume('u');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 500 });
    expect(limiter.refusal('u', refused).context).toMatchObject({
      layer: 'rateLimit',
      policy: 'api',
      key: 'u',
      retryAfterMs: 500,
    });
    clock.advance(500);
    expect(limiter.tryConsume('u').allowed).toBe(true);
    expect(() => limiter.tryConsume('', 1)).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }) as Error,
    );
    expect(() => limiter.tryConsume('u', 3)).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }) as Error,
    );
    expect(limiter.tryConsume('u', 0)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('tryConsume is refused on a store passed in (it answers asynchronously)', () => {
    const { limiter } = setup(perSecond(2), { store: new MemoryRateLimitStore({ clock: new FakeClock() }) });
    expect(limiter.local).toBe(false);
    expect(() => limiter.tryConsume('u')).toThrow(/keeps its state in a memory store: use consume/);
  });
});
