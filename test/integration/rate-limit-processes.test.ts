/**
 * Shared rate limits across real processes: three child processes hammer the same keys (one per algorithm)
 * on Redis and on PostgreSQL, all starting at one signal. The windows are 10^12 ms long, so the whole run is
 * one window: across the three processes exactly the limit is admitted (never more, and no admission lost),
 * every refusal carries a retry-after, and the store's status afterwards shows nothing left. Then one
 * process holds the keys (a dependency's retry-after) and two others are refused on every one of them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { PostgresRateLimitStore } from '../../src/protection/rate-limit/postgres-store.js';
import { RedisRateLimitStore } from '../../src/protection/rate-limit/redis-store.js';
import type {
  RateLimitAlgorithm,
  RateLimitRule,
  RateLimitStore,
} from '../../src/protection/rate-limit/types.js';
import { Storage } from '../../src/storage/index.js';
import type { ChildKeyResult, ChildPlan } from '../helpers/rate-limit-child.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { describeRedis, dropRedisPrefix, redisTestPrefix, redisTestUrl } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/rate-limit-child.ts', import.meta.url));
const PROCESSES = 3;
const LIMIT = 40;
const REQUESTS = 30;
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token_bucket', 'gcra', 'sliding_window', 'fixed_window'];

interface RunningChild {
  readonly ready: Promise<void>;
  readonly result: Promise<Record<string, ChildKeyResult>>;
  go(): void;
}

function startChild(plan: ChildPlan): RunningChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(plan)], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  let buffer = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  let parsed: Record<string, ChildKeyResult> | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === 'ready') onReady();
      if (line.startsWith('result ')) parsed = JSON.parse(line.slice(7)) as Record<string, ChildKeyResult>;
      newline = buffer.indexOf('\n');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<Record<string, ChildKeyResult>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && parsed !== undefined) resolve(parsed);
      else reject(new Error(`rate limit child exited with ${String(code)}: ${stderr.slice(-2000)}`));
    });
  });
  // A child that dies before `ready` fails the run instead of hanging it.
  const readyOrDead = Promise.race([ready, result.then(() => undefined)]);
  return {
    ready: readyOrDead,
    result,
    go: () => {
      child.stdin.write('go\n');
      child.stdin.end();
    },
  };
}

function keysFor(run: string): Array<{ key: string; rule: RateLimitRule }> {
  return ALGORITHMS.map((algorithm) => ({
    key: `${run}:${algorithm}`,
    rule: { algorithm, limit: LIMIT, windowMs: 1e12 },
  }));
}

async function hammerAndCheck(
  plan: Omit<ChildPlan, 'keys' | 'requests' | 'inFlight'>,
  store: RateLimitStore,
): Promise<void> {
  const keys = keysFor(`mp:${randomBytes(4).toString('hex')}`);
  const children = Array.from({ length: PROCESSES }, () =>
    startChild({ ...plan, keys, requests: REQUESTS, inFlight: 6 }),
  );
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  const results = await Promise.all(children.map((c) => c.result));
  for (const { key, rule } of keys) {
    const per = results.map((r) => r[key]);
    const admitted = per.reduce((sum, r) => sum + (r?.admitted ?? 0), 0);
    const refused = per.reduce((sum, r) => sum + (r?.refused ?? 0), 0);
    expect({ key, admitted, refused }).toEqual({
      key,
      admitted: LIMIT,
      refused: PROCESSES * REQUESTS - LIMIT,
    });
    for (const r of per) if (r !== undefined && r.refused > 0) expect(r.minRetryAfterMs).toBeGreaterThan(0);
    expect(await store.status(key, rule)).toMatchObject({ allowed: true, remaining: 0 });
  }
}

const HOLD_MS = 600_000;

/** One process holds every key; then two others are refused on all of them, with the hold's retry-after. */
async function holdAndCheck(
  plan: Omit<ChildPlan, 'keys' | 'requests' | 'inFlight'>,
  store: RateLimitStore,
): Promise<void> {
  const run = `hold:${randomBytes(4).toString('hex')}`;
  const keys = keysFor(run);
  expect(await store.keys(10, `${run}:`)).toEqual([]);
  const holder = startChild({ ...plan, keys, requests: 0, inFlight: 1, holdMs: HOLD_MS });
  await holder.ready;
  holder.go();
  await holder.result;
  const others = Array.from({ length: 2 }, () => startChild({ ...plan, keys, requests: 5, inFlight: 2 }));
  await Promise.all(others.map((c) => c.ready));
  for (const c of others) c.go();
  const results = await Promise.all(others.map((c) => c.result));
  expect(await store.keys(10, `${run}:`)).toEqual(keys.map((k) => k.key).sort());
  for (const { key, rule } of keys) {
    for (const r of results) {
      expect(r[key]?.admitted).toBe(0);
      expect(r[key]?.refused).toBe(5);
      expect(r[key]?.minRetryAfterMs).toBeGreaterThan(HOLD_MS - 60_000);
      expect(r[key]?.minRetryAfterMs).toBeLessThanOrEqual(HOLD_MS);
    }
    expect(await store.status(key, rule)).toMatchObject({ allowed: false, remaining: 0 });
    await store.reset(key);
    expect(await store.status(key, rule)).toMatchObject({ allowed: true, remaining: LIMIT });
  }
  expect(await store.keys(10, `${run}:`)).toEqual([]);
}

describeRedis('rate limits shared by processes on Redis', () => {
  it('three processes on one key per algorithm admit exactly the limit', { timeout: 120_000 }, async () => {
    const keyPrefix = redisTestPrefix();
    const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix });
    try {
      await hammerAndCheck({ kind: 'redis', url: redisTestUrl(), keyPrefix }, store);
    } finally {
      await store.close();
      await dropRedisPrefix(keyPrefix);
    }
  });

  it('one process holds the keys, the others are refused', { timeout: 120_000 }, async () => {
    const keyPrefix = redisTestPrefix();
    const store = new RedisRateLimitStore(redisTestUrl(), { keyPrefix });
    try {
      await holdAndCheck({ kind: 'redis', url: redisTestUrl(), keyPrefix }, store);
    } finally {
      await store.close();
      await dropRedisPrefix(keyPrefix);
    }
  });
});

describePg('rate limits shared by processes on PostgreSQL', () => {
  /** Runs `check` on a PostgreSQL store in a fresh schema, dropped afterwards. */
  async function onPostgres(
    check: (
      target: { kind: 'postgres'; url: string; keyPrefix: '' },
      store: PostgresRateLimitStore,
    ) => Promise<void>,
  ): Promise<void> {
    const schema = await createTestSchema();
    const storage = new Storage(schema.url);
    await storage.open();
    try {
      const store = new PostgresRateLimitStore(storage);
      await store.open();
      await check({ kind: 'postgres', url: schema.url, keyPrefix: '' }, store);
    } finally {
      await storage.close();
      await schema.drop();
    }
  }

  it('three processes on one key per algorithm admit exactly the limit', { timeout: 120_000 }, () =>
    onPostgres(hammerAndCheck),
  );

  it('one process holds the keys, the others are refused', { timeout: 120_000 }, () =>
    onPostgres(holdAndCheck),
  );
});
