/**
 * Control bus: the rate-limit and pool routes of protection on a real fastify server over a real foundation
 * (fake clock: every remaining count and reset time is exact) whose config names three policies — `api` (its
 * own token bucket, 2 per minute), `github` (the shared named rule `api_calls`) and `db` (a pool of at most 2,
 * its resource given in code). Keys are taken through `foundation.protect(…).execute(fn, { key })`, then
 * listed and reset through the API with and without the token. Every refused request is checked for its
 * status and catalog code AND for leaving every limiter's keys untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Foundation } from '../../src/app/foundation.js';
import { isFoundationError } from '../../src/errors/index.js';
import { FakeClock, rejection } from '../../src/testing/index.js';
import { busRequests, expectRefusedWithoutChange } from '../helpers/bus-requests.js';
import type { RunningControlBus } from '../helpers/control-bus.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';
import { IDLE_POOL, LIMITS_PROTECTION, provideDbPool } from '../helpers/limits-scenario.js';

const TOKEN = 'protection-limits-api-token';

const TOKEN_BUCKET = (limit: number, windowMs: number) => ({ algorithm: 'token_bucket', limit, windowMs });

/** The named rules nobody uses (the defaults besides `api_calls`), as listed with keys asked. */
const UNUSED_RULES = [
  {
    kind: 'rule',
    name: 'db_queries',
    rule: TOKEN_BUCKET(500, 60_000),
    store: 'memory',
    configured: true,
    policies: [],
    keys: [],
  },
  {
    kind: 'rule',
    name: 'file_operations',
    rule: TOKEN_BUCKET(10, 1000),
    store: 'memory',
    configured: true,
    policies: [],
    keys: [],
  },
];

describe('control bus: protection limits and pools routes', () => {
  let running: RunningControlBus;
  let foundation: Foundation;

  const { call, post, json } = busRequests(() => running.url, TOKEN);
  const reset = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    post('/api/protection/limits/reset', body, headers);
  /** A reset that must succeed: expects 200 and returns the body. */
  const resetOk = async (body: object): Promise<unknown> => {
    const response = await reset(JSON.stringify(body));
    expect(response.status).toBe(200);
    return response.json();
  };
  const remaining = async (policy: string, key: string): Promise<number> =>
    (await foundation.protection.rateLimiter(policy).status(key)).remaining;

  /** Runs `request`, expects the problem, and checks that no limiter's keys and no pool moved. */
  const refusedWithoutChange = async (
    request: () => Promise<Response>,
    status: number,
    code: string,
  ): Promise<void> => {
    await expectRefusedWithoutChange(request, status, code, async () => ({
      limits: await json('/api/protection/limits'),
      pools: await json('/api/protection/pools'),
    }));
    expect(await remaining('api', 'user-1')).toBe(0);
  };

  beforeAll(async () => {
    running = await startFoundationBus(
      {
        name: 'protection-limits-node',
        store: 'memory:',
        clock: new FakeClock(),
        config: { defaults: { foundation: { protection: LIMITS_PROTECTION } } },
      },
      { bus: { token: TOKEN }, prepare: provideDbPool },
    );
    foundation = running.foundation;

    const api = foundation.protect('api');
    expect(await api.execute(() => 'one', { key: 'user-1' })).toBe('one');
    expect(await api.execute(() => 'two', { key: 'user-1' })).toBe('two');
    const refused = await rejection(api.execute(() => 'never runs', { key: 'user-1' }));
    expect(isFoundationError(refused, 'FND_PROTECT_LIMIT_EXCEEDED')).toBe(true);
    expect(await api.execute(() => 'other', { key: 'user-2' })).toBe('other');
    expect(await foundation.protect('github').execute(() => 'gh', { key: 'octo' })).toBe('gh');
    expect(await foundation.protect('db').execute(() => 'pooled')).toBe('pooled');
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  const apiCalls = (keys?: unknown[]) => ({
    kind: 'rule',
    name: 'api_calls',
    rule: TOKEN_BUCKET(100, 60_000),
    store: 'memory',
    configured: true,
    policies: ['github'],
    ...(keys === undefined ? {} : { keys }),
  });
  const ownApi = (keys?: unknown[]) => ({
    kind: 'policy',
    name: 'api',
    rule: TOKEN_BUCKET(2, 60_000),
    store: 'memory',
    configured: true,
    policies: ['api'],
    ...(keys === undefined ? {} : { keys }),
  });
  const OCTO = { key: 'octo', remaining: 99, retryAfterMs: 0, resetMs: 600 };
  // An exhausted key (2 per minute): remaining 0, one unit back in 30 s, the full allowance in 1 min.
  const USER_1 = { key: 'user-1', remaining: 0, retryAfterMs: 30_000, resetMs: 60_000 };
  const USER_2 = { key: 'user-2', remaining: 1, retryAfterMs: 0, resetMs: 30_000 };

  it('GET /api/protection adds every limiter (first keys) and every pool to the policies', async () => {
    const body = (await json('/api/protection')) as {
      policies: Array<{ name: string; layers: unknown[] }>;
      limiters: unknown;
      pools: unknown;
    };
    expect(body.policies.map((policy) => policy.name)).toEqual(['api', 'db', 'github']);
    expect(body.policies[0]?.layers).toEqual([
      {
        kind: 'rateLimit',
        limiter: 'api',
        shared: false,
        rule: TOKEN_BUCKET(2, 60_000),
        onLimit: 'reject',
        admitted: 3,
        refused: 1,
      },
    ]);
    expect(body.policies[2]?.layers).toEqual([
      {
        kind: 'rateLimit',
        limiter: 'api_calls',
        shared: true,
        rule: TOKEN_BUCKET(100, 60_000),
        onLimit: 'reject',
        admitted: 1,
        refused: 0,
      },
    ]);
    expect(body.limiters).toEqual([apiCalls([OCTO]), ...UNUSED_RULES, ownApi([USER_1, USER_2])]);
    expect(body.pools).toEqual([IDLE_POOL]);
  });

  it('GET /api/protection/limits lists up to ?keys= keys per limiter (default 100)', async () => {
    expect(await json('/api/protection/limits')).toEqual({
      limiters: [apiCalls([OCTO]), ...UNUSED_RULES, ownApi([USER_1, USER_2])],
    });
    expect(await json('/api/protection/limits?keys=1')).toEqual({
      limiters: [apiCalls([OCTO]), ...UNUSED_RULES, ownApi([USER_1])],
    });
    const withoutKeys = UNUSED_RULES.map((limiter) =>
      Object.fromEntries(Object.entries(limiter).filter(([field]) => field !== 'keys')),
    );
    expect(await json('/api/protection/limits?keys=0')).toEqual({
      limiters: [apiCalls(), ...withoutKeys, ownApi()],
    });
    expect(await json('/api/protection/limits?keys=1000')).toEqual(await json('/api/protection/limits'));
  });

  it('GET /api/protection/pools shows a lent resource while a call holds it', async () => {
    expect(await json('/api/protection/pools')).toEqual({ pools: [IDLE_POOL] });
    let release = (): void => undefined;
    const held = foundation.protect('db').execute(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    await expect
      .poll(async () => ((await json('/api/protection/pools')) as { pools: unknown[] }).pools)
      .toEqual([{ ...IDLE_POOL, idle: 0, inUse: 1 }]);
    release();
    await held;
    expect(await json('/api/protection/pools')).toEqual({ pools: [IDLE_POOL] });
  });

  it('refuses malformed ?keys= and other query parameters, changing nothing', async () => {
    for (const query of ['abc', '-1', '1001', '1.5', '', '99999', '1e2', ' 1', '1&keys=2', '1&x=1']) {
      await refusedWithoutChange(
        () => call(`/api/protection/limits?keys=${query}`),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
    }
    await refusedWithoutChange(() => call('/api/protection/limits?limit=5'), 400, 'FND_HTTP_BAD_REQUEST');
    await refusedWithoutChange(() => call('/api/protection/pools?keys=1'), 400, 'FND_HTTP_BAD_REQUEST');
  });

  it('refuses a reset without the token or with a garbage body, changing nothing', async () => {
    const good = JSON.stringify({ policy: 'api', key: 'user-1' });
    await refusedWithoutChange(
      () => reset(good, { authorization: '' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    await refusedWithoutChange(
      () => reset(good, { authorization: 'Bearer wrong-token' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );

    const bad = [
      '[]',
      '[{"policy":"api","key":"user-1"}]',
      '"user-1"',
      'null',
      '{}',
      '{"key":"user-1"}',
      '{"policy":"api"}',
      '{"policy":"api","key":"user-1","force":true}',
      '{"policy":"api","rule":"api_calls","key":"user-1"}',
      '{"policy":"Api","key":"user-1"}',
      '{"policy":"api/x","key":"user-1"}',
      '{"rule":7,"key":"user-1"}',
      '{"policy":"api","key":7}',
      '{"policy":"api","key":""}',
      '{"policy":"api","key":["user-1"]}',
      JSON.stringify({ policy: 'api', key: 'u'.repeat(513) }),
      JSON.stringify({ policy: 'api', key: 'user-1\u0000' }),
      '{not json',
    ];
    for (const body of bad) await refusedWithoutChange(() => reset(body), 400, 'FND_HTTP_BAD_REQUEST');

    for (const body of [
      { rule: 'nope', key: 'user-1' },
      { policy: 'nope', key: 'user-1' },
      // `github` uses the shared rule and `db` has no rate limit: neither has an own limiter
      { policy: 'github', key: 'octo' },
      { policy: 'db', key: 'user-1' },
      // `api` has no named rule
      { rule: 'api', key: 'user-1' },
    ]) {
      await refusedWithoutChange(() => reset(JSON.stringify(body)), 404, 'FND_DATA_NOT_FOUND');
    }
    await refusedWithoutChange(
      () => reset(JSON.stringify({ policy: 'api', key: 'k'.repeat(2000) })),
      413,
      'FND_HTTP_PAYLOAD_TOO_LARGE',
    );
    await refusedWithoutChange(
      () => reset(good, { 'content-type': 'text/plain' }),
      415,
      'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    await refusedWithoutChange(
      () => post('/api/protection/limits/reset?force=1', good),
      400,
      'FND_HTTP_BAD_REQUEST',
    );
  });

  it('POST /api/protection/limits/reset (token) gives a key its full allowance back', async () => {
    expect(await resetOk({ policy: 'api', key: 'user-1' })).toEqual({
      kind: 'policy',
      name: 'api',
      key: 'user-1',
      state: { key: 'user-1', remaining: 2, retryAfterMs: 0, resetMs: 0 },
    });
    expect(await remaining('api', 'user-1')).toBe(2);
    expect(await foundation.protect('api').execute(() => 'admitted', { key: 'user-1' })).toBe('admitted');
    // the other key of the limiter is untouched
    expect(await remaining('api', 'user-2')).toBe(1);

    expect(await resetOk({ rule: 'api_calls', key: 'octo' })).toEqual({
      kind: 'rule',
      name: 'api_calls',
      key: 'octo',
      state: { key: 'octo', remaining: 100, retryAfterMs: 0, resetMs: 0 },
    });
    expect(await json('/api/protection/limits')).toEqual({
      limiters: [
        apiCalls([]),
        ...UNUSED_RULES,
        ownApi([{ key: 'user-1', remaining: 1, retryAfterMs: 0, resetMs: 30_000 }, USER_2]),
      ],
    });
  });
});
