import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import type { Lease } from './lease.js';
import type { PoolOptions } from './pool-options.js';
import { createPool } from './pool.js';
import { refusal } from '../../../test/helpers/refusal.js';

interface Res {
  readonly id: number;
  ok: boolean;
}

const flush = (): Promise<void> =>
  new Promise((r) => {
    setImmediate(r);
  });

/** A pool over numbered resources; `failCreate` makes creation reject; every call is recorded. */
function harness(overrides: Partial<PoolOptions<Res>> = {}) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock, 10);
  const log = { created: [] as number[], destroyed: [] as number[], createCalls: [] as number[] };
  const control = { failCreate: false, next: 1 };
  const pool = createPool<Res>({
    name: 'db',
    create: () => {
      log.createCalls.push(clock.monotonic());
      if (control.failCreate) return Promise.reject(new Error('server down'));
      const id = control.next++;
      log.created.push(id);
      return Promise.resolve({ id, ok: true });
    },
    destroy: (r) => {
      log.destroyed.push(r.id);
    },
    max: 2,
    clock,
    timer,
    ...overrides,
  });
  return { clock, timer, log, control, pool };
}

function ids(leases: readonly Lease<Res>[]): number[] {
  return leases.map((l) => l.resource.id);
}

describe('createPool', () => {
  it('creates lazily, lends, reuses the released resource and reports status', async () => {
    const { pool, log } = harness();
    expect(log.createCalls).toEqual([]);
    const a = await pool.acquire();
    expect(a.resource.id).toBe(1);
    expect(pool.status()).toMatchObject({ size: 1, idle: 0, inUse: 1, waiting: 0, overflow: 0 });
    a.release();
    a.release();
    expect(pool.status()).toMatchObject({ size: 1, idle: 1, inUse: 0 });
    const b = await pool.acquire();
    expect(b.resource.id).toBe(1);
    expect(log.created).toEqual([1]);
    b.destroy();
    await flush();
    expect(log.destroyed).toEqual([1]);
    expect(pool.status()).toMatchObject({ size: 0, idle: 0, inUse: 0 });
  });

  it('start() fills min in the background and keeps it after destroys', async () => {
    const { pool, log } = harness({ min: 2, max: 3 });
    pool.start();
    await flush();
    expect(pool.status()).toMatchObject({ size: 2, idle: 2 });
    const a = await pool.acquire();
    a.destroy();
    await flush();
    expect(log.destroyed).toEqual([a.resource.id]);
    expect(pool.status()).toMatchObject({ size: 2, idle: 2 });
  });

  it('serves waiters first in first out, each with the released resource', async () => {
    const { pool } = harness({ max: 1 });
    const first = await pool.acquire();
    const order: string[] = [];
    const w1 = pool.acquire().then((l) => (order.push('w1'), l));
    const w2 = pool.acquire().then((l) => (order.push('w2'), l));
    const w3 = pool.acquire().then((l) => (order.push('w3'), l));
    expect(pool.status().waiting).toBe(3);
    first.release();
    (await w1).release();
    (await w2).release();
    (await w3).release();
    expect(order).toEqual(['w1', 'w2', 'w3']);
    expect(pool.status()).toMatchObject({ size: 1, idle: 1, waiting: 0 });
  });

  it('overflow: creates up to max + maxOverflow and destroys overflow resources returned with nobody waiting', async () => {
    const { pool, log } = harness({ max: 2, maxOverflow: 1 });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(ids(leases)).toEqual([1, 2, 3]);
    expect(pool.status()).toMatchObject({ size: 3, overflow: 1, inUse: 3 });
    const waiter = pool.acquire();
    expect(pool.status().waiting).toBe(1);
    leases[0].release();
    const fourth = await waiter;
    expect(fourth.resource.id).toBe(1);
    leases[1].release();
    await flush();
    expect(log.destroyed).toEqual([2]);
    expect(pool.status()).toMatchObject({ size: 2, overflow: 0 });
    leases[2].release();
    fourth.release();
    expect(pool.status()).toMatchObject({ size: 2, idle: 2, overflow: 0 });
  });

  it('acquire timeout → FND_PROTECT_TIMEOUT with layer pool; no timer per acquire', async () => {
    const { pool, clock, timer } = harness({ max: 1, acquireTimeoutMs: 100 });
    const held = await pool.acquire();
    const waits = [pool.acquire(), pool.acquire(), pool.acquire({ timeoutMs: 500 })];
    // One coarse timer for every waiter (armed for the earliest deadline), none per acquire.
    expect(clock.pending()).toBe(1);
    expect(timer.pending).toBe(1);
    const errors = Promise.all(waits.slice(0, 2).map((p) => refusal(p)));
    await clock.advanceAsync(100);
    for (const error of await errors) {
      expect(error.code).toBe('FND_PROTECT_TIMEOUT');
      expect(error.context).toMatchObject({ layer: 'pool', policy: 'db', timeoutMs: 100 });
    }
    expect(pool.status().waiting).toBe(1);
    held.release();
    (await waits[2])?.release();
    // Only the idle sweep remains (the resource is idle now).
    expect(timer.pending).toBe(1);
    expect(clock.pending()).toBe(1);
  });

  it('full with maxWaiting reached → FND_PROTECT_BULKHEAD_FULL at once', async () => {
    const { pool } = harness({ max: 1, maxWaiting: 0 });
    const held = await pool.acquire();
    const error = await refusal(pool.acquire());
    expect(error.code).toBe('FND_PROTECT_BULKHEAD_FULL');
    expect(error.context).toMatchObject({ layer: 'pool', policy: 'db', capacity: 1, maxWaiting: 0 });
    held.release();
  });

  it('maxWaiting bounds the queue only once nothing more can be created', async () => {
    const { pool } = harness({ max: 1, maxOverflow: 1, maxWaiting: 1 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    const queued = pool.acquire();
    expect((await refusal(pool.acquire())).code).toBe('FND_PROTECT_BULKHEAD_FULL');
    a.release();
    (await queued).release();
    b.release();
    expect(pool.status()).toMatchObject({ size: 1, idle: 1, overflow: 0 });
  });

  it('a borrower that leaves while its resource is validated gives the resource back to the pool', async () => {
    let pass!: (ok: boolean) => void;
    const { pool, clock } = harness({
      max: 1,
      acquireTimeoutMs: 100,
      validate: () =>
        new Promise<boolean>((r) => {
          pass = r;
        }),
    });
    (await pool.acquire()).release();
    const leaving = refusal(pool.acquire());
    await flush();
    await clock.advanceAsync(100);
    expect((await leaving).code).toBe('FND_PROTECT_TIMEOUT');
    pass(true);
    await flush();
    expect(pool.status()).toMatchObject({ size: 1, idle: 1, inUse: 0, waiting: 0 });
  });

  it('a borrower aborted during validation is refused; drain refuses one being validated', async () => {
    let pass!: (ok: boolean) => void;
    const { pool, timer } = harness({
      max: 1,
      validate: () =>
        new Promise<boolean>((r) => {
          pass = r;
        }),
    });
    (await pool.acquire()).release();
    const controller = new AbortController();
    const aborted = refusal(pool.acquire({ signal: controller.signal }));
    await flush();
    controller.abort();
    expect((await aborted).code).toBe('FND_PROTECT_CANCELLED');
    expect(pool.status().waiting).toBe(0);
    pass(true);
    await flush();
    expect(pool.status()).toMatchObject({ idle: 1, inUse: 0 });
    const drainedWhileChecked = refusal(pool.acquire());
    await flush();
    const done = pool.drain();
    expect((await drainedWhileChecked).code).toBe('FND_SYSTEM_SERVICE_UNAVAILABLE');
    pass(true);
    await done;
    expect(pool.status()).toMatchObject({ size: 0, inUse: 0 });
    expect(timer.pending).toBe(0);
  });

  it('an aborted acquire → FND_PROTECT_CANCELLED and gives up its turn', async () => {
    const { pool, timer } = harness({ max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    controller.abort(new Error('user left'));
    const error = await refusal(aborted);
    expect(error.code).toBe('FND_PROTECT_CANCELLED');
    expect(pool.status().waiting).toBe(1);
    expect(timer.pending).toBe(1);
    held.release();
    expect((await next).resource.id).toBe(1);
    const already = await refusal(pool.acquire({ signal: AbortSignal.abort() }));
    expect(already.code).toBe('FND_PROTECT_CANCELLED');
  });

  it('validation on borrow destroys a dead idle resource and lends another', async () => {
    const { pool, log } = harness({ validate: (r) => r.ok });
    const a = await pool.acquire();
    const b = await pool.acquire();
    a.release();
    b.release();
    b.resource.ok = false;
    const c = await pool.acquire();
    expect(c.resource.id).toBe(1);
    const d = await pool.acquire();
    expect(d.resource.id).toBe(3);
    await flush();
    expect(log.destroyed).toEqual([2]);
    expect(pool.status()).toMatchObject({ size: 2, inUse: 2 });
  });

  it('a validator that throws or rejects counts as invalid', async () => {
    let calls = 0;
    const { pool, log } = harness({
      validate: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return Promise.reject(new Error('boom'));
      },
      max: 1,
    });
    (await pool.acquire()).release();
    const b = await pool.acquire();
    expect(b.resource.id).toBe(2);
    b.release();
    const c = await pool.acquire();
    expect(c.resource.id).toBe(3);
    await flush();
    expect(log.destroyed).toEqual([1, 2]);
  });

  it('evicts idle resources beyond min after idleTimeoutMs on one sweep, armed only while resources are idle', async () => {
    const { pool, clock, log, timer } = harness({ min: 1, max: 3, idleTimeoutMs: 1000 });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(timer.pending).toBe(0);
    for (const lease of leases) lease.release();
    expect(timer.pending).toBe(1);
    await clock.advanceAsync(999);
    expect(log.destroyed).toEqual([]);
    await clock.advanceAsync(1);
    expect(log.destroyed.length).toBe(2);
    expect(pool.status()).toMatchObject({ size: 1, idle: 1 });
    // The one kept for min stays armed for nothing else: no spin.
    expect(timer.pending).toBe(0);
    await clock.advanceAsync(10_000);
    expect(pool.status()).toMatchObject({ size: 1, idle: 1 });
  });

  it('destroys resources past maxLifetimeMs when idle, on borrow and on return, then refills min', async () => {
    const { pool, clock, log } = harness({ min: 1, max: 2, maxLifetimeMs: 5000, idleTimeoutMs: Infinity });
    const a = await pool.acquire();
    await clock.advanceAsync(5000);
    a.release();
    await flush();
    expect(log.destroyed).toEqual([1]);
    expect(pool.status()).toMatchObject({ size: 1, idle: 1 });
    await clock.advanceAsync(5000);
    await flush();
    expect(log.destroyed).toEqual([1, 2]);
    expect(pool.status()).toMatchObject({ size: 1, idle: 1 });
    await clock.advanceAsync(4990);
    const c = await pool.acquire();
    expect(c.resource.id).toBe(3);
    c.release();
  });

  it('creation failures back off (doubling, capped) instead of spinning, then recover', async () => {
    const { pool, clock, control, log } = harness({
      max: 1,
      acquireTimeoutMs: 60_000,
      createRetry: { initialMs: 100, maxMs: 800 },
    });
    control.failCreate = true;
    const waiting = pool.acquire();
    await clock.advanceAsync(0);
    expect(log.createCalls).toEqual([0]);
    await clock.advanceAsync(5000);
    // 0, then after 100, 200, 400, 800, 800, 800…
    expect(log.createCalls.slice(0, 6)).toEqual([0, 100, 300, 700, 1500, 2300]);
    expect(log.createCalls.length).toBeLessThanOrEqual(9);
    expect(pool.status().createFailures).toBe(log.createCalls.length);
    control.failCreate = false;
    await clock.advanceAsync(800);
    const lease = await waiting;
    expect(lease.resource.id).toBe(1);
    expect(pool.status().createFailures).toBe(0);
    lease.release();
  });

  it('after a failed creation, one creation at a time probes until one succeeds (then all needed at once)', async () => {
    const { pool, clock, control, log } = harness({ max: 3, createRetry: { initialMs: 100, maxMs: 100 } });
    control.failCreate = true;
    const waits = [pool.acquire(), pool.acquire(), pool.acquire()];
    await clock.advanceAsync(0);
    expect(log.createCalls).toEqual([0, 0, 0]);
    await clock.advanceAsync(300);
    expect(log.createCalls).toEqual([0, 0, 0, 100, 200, 300]);
    control.failCreate = false;
    await clock.advanceAsync(100);
    expect(log.createCalls).toEqual([0, 0, 0, 100, 200, 300, 400, 400, 400]);
    const leases = await Promise.all(waits);
    expect(ids(leases)).toEqual([1, 2, 3]);
  });

  it('a timeout during an outage carries the last creation failure as cause', async () => {
    const { pool, clock, control } = harness({ max: 1, acquireTimeoutMs: 300 });
    control.failCreate = true;
    const error = refusal(pool.acquire());
    await clock.advanceAsync(300);
    const e = await error;
    expect(e.code).toBe('FND_PROTECT_TIMEOUT');
    expect((e.cause as Error).message).toBe('server down');
  });

  it('drain refuses waiters and later acquires, waits for lent resources, destroys everything', async () => {
    const { pool, log } = harness({ max: 1 });
    const a = await pool.acquire();
    const waiter = refusal(pool.acquire());
    let drained = false;
    const done = pool.drain().then(() => {
      drained = true;
    });
    expect(pool.drain()).toBe(pool.drain());
    expect((await waiter).code).toBe('FND_SYSTEM_SERVICE_UNAVAILABLE');
    expect((await refusal(pool.acquire())).code).toBe('FND_SYSTEM_SERVICE_UNAVAILABLE');
    await flush();
    expect(drained).toBe(false);
    a.release();
    await done;
    expect(log.destroyed).toEqual([1]);
    expect(pool.status()).toMatchObject({ size: 0, idle: 0, inUse: 0, waiting: 0, drained: true });
  });

  it('drain destroys idle resources at once and cancels the sweep and the backoff', async () => {
    const { pool, log, timer, control, clock } = harness({ max: 2, idleTimeoutMs: 1000 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    a.destroy();
    control.failCreate = true;
    const failing = refusal(pool.acquire({ timeoutMs: 50 }));
    await clock.advanceAsync(50);
    expect((await failing).code).toBe('FND_PROTECT_TIMEOUT');
    b.release();
    expect(timer.pending).toBe(2);
    await pool.drain();
    expect([...log.destroyed].sort()).toEqual([...log.created].sort());
    expect(timer.pending).toBe(0);
  });

  it("use(fn) runs fn in the caller's async context even when another caller's release serves it", async () => {
    const { pool } = harness({ max: 1 });
    const als = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((r) => {
      releaseFirst = r;
    });
    const first = als.run('caller-1', () =>
      pool.use(async () => {
        seen.push(als.getStore());
        await gate;
        return 1;
      }),
    );
    await flush();
    const second = als.run('caller-2', () =>
      pool.use((r) => {
        seen.push(als.getStore());
        return r.id;
      }),
    );
    expect(pool.status().waiting).toBe(1);
    als.run('releaser', () => {
      releaseFirst();
    });
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    expect(seen).toEqual(['caller-1', 'caller-2']);
    expect(pool.status()).toMatchObject({ inUse: 0, idle: 1 });
  });

  it('using a lease releases it; await using a pool drains it', async () => {
    const { pool: outer, log } = harness({ max: 1 });
    {
      await using pool = outer;
      {
        using lease = await pool.acquire();
        expect(lease.resource.id).toBe(1);
        expect(pool.status().inUse).toBe(1);
      }
      expect(pool.status()).toMatchObject({ inUse: 0, idle: 1 });
    }
    expect(outer.status()).toMatchObject({ drained: true, size: 0 });
    expect(log.destroyed).toEqual([1]);
  });

  it('use(fn) releases the resource when fn throws', async () => {
    const { pool } = harness({ max: 1 });
    await expect(
      pool.use(() => {
        throw new Error('query failed');
      }),
    ).rejects.toThrow('query failed');
    expect(pool.status()).toMatchObject({ inUse: 0, idle: 1 });
  });

  it('refuses bad options with FND_PROTECT_INVALID_POLICY naming the option', () => {
    const base = { create: () => 1, destroy: () => undefined, max: 1 };
    const cases: [Record<string, unknown>, string][] = [
      [{ max: 0 }, 'pool.max'],
      [{ max: 1.5 }, 'pool.max'],
      [{ min: 2 }, 'pool.min'],
      [{ maxOverflow: -1 }, 'pool.maxOverflow'],
      [{ acquireTimeoutMs: Infinity }, 'pool.acquireTimeoutMs'],
      [{ idleTimeoutMs: 0 }, 'pool.idleTimeoutMs'],
      [{ maxLifetimeMs: Number.NaN }, 'pool.maxLifetimeMs'],
      [{ createRetry: { initialMs: 100, maxMs: 10 } }, 'pool.createRetry.maxMs'],
      [{ createRetry: { initialMs: 0, maxMs: 10 } }, 'pool.createRetry.initialMs'],
      [{ maxWaiting: -1 }, 'pool.maxWaiting'],
      [{ create: 'nope' }, 'pool.create'],
      [{ validate: 1 }, 'pool.validate'],
      [{ name: '' }, 'pool.name'],
    ];
    for (const [patch, option] of cases) {
      try {
        createPool({ ...base, ...patch });
        throw new Error(`accepted ${option}`);
      } catch (error) {
        expect((error as FoundationError).code).toBe('FND_PROTECT_INVALID_POLICY');
        expect((error as FoundationError).context).toMatchObject({ option });
      }
    }
  });

  it('refuses a bad acquire timeout with FND_PROTECT_INVALID_POLICY', async () => {
    const { pool } = harness({ max: 1 });
    await pool.acquire();
    expect((await refusal(pool.acquire({ timeoutMs: -1 }))).code).toBe('FND_PROTECT_INVALID_POLICY');
  });
});

describe('createPool (property)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('acquire' as const), timeoutMs: fc.integer({ min: 0, max: 500 }) }),
    fc.record({ kind: fc.constant('release' as const), index: fc.nat(20) }),
    fc.record({ kind: fc.constant('destroy' as const), index: fc.nat(20) }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ kind: fc.constant('toggle' as const) }),
    fc.record({ kind: fc.constant('abort' as const), index: fc.nat(20) }),
  );

  it('never exceeds max + maxOverflow, serves waiters FIFO, and every created resource is destroyed by drain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        async (ops, max, maxOverflow, minRaw, validates) => {
          const min = Math.min(minRaw, max);
          const { pool, clock, control, log } = harness({
            max,
            maxOverflow,
            min,
            idleTimeoutMs: 300,
            maxLifetimeMs: 1000,
            createRetry: { initialMs: 50, maxMs: 200 },
            ...(validates ? { validate: (r: Res) => r.ok } : {}),
          });
          const held: Lease<Res>[] = [];
          const granted: number[] = [];
          const settledOrder: number[] = [];
          let seq = 0;
          const controllers: AbortController[] = [];
          const check = (): void => {
            const s = pool.status();
            expect(s.size + s.creating).toBeLessThanOrEqual(max + maxOverflow);
            expect(s.overflow).toBeLessThanOrEqual(maxOverflow);
            expect(log.created.length - new Set(log.destroyed).size).toBeLessThanOrEqual(max + maxOverflow);
            expect(held.length).toBeLessThanOrEqual(s.inUse);
          };
          for (const o of ops) {
            if (o.kind === 'acquire') {
              const n = seq++;
              const controller = new AbortController();
              controllers.push(controller);
              pool.acquire({ timeoutMs: o.timeoutMs, signal: controller.signal }).then(
                (lease) => {
                  granted.push(n);
                  settledOrder.push(n);
                  held.push(lease);
                },
                () => {
                  settledOrder.push(n);
                },
              );
            } else if (o.kind === 'release' || o.kind === 'destroy') {
              const lease = held.splice(o.index % Math.max(held.length, 1), 1)[0];
              if (lease !== undefined) {
                if (o.kind === 'destroy') lease.resource.ok = false;
                lease[o.kind]();
              }
            } else if (o.kind === 'abort') {
              controllers[o.index % Math.max(controllers.length, 1)]?.abort();
            } else if (o.kind === 'toggle') {
              control.failCreate = !control.failCreate;
            } else {
              await clock.advanceAsync(o.ms);
            }
            await flush();
            check();
            const s = pool.status();
            expect(s.waiting).toBeGreaterThanOrEqual(0);
            expect(s.inUse).toBeGreaterThanOrEqual(held.length);
          }
          // Grants happen in request order among those granted (FIFO; timeouts/failures only skip).
          expect(granted).toEqual([...granted].sort((a, b) => a - b));
          const done = pool.drain();
          for (const lease of held.splice(0)) lease.release();
          await clock.advanceAsync(1000);
          await done;
          await flush();
          // Every acquire settled: granted, refused, or refused by the drain.
          expect(settledOrder.length).toBe(seq);
          expect(new Set(log.destroyed).size).toBe(log.created.length);
          expect(log.destroyed.length).toBe(log.created.length);
          expect(pool.status()).toMatchObject({ size: 0, inUse: 0, waiting: 0, creating: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });
});
