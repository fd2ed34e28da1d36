/**
 * `foundation protection limits|pools|reset-limit` as real CLI processes against a running foundation (fake
 * clock: every count and time printed is exact) whose config names `api` (its own token bucket, 2 per minute),
 * `github` (the shared named rule `api_calls`) and `db` (a pool of at most 2, its resource given in code): a
 * key exhausted by real calls is listed with nothing remaining, reset with the token (the next call is
 * admitted), refused without it; bad arguments exit 2 without sending anything; every refusal leaves the key
 * as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import { isFoundationError } from '../../src/errors/index.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { runCliProcess } from '../helpers/cli-process.js';

const TOKEN = 'protection-limits-cli-token';

describe('foundation protection limits|pools|reset-limit (real CLI processes)', () => {
  let foundation: Foundation;
  let url = '';
  const withToken = { FOUNDATION_TOKEN: TOKEN };
  const remaining = async (key: string): Promise<number> =>
    (await foundation.protection.rateLimiter('api').status(key)).remaining;

  beforeAll(async () => {
    foundation = createFoundation({
      name: 'protection-limits-cli-node',
      store: 'memory:',
      clock: new FakeClock(),
      config: {
        defaults: {
          foundation: {
            protection: {
              api: { rateLimit: { limit: 2, windowMs: 60_000 } },
              github: { rateLimit: { rule: 'api_calls' } },
              db: { pool: { max: 2 } },
            },
          },
        },
      },
    });
    foundation.protect('db', { pool: { create: () => ({}), destroy: () => undefined } });
    foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
    await foundation.start();
    url = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE).url;
  });
  afterAll(async () => {
    await foundation.stop();
  });

  it('lists limiters with an exhausted key, resets it with the token only; bad arguments exit 2', async () => {
    const api = foundation.protect('api');
    expect(await api.execute(() => 1, { key: 'user-1' })).toBe(1);
    expect(await api.execute(() => 2, { key: 'user-1' })).toBe(2);
    const refused = await api
      .execute(() => 3, { key: 'user-1' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isFoundationError(refused, 'FND_PROTECT_LIMIT_EXCEEDED')).toBe(true);
    expect(await foundation.protect('github').execute(() => 'gh', { key: 'octo' })).toBe('gh');
    expect(await remaining('user-1')).toBe(0);

    const limits = await runCliProcess(['protection', 'limits', '--url', url]);
    expect(limits.stderr).toBe('');
    expect(limits.code).toBe(0);
    expect(limits.stdout).toBe(
      [
        'LIMITER               RULE                 STORE   USED BY  KEYS',
        'rule:api_calls        token_bucket 100/1m  memory  github   1',
        'rule:db_queries       token_bucket 500/1m  memory  -        0',
        'rule:file_operations  token_bucket 10/1s   memory  -        0',
        'policy:api            token_bucket 2/1m    memory  api      1',
        '',
        'LIMITER         KEY     REMAINING  RETRY AFTER  FULL IN',
        'rule:api_calls  octo    99         -            600ms',
        'policy:api      user-1  0          30s          1m',
        '',
      ].join('\n'),
    );

    const json = await runCliProcess(['protection', 'limits', '--keys', '0', '--json'], {
      FOUNDATION_URL: url,
    });
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { limiters: Array<Record<string, unknown>> };
    expect(body.limiters.map((limiter) => `${String(limiter.kind)}:${String(limiter.name)}`)).toEqual([
      'rule:api_calls',
      'rule:db_queries',
      'rule:file_operations',
      'policy:api',
    ]);
    expect(body.limiters.some((limiter) => 'keys' in limiter)).toBe(false);

    const list = await runCliProcess(['protection', 'list', '--url', url]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        'POLICY  BREAKER  LAYERS',
        'api     -        rateLimit token_bucket 2/1m (own) 2 admitted, 1 refused',
        'db      -        pool 0/2 in use, 0 waiting',
        'github  -        rateLimit api_calls (shared) 1 admitted, 0 refused',
        '',
      ].join('\n'),
    );

    // without the token: refused by the server, the key is still exhausted
    const noToken = await runCliProcess([
      'protection',
      'reset-limit',
      '--policy',
      'api',
      'user-1',
      '--url',
      url,
    ]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('FND_EXTERNAL_AUTHENTICATION_FAILED');
    expect(noToken.stdout).toBe('');
    expect(await remaining('user-1')).toBe(0);

    // refusals of the server: no such limiter
    const unknown = await runCliProcess(
      ['protection', 'reset-limit', '--rule', 'nope', 'user-1', '--url', url],
      withToken,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('FND_DATA_NOT_FOUND');
    expect(await remaining('user-1')).toBe(0);

    // refusals of the arguments: nothing sent, nothing changed
    for (const args of [
      ['protection', 'reset-limit', '--policy', 'api'],
      ['protection', 'reset-limit', 'user-1'],
      ['protection', 'reset-limit', '--policy', 'api', '--rule', 'api_calls', 'user-1'],
      ['protection', 'reset-limit', '--policy', 'api', 'k'.repeat(600)],
      ['protection', 'reset-limit', '--policy', 'Api', 'user-1'],
      ['protection', 'reset-limit', '--policy', 'api/x', 'user-1'],
      ['protection', 'reset-limit', '--policy', 'api', 'user-1', 'user-2'],
      ['protection', 'reset-limit', '--policy', 'api', 'user-1', '--force'],
      ['protection', 'limits', '--keys', 'many'],
      ['protection', 'limits', '--keys', '1001'],
      ['protection', 'limits', 'extra'],
      ['protection', 'pools', '--token', TOKEN],
    ]) {
      const refusedArgs = await runCliProcess([...args, '--url', url], withToken);
      expect(refusedArgs.code, args.join(' ').slice(0, 80)).toBe(2);
      expect(refusedArgs.stderr).toContain('FND_CLI_INVALID_ARGUMENT');
      expect(refusedArgs.stderr).not.toMatch(/\n\s+at /);
      expect(refusedArgs.stdout).toBe('');
    }
    expect(await remaining('user-1')).toBe(0);

    const reset = await runCliProcess(
      ['protection', 'reset-limit', '--policy', 'api', 'user-1', '--url', url],
      withToken,
    );
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toBe('reset policy:api key user-1: 2 remaining\n');
    expect(await remaining('user-1')).toBe(2);
    expect(await api.execute(() => 'admitted', { key: 'user-1' })).toBe('admitted');

    const shared = await runCliProcess([
      'protection',
      'reset-limit',
      '--rule',
      'api_calls',
      '--json',
      '--url',
      url,
      '--token',
      TOKEN,
      '--',
      'octo',
    ]);
    expect(shared.code).toBe(0);
    expect(JSON.parse(shared.stdout)).toEqual({
      kind: 'rule',
      name: 'api_calls',
      key: 'octo',
      state: { key: 'octo', remaining: 100, retryAfterMs: 0, resetMs: 0 },
    });

    const help = await runCliProcess(['protection', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('foundation protection reset-limit (--rule NAME | --policy NAME) <key>');
  }, 120_000);

  it('lists the pools with their counts while a call holds a resource', async () => {
    let release = (): void => undefined;
    const held = foundation.protect('db').execute(
      () =>
        new Promise<string>((resolve) => {
          release = () => {
            resolve('done');
          };
        }),
    );
    await expect.poll(() => foundation.protection.pool('db').status().inUse).toBe(1);

    const pools = await runCliProcess(['protection', 'pools', '--url', url]);
    expect(pools.stderr).toBe('');
    expect(pools.code).toBe(0);
    expect(pools.stdout).toBe(
      [
        'POLICY  SIZE      IDLE  WAITING  CREATING  FAILURES',
        'db      1/1 of 2  0     0        0         -',
        '',
      ].join('\n'),
    );
    const list = await runCliProcess(['protection', 'list', '--url', url]);
    expect(list.stdout).toContain('db      -        pool 1/2 in use, 0 waiting\n');

    const json = await runCliProcess(['protection', 'pools', '--json', '--url', url]);
    expect(JSON.parse(json.stdout)).toEqual({
      pools: [
        {
          policy: 'db',
          size: 1,
          idle: 0,
          inUse: 1,
          waiting: 0,
          overflow: 0,
          creating: 0,
          createFailures: 0,
          destroyFailures: 0,
          min: 0,
          max: 2,
          maxOverflow: 0,
          drained: false,
        },
      ],
    });
    release();
    expect(await held).toBe('done');
  }, 60_000);
});
