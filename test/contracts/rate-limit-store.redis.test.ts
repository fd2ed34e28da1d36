/**
 * The rate limit store contract on Redis: a key prefix per case; `remote` is another store object (another
 * connection, as another process). Also: NOSCRIPT fallback after SCRIPT FLUSH, keys expiring when the
 * allowance is full again, a lost connection (TCP proxy cut) and recovery, and an unreachable server.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SCAN_CALLS, RedisRateLimitStore } from '../../src/protection/rate-limit/redis-store.js';
import type {
  RateLimitDecision,
  RateLimitRule,
  RateLimitStore,
} from '../../src/protection/rate-limit/types.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import {
  describeRedis,
  dropRedisPrefix,
  redisTestClient,
  redisTestPrefix,
  redisTestUrl,
} from '../helpers/redis.js';
import { rateLimitStoreContract } from './rate-limit-store.contract.js';

/**
 * Counts the commands Redis runs (MONITOR), by name and by an argument starting with `prefix` — other test
 * files share the server, so server-wide statistics would count their commands too. `count` first waits until
 * the monitor has seen everything run before it was called.
 */
async function watchCommands(): Promise<{
  count(command: string, prefix: string): Promise<number>;
  close(): void;
}> {
  const admin = redisTestClient();
  await admin.connect();
  const monitor = await admin.monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
  let marks = 0;
  return {
    async count(command, prefix) {
      marks += 1;
      const mark = `watch-mark-${String(marks)}-${prefix}`;
      await admin.echo(mark);
      await expect
        .poll(() => seen.some((args) => args[0] === 'echo' && args[1] === mark), {
          timeout: 10_000,
          interval: 10,
        })
        .toBe(true);
      return seen.filter(
        (args) => args[0]?.toLowerCase() === command && args.slice(1).some((arg) => arg.startsWith(prefix)),
      ).length;
    },
    close() {
      monitor.disconnect();
      admin.disconnect();
    },
  };
}

/** Reads a key's remaining units, -1 while the store fails (for polling a recovery). */
function remainingOf(store: RateLimitStore, key: string, rule: RateLimitRule): () => Promise<number> {
  return async () => {
    try {
      return (await store.status(key, rule)).remaining;
    } catch {
      return -1;
    }
  };
}

/**
 * Runs `body` with a Redis store reached through a TCP proxy (which the body may cut, freeze…), on a fresh
 * key prefix; closes the store and the proxy and deletes the prefix afterwards.
 */
async function withProxiedStore(
  timeoutMs: number,
  body: (store: RedisRateLimitStore, proxy: TcpProxy) => Promise<void>,
): Promise<void> {
  const target = new URL(redisTestUrl());
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const viaProxy = new URL(redisTestUrl());
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const prefix = redisTestPrefix();
  const store = new RedisRateLimitStore(viaProxy.toString(), { keyPrefix: prefix, timeoutMs });
  try {
    await body(store, proxy);
  } finally {
    await store.close();
    await proxy.close();
    await dropRedisPrefix(prefix);
  }
}
import { expectCode } from './event-store/fixture.js';

describeRedis('Redis rate limit store', () => {
  rateLimitStoreContract(
    'redis',
    () => {
      const prefix = redisTestPrefix();
      const stores: RateLimitStore[] = [];
      const make = (): RedisRateLimitStore => {
        const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
        stores.push(store);
        return store;
      };
      return Promise.resolve({
        store: make(),
        remote: () => Promise.resolve(make()),
        cleanup: async () => {
          for (const s of stores) await s.close();
          await dropRedisPrefix(prefix);
        },
      });
    },
    { propertyRuns: 25 },
  );

  describe('server side', () => {
    it(
      'falls back to EVAL after SCRIPT FLUSH (NOSCRIPT) and keeps its state',
      { timeout: 30_000 },
      async () => {
        const prefix = redisTestPrefix();
        const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
        const admin = redisTestClient();
        await admin.connect();
        try {
          const rule = { algorithm: 'gcra', limit: 3, windowMs: 1e12 } as const;
          expect((await store.consume('k', rule, 1)).remaining).toBe(2);
          await admin.script('FLUSH');
          expect((await store.consume('k', rule, 1)).remaining).toBe(1);
          expect((await store.consume('k', rule, 1)).remaining).toBe(0);
          expect((await store.consume('k', rule, 1)).allowed).toBe(false);
        } finally {
          await store.close();
          admin.disconnect();
          await dropRedisPrefix(prefix);
        }
      },
    );

    it(
      'writes one string per key that expires when its allowance is full again',
      { timeout: 30_000 },
      async () => {
        const prefix = redisTestPrefix();
        const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
        const admin = redisTestClient();
        await admin.connect();
        try {
          await store.consume('k', { algorithm: 'token_bucket', limit: 10, windowMs: 60_000 }, 1);
          const ttl = await admin.pttl(`${prefix}k`);
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(6_000);
          await store.status('other', { algorithm: 'token_bucket', limit: 10, windowMs: 60_000 });
          await store.consume('refused', { algorithm: 'fixed_window', limit: 1, windowMs: 60_000 }, 0);
          expect(await admin.exists(`${prefix}other`, `${prefix}refused`)).toBe(0);
        } finally {
          await store.close();
          admin.disconnect();
          await dropRedisPrefix(prefix);
        }
      },
    );

    it(
      'a lost connection fails decisions with FND_STORAGE_UNAVAILABLE, then reconnects with the state kept',
      { timeout: 60_000 },
      async () => {
        const rule = { algorithm: 'sliding_window', limit: 3, windowMs: 1e12 } as const;
        await withProxiedStore(1000, async (store, proxy) => {
          expect((await store.consume('k', rule, 1)).remaining).toBe(2);
          await proxy.cut();
          await expectCode(store.consume('k', rule, 1), 'FND_STORAGE_UNAVAILABLE');
          await proxy.restore();
          await expect.poll(remainingOf(store, 'k', rule), { timeout: 20_000, interval: 50 }).toBe(2);
          expect((await store.consume('k', rule, 2)).remaining).toBe(0);
        });
      },
    );

    it(
      'a server that stops answering fails the decisions in flight after timeoutMs, then recovers',
      { timeout: 60_000 },
      async () => {
        const rule = { algorithm: 'fixed_window', limit: 10, windowMs: 1e12 } as const;
        await withProxiedStore(300, async (store, proxy) => {
          expect((await store.consume('k', rule, 1)).remaining).toBe(9);
          proxy.freeze();
          // Silent server, open connection: no answer ever comes; the watchdog drops the connection.
          const stalled = await Promise.allSettled([
            store.consume('k', rule, 1),
            store.consume('j', rule, 1),
          ]);
          for (const outcome of stalled) {
            expect(outcome.status).toBe('rejected');
            expect((outcome as PromiseRejectedResult).reason).toMatchObject({
              code: 'FND_STORAGE_UNAVAILABLE',
            });
          }
          proxy.thaw();
          await expect
            .poll(remainingOf(store, 'k', rule), { timeout: 20_000, interval: 50 })
            .toBeGreaterThanOrEqual(8);
        });
      },
    );

    it('decisions made together go in one script call, each answered in order and exact', async () => {
      const prefix = redisTestPrefix();
      const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
      const watch = await watchCommands();
      const rule = { algorithm: 'fixed_window', limit: 5, windowMs: 1e12 } as const;
      try {
        await store.consume('warm', rule, 1);
        const before = await watch.count('evalsha', prefix);
        // 80 decisions in one turn: two batches (at most 64 each), on three keys.
        const decisions = await Promise.all(
          Array.from({ length: 80 }, (_, i) => store.consume(['a', 'b', 'c'][i % 3] as string, rule, 1)),
        );
        expect((await watch.count('evalsha', prefix)) - before).toBe(2);
        for (const key of [0, 1, 2]) {
          const mine = decisions.filter((_, i) => i % 3 === key);
          expect(mine.map((d) => d.allowed)).toEqual(mine.map((_, i) => i < 5));
          expect(mine.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
        }
      } finally {
        watch.close();
        await store.close();
        await dropRedisPrefix(prefix);
      }
    });

    it('one script call with several rules, unit counts and status reads: each decision under its own rule', async () => {
      const prefix = redisTestPrefix();
      const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
      const watch = await watchCommands();
      const fixed = { algorithm: 'fixed_window', limit: 5, windowMs: 1e12 } as const;
      const bucket = { algorithm: 'token_bucket', limit: 10, windowMs: 1e12, burst: 4 } as const;
      const sliding = { algorithm: 'sliding_window', limit: 3, windowMs: 1e12 } as const;
      try {
        await store.consume('warm', fixed, 1);
        const before = await watch.count('evalsha', prefix);
        const [f1, b1, s1, f2, b2, fStatus, s2, bStatus, b3] = await Promise.all([
          store.consume('f', fixed, 2),
          store.consume('b', bucket, 3),
          store.consume('s', sliding, 1),
          store.consume('f', fixed, 3),
          store.consume('b', bucket, 2),
          store.status('f', fixed),
          store.consume('s', sliding, 3),
          store.status('b', bucket),
          store.consume('b', bucket, 1),
        ]);
        expect((await watch.count('evalsha', prefix)) - before).toBe(1);
        const view = (d: RateLimitDecision) => [d.allowed, d.remaining, d.limit];
        expect([f1, f2, fStatus].map(view)).toEqual([
          [true, 3, 5],
          [true, 0, 5],
          [true, 0, 5],
        ]);
        // The bucket holds 4: 3 taken, 2 more refused (nothing recorded), the status reads 1 left, 1 fits.
        expect([b1, b2, bStatus, b3].map(view)).toEqual([
          [true, 1, 10],
          [false, 1, 10],
          [true, 1, 10],
          [true, 0, 10],
        ]);
        expect([s1, s2].map(view)).toEqual([
          [true, 2, 3],
          [false, 2, 3],
        ]);
        expect(s2.retryAfterMs).toBeGreaterThan(0);
        // Refusals and status reads wrote nothing: the next decisions see only the admitted units.
        expect((await store.status('s', sliding)).remaining).toBe(2);
        expect((await store.status('b', bucket)).remaining).toBe(0);
      } finally {
        watch.close();
        await store.close();
        await dropRedisPrefix(prefix);
      }
    });

    it(
      'a key listing on a large keyspace stops after MAX_SCAN_CALLS scans',
      { timeout: 60_000 },
      async () => {
        const filler = redisTestPrefix();
        const prefix = redisTestPrefix();
        const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix: prefix });
        const admin = redisTestClient();
        const watch = await watchCommands();
        try {
          await admin.connect();
          // More keys than MAX_SCAN_CALLS scans of ~1000 examine, none of them the store's.
          for (let i = 0; i < 30; i++) {
            const pipeline = admin.pipeline();
            for (let j = 0; j < 1000; j++) pipeline.set(`${filler}${String(i * 1000 + j)}`, '1', 'EX', 120);
            await pipeline.exec();
          }
          expect(await store.keys(10)).toEqual([]);
          expect(await watch.count('scan', prefix)).toBe(MAX_SCAN_CALLS);
        } finally {
          watch.close();
          admin.disconnect();
          await store.close();
          await dropRedisPrefix(filler);
        }
      },
    );

    it(
      'an unreachable server is FND_STORAGE_UNAVAILABLE; a closed store refuses',
      { timeout: 30_000 },
      async () => {
        const down = new RedisRateLimitStore('redis://127.0.0.1:1', { timeoutMs: 500 });
        await expectCode(
          down.consume('k', { algorithm: 'gcra', limit: 1, windowMs: 1000 }, 1),
          'FND_STORAGE_UNAVAILABLE',
        );
        await down.close();
        await expectCode(
          down.status('k', { algorithm: 'gcra', limit: 1, windowMs: 1000 }),
          'FND_STORAGE_UNAVAILABLE',
        );
      },
    );
  });
});
