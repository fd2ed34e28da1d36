/**
 * Test helpers for Redis: the test server's URL, a key prefix per test run (and its cleanup), and
 * `describeRedis`, a `describe` that runs only when the server is reachable (and fails in CI when it is not).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

/** The test server: `FOUNDATION_TEST_REDIS_URL`, else `redis://127.0.0.1:6379`. */
export function redisTestUrl(): string {
  const fromEnv = process.env.FOUNDATION_TEST_REDIS_URL;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'redis://127.0.0.1:6379';
}

/** The URL without a password, for messages. */
function redactedRedisUrl(): string {
  try {
    const url = new URL(redisTestUrl());
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable FOUNDATION_TEST_REDIS_URL)';
  }
}

interface Availability {
  readonly ok: boolean;
  readonly reason: string;
}

/** A client for tests: no retries, no offline queue, errors swallowed (calls still reject). */
export function redisTestClient(): Redis {
  const client = new Redis(redisTestUrl(), {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

async function probe(): Promise<Availability> {
  const client = redisTestClient();
  try {
    await client.connect();
    await client.ping();
    return { ok: true, reason: '' };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    client.disconnect();
  }
}

const availability: Availability = await probe();

/** Whether the test server is reachable (probed once when this module loads). */
export function redisAvailable(): boolean {
  return availability.ok;
}

/**
 * `describe` for suites that need Redis. When the server is unreachable: in CI (`CI=true`) the suite fails
 * with "Redis is required in CI"; elsewhere it is skipped with a visible warning.
 */
export function describeRedis(name: string, fn: () => void): void {
  if (availability.ok) {
    describe(name, fn);
    return;
  }
  const where = redactedRedisUrl();
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('Redis is required in CI', () => {
        throw new Error(`Redis is required in CI: ${where} is unreachable (${availability.reason})`);
      });
    });
    return;
  }
  console.warn(
    `[describeRedis] skipping "${name}": Redis at ${where} is unreachable (${availability.reason})`,
  );
  describe.skipIf(true)(name, fn);
}

/** A fresh key prefix for one test run: `t:<random>:`. */
export function redisTestPrefix(): string {
  return `t:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const client = redisTestClient();
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
