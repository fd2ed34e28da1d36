/**
 * Control bus: the protection routes on a real fastify server over a real foundation whose config names two
 * policies — `payments` (a consecutive breaker that opens after 2 failures) and `pool` (bulkhead and adaptive
 * limiter, no breaker). The breaker is opened by real failures through `foundation.protect('payments')`, then
 * reset and isolated through the API with and without the token. Every refused request is checked for its
 * status and catalog code AND for leaving every policy's state untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Foundation } from '../../src/app/foundation.js';
import { isFoundationError } from '../../src/errors/index.js';
import type { PolicyListing } from '../../src/protection/protect.js';
import { rejection } from '../../src/testing/index.js';
import { busRequests, expectRefusedWithoutChange } from '../helpers/bus-requests.js';
import type { RunningControlBus } from '../helpers/control-bus.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const TOKEN = 'protection-api-token';

const PROTECTION = {
  payments: { breaker: { policy: 'consecutive', threshold: 2, openMs: 60_000 } },
  pool: { bulkhead: { maxConcurrent: 2, maxQueue: 1 }, adaptive: { algorithm: 'aimd', initialLimit: 4 } },
};

interface ActionBody {
  name: string;
  action: string;
  state: string;
  policy: PolicyListing;
}

describe('control bus: protection routes', () => {
  let running: RunningControlBus;
  let foundation: Foundation;

  const { call, post, json } = busRequests(() => running.url, TOKEN);
  const policies = async (): Promise<PolicyListing[]> =>
    ((await json('/api/protection')) as { policies: PolicyListing[] }).policies;
  const breakerOf = (listing: PolicyListing | undefined): Record<string, unknown> | undefined =>
    listing?.layers.find((layer) => layer.kind === 'breaker');
  const fail = (): Promise<unknown> =>
    rejection(
      foundation.protect('payments').execute(() => {
        throw new Error('dependency down');
      }),
    );

  /** The listings without the fields that move with time alone (an open breaker's countdown). */
  const stable = async (): Promise<unknown> =>
    (await policies()).map((policy) => ({
      ...policy,
      layers: policy.layers.map((layer) =>
        Object.fromEntries(
          Object.entries(layer).filter(([key]) => key !== 'retryAfterMs' && key !== 'openUntil'),
        ),
      ),
    }));

  /** Runs `request`, expects the problem, and checks that no policy's state moved. */
  const refusedWithoutChange = (request: () => Promise<Response>, status: number, code: string) =>
    expectRefusedWithoutChange(request, status, code, async () => ({
      policies: await stable(),
      breaker: foundation.protection.breaker('payments').state(),
    }));

  beforeAll(async () => {
    running = await startFoundationBus(
      {
        name: 'protection-node',
        store: 'memory:',
        config: { defaults: { foundation: { protection: PROTECTION } } },
      },
      { bus: { token: TOKEN } },
    );
    foundation = running.foundation;
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  it('GET /api/protection lists every policy with its layers’ live state', async () => {
    const listed = await policies();
    expect(listed.map((policy) => policy.name)).toEqual(['payments', 'pool']);
    const [payments, pool] = listed;
    expect(payments).toMatchObject({ name: 'payments', configured: true });
    expect(breakerOf(payments)).toMatchObject({ kind: 'breaker', state: 'closed', policy: 'consecutive' });
    expect(pool?.layers.map((layer) => layer.kind)).toEqual(['adaptive', 'bulkhead']);
    expect(pool?.layers[1]).toMatchObject({ kind: 'bulkhead', maxConcurrent: 2, maxQueue: 1, running: 0 });

    const one = await call('/api/protection/pool');
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(pool);
  });

  it('shows a breaker opened by real failures; reset needs the token, then closes it', async () => {
    await fail();
    await fail();
    const refused = await rejection(foundation.protect('payments').execute(() => 'never runs'));
    expect(isFoundationError(refused, 'FND_PROTECT_CIRCUIT_OPEN')).toBe(true);

    const open = await call('/api/protection/payments');
    expect(open.status).toBe(200);
    const listing = (await open.json()) as PolicyListing;
    expect(breakerOf(listing)).toMatchObject({ state: 'open' });
    expect(breakerOf(listing)?.retryAfterMs).toBeGreaterThan(0);

    await refusedWithoutChange(
      () => post('/api/protection/payments/reset', undefined, { authorization: '' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    await refusedWithoutChange(
      () => post('/api/protection/payments/reset', undefined, { authorization: 'Bearer wrong-token' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    expect(foundation.protection.breaker('payments').state()).toBe('open');

    const reset = await post('/api/protection/payments/reset');
    expect(reset.status).toBe(200);
    const body = (await reset.json()) as ActionBody;
    expect(body).toMatchObject({ name: 'payments', action: 'reset', state: 'closed' });
    expect(breakerOf(body.policy)).toMatchObject({ state: 'closed', failures: 0 });
    expect(await foundation.protect('payments').execute(() => 'ok')).toBe('ok');
  });

  it('isolates a breaker (every call refused) until a reset; both accept an empty JSON object', async () => {
    await refusedWithoutChange(
      () => post('/api/protection/payments/isolate', '{}', { authorization: '' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    const isolate = await post('/api/protection/payments/isolate', '{}');
    expect(isolate.status).toBe(200);
    expect(await isolate.json()).toMatchObject({ name: 'payments', action: 'isolate', state: 'isolated' });
    const refused = await rejection(foundation.protect('payments').execute(() => 'never runs'));
    expect(isFoundationError(refused, 'FND_PROTECT_CIRCUIT_OPEN')).toBe(true);
    expect(breakerOf((await policies())[0])).toMatchObject({ state: 'isolated' });

    // isolating again is idempotent
    const again = await post('/api/protection/payments/isolate');
    expect(((await again.json()) as ActionBody).state).toBe('isolated');

    // the state changes are events of the store
    await expect
      .poll(
        async () => (await foundation.events.query({ types: ['protection.*'] })).events.map((e) => e.type),
        { timeout: 10_000 },
      )
      .toEqual(
        expect.arrayContaining([
          'protection.breaker_opened',
          'protection.breaker_closed',
          'protection.breaker_isolated',
        ]),
      );

    const reset = await post('/api/protection/payments/reset', '{}');
    expect(((await reset.json()) as ActionBody).state).toBe('closed');
    expect(await foundation.protect('payments').execute(() => 2)).toBe(2);
  });

  it('refuses garbage names, bodies, queries and a policy without a breaker, changing nothing', async () => {
    await fail(); // one failure recorded: a count a refused request must not move
    for (const name of ['Payments', 'a'.repeat(65), '1abc', 'x%20y', '%00', 'pay$ments', '..%2F..']) {
      await refusedWithoutChange(() => call(`/api/protection/${name}`), 400, 'FND_HTTP_BAD_REQUEST');
      await refusedWithoutChange(() => post(`/api/protection/${name}/isolate`), 400, 'FND_HTTP_BAD_REQUEST');
    }
    await refusedWithoutChange(() => call('/api/protection/nope'), 404, 'FND_DATA_NOT_FOUND');
    await refusedWithoutChange(() => post('/api/protection/nope/reset'), 404, 'FND_DATA_NOT_FOUND');
    await refusedWithoutChange(
      () => post('/api/protection/nope/reset', '{}', { authorization: '' }),
      401,
      'FND_EXTERNAL_AUTHENTICATION_FAILED',
    );
    const noBreaker = await post('/api/protection/pool/isolate');
    const problem = await expectProblem(noBreaker, 400, 'FND_PROTECT_INVALID_POLICY');
    expect(problem.detail).toContain('adaptive, bulkhead');
    await refusedWithoutChange(() => post('/api/protection/pool/reset'), 400, 'FND_PROTECT_INVALID_POLICY');

    for (const body of ['{"force":true}', '[]', '"reset"', '1', '{"a":{}}']) {
      await refusedWithoutChange(
        () => post('/api/protection/payments/isolate', body),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
    }
    await refusedWithoutChange(
      () => post('/api/protection/payments/isolate', '{not json'),
      400,
      'FND_HTTP_BAD_REQUEST',
    );
    await refusedWithoutChange(
      () => post('/api/protection/payments/isolate', 'x', { 'content-type': 'text/plain' }),
      415,
      'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    await refusedWithoutChange(
      () => post('/api/protection/payments/isolate', JSON.stringify({ pad: 'x'.repeat(2000) })),
      413,
      'FND_HTTP_PAYLOAD_TOO_LARGE',
    );
    await refusedWithoutChange(() => call('/api/protection?x=1'), 400, 'FND_HTTP_BAD_REQUEST');
    await refusedWithoutChange(() => call('/api/protection/payments?a=1&a=2'), 400, 'FND_HTTP_BAD_REQUEST');
    await refusedWithoutChange(
      () => post('/api/protection/payments/reset?force=1'),
      400,
      'FND_HTTP_BAD_REQUEST',
    );
    // parameterised routes answer 404 for another method; the list route 405 with its allow header
    await refusedWithoutChange(() => call('/api/protection/payments/isolate'), 404, 'FND_HTTP_NOT_FOUND');
    await refusedWithoutChange(
      () => call('/api/protection', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } }),
      405,
      'FND_HTTP_METHOD_NOT_ALLOWED',
    );
    await refusedWithoutChange(() => post('/api/protection/payments/open'), 404, 'FND_HTTP_NOT_FOUND');
    expect(breakerOf((await policies())[0])).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('follows the config: a policy added at run time is listed', async () => {
    await foundation.config.update('foundation.protection.search', { bulkhead: { maxConcurrent: 5 } });
    const listed = await policies();
    expect(listed.map((policy) => policy.name)).toEqual(['payments', 'pool', 'search']);
    expect(listed[2]?.layers).toEqual([expect.objectContaining({ kind: 'bulkhead', maxConcurrent: 5 })]);
  });
});
