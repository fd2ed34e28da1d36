/**
 * Child process of the multi-process rate limit test: opens a Redis or PostgreSQL rate limit store, prints
 * `ready`, waits for `go` on stdin, then (with `holdMs`) holds every key, then sends `requests` one-unit
 * decisions per key (`inFlight` at a time)
 * and prints one `result <json>` line: per key, how many were admitted and refused, and the smallest
 * retry-after among the refusals. Exits 0.
 *
 * Run: `node --import tsx test/helpers/rate-limit-child.ts '<json ChildPlan>'` (from the repository root).
 *
 * @module
 */
import { createInterface } from 'node:readline';
import { PostgresRateLimitStore } from '../../src/protection/rate-limit/postgres-store.js';
import { RedisRateLimitStore } from '../../src/protection/rate-limit/redis-store.js';
import type { RateLimitRule, RateLimitStore } from '../../src/protection/rate-limit/types.js';
import { Storage } from '../../src/storage/index.js';

/** What the parent asks of one child. */
export interface ChildPlan {
  readonly kind: 'redis' | 'postgres';
  /** Redis URL, or a PostgreSQL URL with `?schema=`. */
  readonly url: string;
  /** Redis key prefix (ignored on PostgreSQL). */
  readonly keyPrefix: string;
  readonly keys: ReadonlyArray<{ readonly key: string; readonly rule: RateLimitRule }>;
  readonly requests: number;
  readonly inFlight: number;
  /** When set, every key is held this long (`store.hold`) right after `go`, before the decisions. */
  readonly holdMs?: number;
}

/** What one child reports per key. */
export interface ChildKeyResult {
  readonly admitted: number;
  readonly refused: number;
  /** Smallest retryAfterMs among refusals (null when none). */
  readonly minRetryAfterMs: number | null;
}

async function hammer(
  store: RateLimitStore,
  key: string,
  rule: RateLimitRule,
  requests: number,
  inFlight: number,
): Promise<ChildKeyResult> {
  let sent = 0;
  let admitted = 0;
  let refused = 0;
  let minRetryAfterMs: number | null = null;
  const worker = async (): Promise<void> => {
    while (sent < requests) {
      sent += 1;
      const d = await store.consume(key, rule, 1);
      if (d.allowed) {
        admitted += 1;
      } else {
        refused += 1;
        minRetryAfterMs = Math.min(minRetryAfterMs ?? d.retryAfterMs, d.retryAfterMs);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { admitted, refused, minRetryAfterMs };
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: rate-limit-child <json plan>');
  const plan = JSON.parse(raw) as ChildPlan;
  let storage: Storage | undefined;
  let store: RateLimitStore;
  if (plan.kind === 'redis') {
    store = new RedisRateLimitStore(plan.url, { keyPrefix: plan.keyPrefix });
  } else {
    storage = new Storage(plan.url);
    await storage.open();
    store = new PostgresRateLimitStore(storage);
  }
  // Connect (and, on PostgreSQL, see the migrations applied) before the start signal.
  for (const { key, rule } of plan.keys) await store.status(key, rule);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'go') break;
  lines.close();
  if (plan.holdMs !== undefined) for (const { key } of plan.keys) await store.hold(key, plan.holdMs);
  const results = await Promise.all(
    plan.keys.map(async ({ key, rule }) => [
      key,
      await hammer(store, key, rule, plan.requests, plan.inFlight),
    ]),
  );
  process.stdout.write(`result ${JSON.stringify(Object.fromEntries(results))}\n`);
  await store.close();
  await storage?.close();
}

await main();
