/**
 * The rate limiter rows of the protection suite (issue 8): one decision of ours (`RateLimiter.consume`) against
 * rate-limiter-flexible 11.4.0's `consume`, on each store — memory (`RateLimiterMemory`), Redis
 * (`RateLimiterRedis` on an ioredis client) and PostgreSQL (`RateLimiterPostgres` on a `pg.Pool`).
 *
 * Memory has two cases. The target (≤ 0.2×) applies to the SYNCHRONOUS one
 * ({@link memorySyncLimiterCase}): ours `limiter.tryConsume(key)` (the decision, no promise) against
 * `RateLimiterMemory.consume(key)` called without `await` — the peer does its whole decision synchronously
 * inside its promise's executor and the returned promise goes to the sink (it never rejects: the limit is
 * 1e9) — so neither side pays an await. The awaited case ({@link memoryLimiterCase}: `await consume`) is
 * context: both sides there include the caller's await of a settled promise (~40 ns on a quiet machine, the
 * `bare-await` row), which neither library can remove; its notes give the ratios without the target.
 *
 * The same rule on both sides: a fixed window of 1e9 units per 60 s (ours `{ algorithm: 'fixed_window', limit:
 * 1e9, windowMs: 60000 }`, the peer `{ points: 1e9, duration: 60 }`, whose counter is a fixed window too), so
 * every measured decision takes the admitted path. Ours also runs GCRA on memory (`ours-gcra`), as context.
 * Decisions cycle over 1000 keys (`k0` … `k999`), one unit each.
 *
 * Fresh state per run: a new memory limiter per case; on Redis a random key prefix per side (ours' store
 * `keyPrefix`, the peer's `keyPrefix`), whose keys are deleted in teardown; on PostgreSQL ours gets a fresh
 * schema (its `ratelimit` migrations create `rate_limits` there, an UNLOGGED table by design) and the peer a
 * table with a unique name that it creates itself (a logged table, its design), both dropped in teardown.
 * Both PostgreSQL sides use 10 connections. Ours' Redis client has a 5 s command timeout (its store's default);
 * the peer's ioredis client runs with ioredis' defaults (no command timeout), which favours the peer.
 *
 * Every case's notes give ours ÷ peer (ns per decision), next to the target where it applies. The
 * sequential Redis case also times one `PING` round trip on an ioredis client (`round-trip (PING)`, role
 * baseline): no sequential decision that takes one round trip can be cheaper, and its notes give that floor ÷
 * the peer. (With 100 in flight the PINGs pipeline and the decisions batch, so there is no such floor.)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';
import { RateLimiter } from '../../src/protection/rate-limit/limiter.js';
import { PostgresRateLimitStore } from '../../src/protection/rate-limit/postgres-store.js';
import { RedisRateLimitStore } from '../../src/protection/rate-limit/redis-store.js';
import type { RateLimitRule } from '../../src/protection/rate-limit/types.js';
import { Storage } from '../../src/storage/index.js';
import {
  createScratchSchema,
  pgBenchUrl,
  pgRun,
  pgUnavailable,
  randomName,
  withParams,
} from '../events/pg-env.js';
import type { ImplResult } from '../harness.js';
import { asyncCase, asyncImpl, impl, type AsyncBenchCase, type BenchCase } from '../suite.js';

/** Units per window of the measured rule: high enough that no run ever reaches it. */
export const BENCH_LIMIT = 1e9;

/** The measured rule's window, ms (the peer's `duration` is this in seconds). */
export const BENCH_WINDOW_MS = 60_000;

/** Keys the decisions cycle over. */
export const KEY_COUNT = 1000;

/** Decisions in flight in the concurrent cases. */
export const IN_FLIGHT = 100;

/** Connections of each PostgreSQL side (ours' storage pool, the peer's `pg.Pool`). */
export const PG_CONNECTIONS = 10;

/** ours ÷ peer targets of issue 8, by peer row. */
export const LIMITER_TARGETS = {
  memory: { 'rate-limiter-flexible': 0.2 },
  redis: { 'rate-limiter-flexible': 0.7 },
  postgres: { 'rate-limiter-flexible': 0.5 },
} as const;

/** `{ algorithm, limit, windowMs }` of ours for `limit` units per {@link BENCH_WINDOW_MS}. */
export function benchRule(
  limit: number = BENCH_LIMIT,
  algorithm: 'fixed_window' | 'gcra' = 'fixed_window',
): RateLimitRule {
  return { algorithm, limit, windowMs: BENCH_WINDOW_MS };
}

/** The key names `k0` … `k<count − 1>`, built once so no side builds strings in its timed loop. */
export function benchKeys(count: number = KEY_COUNT): readonly string[] {
  return Array.from({ length: count }, (_, i) => `k${String(i)}`);
}

/** One side of a limiter case: the limiter, the keys it cycles over, and how to free what it holds. */
export interface LimiterSide<L> {
  readonly limiter: L;
  readonly keys: readonly string[];
  /** Where the side's state lives: its Redis key prefix, schema or table; `''` in memory. */
  readonly location: string;
  /** Closes connections and deletes the side's keys, schema or table; harmless when called twice. */
  close(): Promise<void>;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

// ---------------------------------------------------------------------------------------------- memory

/** Ours on its default memory store. */
export function oursMemory(rule: RateLimitRule = benchRule()): LimiterSide<RateLimiter> {
  const limiter = new RateLimiter({ name: 'bench', rule });
  return { limiter, keys: benchKeys(), location: '', close: once(() => limiter.close()) };
}

/** rate-limiter-flexible's `RateLimiterMemory` with `{ points: limit, duration: 60 }`. */
export function flexibleMemory(limit: number = BENCH_LIMIT): LimiterSide<RateLimiterMemory> {
  const limiter = new RateLimiterMemory({ points: limit, duration: BENCH_WINDOW_MS / 1000 });
  return { limiter, keys: benchKeys(), location: '', close: () => Promise.resolve() };
}

// ----------------------------------------------------------------------------------------------- Redis

/** The Redis server: `FOUNDATION_TEST_REDIS_URL`, else `redis://127.0.0.1:6379` (same as the tests). */
export function redisBenchUrl(): string {
  const fromEnv = process.env.FOUNDATION_TEST_REDIS_URL;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'redis://127.0.0.1:6379';
}

/** A client that gives up at once (no retries, no offline queue) for probes and cleanup. */
function adminClient(): Redis {
  const client = new Redis(redisBenchUrl(), {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

/** Why the Redis cases cannot run (server unreachable), or `undefined` when they can. */
export async function redisUnavailable(): Promise<string | undefined> {
  const client = adminClient();
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    const url = new URL(redisBenchUrl());
    url.password = '';
    return `Redis at ${url.toString()} is unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    client.disconnect();
  }
}

/** A fresh Redis key prefix `bench:<tag>:<12 hex digits>:`. */
export function redisPrefix(tag: string): string {
  return `bench:${tag}:${randomBytes(6).toString('hex')}:`;
}

/** The keys under `prefix` (SCAN), e.g. to check what a side wrote. */
export async function redisKeys(prefix: string): Promise<string[]> {
  const client = adminClient();
  try {
    await client.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const keys = await redisKeys(prefix);
  if (keys.length === 0) return;
  const client = adminClient();
  try {
    await client.connect();
    for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}

/** Ours on a {@link RedisRateLimitStore} under a fresh prefix, connected (one decision on a warm-up key). */
export async function oursRedis(rule: RateLimitRule = benchRule()): Promise<LimiterSide<RateLimiter>> {
  const prefix = redisPrefix('rl');
  const store = new RedisRateLimitStore(redisBenchUrl(), { keyPrefix: prefix });
  const limiter = new RateLimiter({ name: 'bench', rule, store });
  const close = once(async () => {
    await limiter.close();
    await store.close();
    await dropRedisKeys(prefix);
  });
  try {
    await limiter.consume('warmup');
  } catch (error) {
    await close();
    throw error;
  }
  return { limiter, keys: benchKeys(), location: prefix, close };
}

/** rate-limiter-flexible's `RateLimiterRedis` on an ioredis client (its defaults) under a fresh prefix, connected. */
export async function flexibleRedis(limit: number = BENCH_LIMIT): Promise<LimiterSide<RateLimiterRedis>> {
  const prefix = redisPrefix('rlflx');
  const client = new Redis(redisBenchUrl(), { lazyConnect: true });
  client.on('error', () => undefined);
  const close = once(async () => {
    client.disconnect();
    await dropRedisKeys(prefix);
  });
  try {
    await client.connect();
    // The peer appends `:` to its keyPrefix.
    const limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: prefix.slice(0, -1),
      points: limit,
      duration: BENCH_WINDOW_MS / 1000,
    });
    await limiter.consume('warmup');
    return { limiter, keys: benchKeys(), location: prefix, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// ------------------------------------------------------------------------------------------ PostgreSQL

/** Ours on a {@link PostgresRateLimitStore} in a fresh schema ({@link PG_CONNECTIONS} connections), migrated. */
export async function oursPostgres(rule: RateLimitRule = benchRule()): Promise<LimiterSide<RateLimiter>> {
  const schema = await createScratchSchema('bench_rl');
  const storage = new Storage(
    withParams(pgBenchUrl(), { schema: schema.name, poolSize: String(PG_CONNECTIONS) }),
  );
  const store = new PostgresRateLimitStore(storage);
  const limiter = new RateLimiter({ name: 'bench', rule, store });
  const close = once(async () => {
    await limiter.close();
    await store.close();
    await storage.close();
    await schema.drop();
  });
  try {
    await storage.open();
    await store.open();
    await limiter.consume('warmup');
  } catch (error) {
    await close();
    throw error;
  }
  return { limiter, keys: benchKeys(), location: schema.name, close };
}

/**
 * rate-limiter-flexible's `RateLimiterPostgres` on a `pg.Pool` of {@link PG_CONNECTIONS} connections, with a
 * table of a unique name (`rlflx_bench_<hex>`, in the default schema) that it creates on construction; no
 * expiry timer (`clearExpiredByTimeout: false`). Teardown drops the table.
 */
export async function flexiblePostgres(
  limit: number = BENCH_LIMIT,
): Promise<LimiterSide<RateLimiterPostgres>> {
  const tableName = randomName('rlflx_bench');
  const pool = new pg.Pool({ connectionString: pgBenchUrl(), max: PG_CONNECTIONS });
  pool.on('error', () => undefined);
  const close = once(async () => {
    await pool.end().catch(() => undefined);
    await pgRun(`DROP TABLE IF EXISTS "${tableName}"`);
  });
  try {
    const limiter = await new Promise<RateLimiterPostgres>((resolve, reject) => {
      const created: RateLimiterPostgres = new RateLimiterPostgres(
        {
          storeClient: pool,
          tableName,
          points: limit,
          duration: BENCH_WINDOW_MS / 1000,
          clearExpiredByTimeout: false,
        },
        (error) => {
          if (error === undefined) resolve(created);
          else reject(error);
        },
      );
    });
    await limiter.consume('warmup');
    return { limiter, keys: benchKeys(), location: tableName, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// --------------------------------------------------------------------------------------------- notes

/** ns as the notes print it: one decimal under 100, whole ns with thousands separators above. */
function ns(value: number): string {
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

/**
 * The notes of a case: for every `ours` row and every `peer` row, ours' ns/op ÷ the peer's and, when
 * `targets` names the peer, the issue's target and whether it is met, one line each, e.g.
 * `ours 150 ns/op ÷ rate-limiter-flexible 950 ns/op = 0.158× (target ≤ 0.2×: met)`.
 */
export function formatRatios(
  results: readonly ImplResult[],
  targets: Readonly<Record<string, number>> = {},
): string {
  const lines: string[] = [];
  for (const ours of results.filter((row) => row.role === 'ours')) {
    for (const peer of results.filter((row) => row.role === 'peer')) {
      const ratio = ours.nsPerOp / peer.nsPerOp;
      const target = targets[peer.impl];
      const verdict =
        target === undefined ? '' : ` (target ≤ ${String(target)}×: ${ratio <= target ? 'met' : 'MISSED'})`;
      lines.push(
        `${ours.impl} ${ns(ours.nsPerOp)} ns/op ÷ ${peer.impl} ${ns(peer.nsPerOp)} ns/op = ${ratio.toFixed(3)}×${verdict}`,
      );
    }
  }
  return lines.join('\n');
}

// --------------------------------------------------------------------------------------------- cases

/** A consume row: `limiter.consume(keys[i % keys.length])` on a side opened in setup, closed in teardown. */
function consumeImpl<L extends { consume(key: string): Promise<unknown> }>(
  impl: string,
  role: 'ours' | 'peer',
  open: () => LimiterSide<L> | Promise<LimiterSide<L>>,
) {
  return asyncImpl<LimiterSide<L>>({
    impl,
    role,
    setup: open,
    fn: (side, i) => side.limiter.consume(side.keys[i % side.keys.length]!),
    teardown: (side) => side.close(),
  });
}

/**
 * Memory, awaited (context): one admitted decision, sequential, the harness awaiting each; ours (fixed
 * window, GCRA, and the synchronous `tryConsume`) vs `RateLimiterMemory.consume`, and `bare-await` (the
 * harness's await of a plain value: the floor every awaited row pays). The notes give the ratios without the
 * target, which applies to {@link memorySyncLimiterCase}.
 */
export function memoryLimiterCase(): AsyncBenchCase {
  return asyncCase({
    name: `rate limit decision, memory, ${String(KEY_COUNT)} keys, admitted`,
    notes: (_state, results) =>
      `${formatRatios(results)}\n(awaited: every row includes the caller's await, see the bare-await row; ` +
      'the 0.2× target applies to the synchronous case)',
    impls: [
      consumeImpl('ours', 'ours', () => oursMemory()),
      consumeImpl('ours-gcra', 'ours', () => oursMemory(benchRule(BENCH_LIMIT, 'gcra'))),
      // The synchronous decision (`tryConsume`: no promise); the harness still awaits its value.
      asyncImpl<LimiterSide<RateLimiter>>({
        impl: 'ours-sync',
        role: 'ours',
        setup: () => oursMemory(),
        fn: (side, i) => side.limiter.tryConsume(side.keys[i % side.keys.length]!),
        teardown: (side) => side.close(),
      }),
      consumeImpl('rate-limiter-flexible', 'peer', () => flexibleMemory()),
      asyncImpl({ impl: 'bare-await', role: 'baseline', fn: (_state: undefined, i) => i }),
    ],
  });
}

/** The name of {@link memorySyncLimiterCase}. */
export const MEMORY_SYNC_CASE = 'rate limit decision, memory, synchronous call';

/**
 * Memory, synchronous (the issue's ≤ 0.2× target): one admitted decision per call, no await on either side —
 * ours `limiter.tryConsume(key)` (fixed window, and GCRA as context) vs `RateLimiterMemory.consume(key)`
 * called without `await` (its decision runs synchronously inside the promise executor; the promise goes to
 * the sink and never rejects under the 1e9 limit). The table's ratio is ours ÷ the peer; ratios against the
 * target: {@link formatRatios} with {@link LIMITER_TARGETS}`.memory` on the results.
 */
export function memorySyncLimiterCase(): BenchCase {
  const tryConsume = (side: LimiterSide<RateLimiter>, i: number) =>
    side.limiter.tryConsume(side.keys[i % side.keys.length]!);
  return {
    name: MEMORY_SYNC_CASE,
    notes: (results) => formatRatios(results, LIMITER_TARGETS.memory),
    impls: [
      impl({
        impl: 'ours',
        role: 'ours',
        setup: () => oursMemory(),
        fn: tryConsume,
        teardown: (side) => void side.close(),
      }),
      impl({
        impl: 'ours-gcra',
        role: 'ours',
        setup: () => oursMemory(benchRule(BENCH_LIMIT, 'gcra')),
        fn: tryConsume,
        teardown: (side) => void side.close(),
      }),
      impl({
        impl: 'rate-limiter-flexible',
        role: 'peer',
        setup: () => flexibleMemory(),
        fn: (side, i) => side.limiter.consume(side.keys[i % side.keys.length]!),
      }),
    ],
  };
}

function inFlightLabel(concurrency: number): string {
  return concurrency <= 1 ? 'sequential' : `${String(concurrency)} in flight`;
}

/** Redis: one admitted decision, sequential or `concurrency` in flight; ours vs `RateLimiterRedis.consume`. */
export function redisLimiterCase(concurrency: number): AsyncBenchCase {
  return asyncCase({
    name: `rate limit decision, Redis, ${inFlightLabel(concurrency)}, admitted`,
    concurrency,
    unavailable: redisUnavailable,
    notes: (_state, results) =>
      [formatRatios(results, LIMITER_TARGETS.redis), formatFloor(results)].filter((t) => t !== '').join('\n'),
    impls: [
      consumeImpl('ours', 'ours', () => oursRedis()),
      consumeImpl('rate-limiter-flexible', 'peer', () => flexibleRedis()),
      // The floor of a sequential decision; in flight, PINGs pipeline while decisions batch: no floor there.
      ...(concurrency <= 1 ? [redisRoundTrip()] : []),
    ],
  });
}

/** The impl name of the Redis cases' floor row. */
export const ROUND_TRIP = 'round-trip (PING)';

/**
 * The floor of a Redis decision: one `PING` round trip on an ioredis client with its defaults (the peer's
 * client), role `baseline`. A decision that takes one round trip — ours and the peer's — cannot be cheaper.
 */
function redisRoundTrip() {
  return asyncImpl<Redis>({
    impl: ROUND_TRIP,
    role: 'baseline',
    setup: async () => {
      const client = new Redis(redisBenchUrl(), { lazyConnect: true });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    fn: (client) => client.ping(),
    teardown: (client) => {
      client.disconnect();
    },
  });
}

/**
 * The floor line of a Redis case, one per peer row: the round trip's ns/op ÷ the peer's, the lowest ratio a
 * decision of one round trip can reach; `''` without a {@link ROUND_TRIP} row.
 */
export function formatFloor(results: readonly ImplResult[]): string {
  const floor = results.find((row) => row.impl === ROUND_TRIP);
  if (floor === undefined) return '';
  return results
    .filter((row) => row.role === 'peer')
    .map(
      (peer) =>
        `floor: one round trip ${ns(floor.nsPerOp)} ns/op ÷ ${peer.impl} ${ns(peer.nsPerOp)} ns/op = ` +
        `${(floor.nsPerOp / peer.nsPerOp).toFixed(3)}× (no decision of one round trip goes below it)`,
    )
    .join('\n');
}

/** PostgreSQL: one admitted decision, sequential or `concurrency` in flight; ours vs `RateLimiterPostgres.consume`. */
export function postgresLimiterCase(concurrency: number): AsyncBenchCase {
  return asyncCase({
    name: `rate limit decision, PostgreSQL, ${inFlightLabel(concurrency)}, admitted`,
    concurrency,
    unavailable: pgUnavailable,
    notes: (_state, results) => formatRatios(results, LIMITER_TARGETS.postgres),
    impls: [
      consumeImpl('ours', 'ours', () => oursPostgres()),
      consumeImpl('rate-limiter-flexible', 'peer', () => flexiblePostgres()),
    ],
  });
}
