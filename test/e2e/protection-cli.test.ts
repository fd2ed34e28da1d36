/**
 * `foundation protection` as a real CLI process against a running foundation whose config names a policy
 * with a breaker (`payments`) and one without (`pool`): list, a breaker opened by real failures, isolate and
 * reset with and without the token, and refusals that exit with the error code and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { runCliProcess } from '../helpers/cli-process.js';

const TOKEN = 'protection-cli-token';

describe('foundation protection (real CLI processes against a running foundation)', () => {
  let foundation: Foundation;
  let url = '';
  const withToken = { FOUNDATION_TOKEN: TOKEN };
  const state = (): string => foundation.protection.breaker('payments').state();

  beforeAll(async () => {
    foundation = createFoundation({
      name: 'protection-cli-node',
      store: 'memory:',
      config: {
        defaults: {
          foundation: {
            protection: {
              payments: { breaker: { policy: 'consecutive', threshold: 2, openMs: 60_000 } },
              pool: { bulkhead: { maxConcurrent: 2, maxQueue: 1 } },
            },
          },
        },
      },
    });
    foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
    await foundation.start();
    url = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE).url;
  });
  afterAll(async () => {
    await foundation.stop();
  });

  it('lists, isolates and resets; refusals exit 1 (server) or 2 (arguments) and change nothing', async () => {
    const list = await runCliProcess(['protection', '--url', url]);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        'POLICY    BREAKER  LAYERS',
        'payments  closed   breaker closed (0 failures / 0 calls)',
        'pool      -        bulkhead 0/2 running, 0/1 queued',
        '',
      ].join('\n'),
    );

    // two real failures open the breaker
    for (let i = 0; i < 2; i += 1) {
      await foundation
        .protect('payments')
        .execute(() => Promise.reject(new Error('down')))
        .catch(() => undefined);
    }
    const open = await runCliProcess(['protection', 'list', '--json'], { FOUNDATION_URL: url });
    expect(open.code).toBe(0);
    const body = JSON.parse(open.stdout) as { policies: Array<{ name: string; layers: unknown[] }> };
    expect(body.policies[0]?.layers[0]).toMatchObject({ kind: 'breaker', state: 'open', failures: 2 });

    // without the token: refused by the server, nothing changed
    const noToken = await runCliProcess(['protection', 'reset', 'payments', '--url', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('FND_EXTERNAL_AUTHENTICATION_FAILED');
    expect(state()).toBe('open');

    const reset = await runCliProcess(['protection', 'reset', 'payments', '--url', url], withToken);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toBe('reset payments: breaker closed\n');
    expect(state()).toBe('closed');

    const isolate = await runCliProcess([
      'protection',
      'isolate',
      'payments',
      '--json',
      '--url',
      url,
      '--token',
      TOKEN,
    ]);
    expect(isolate.code).toBe(0);
    expect(JSON.parse(isolate.stdout)).toMatchObject({
      name: 'payments',
      action: 'isolate',
      state: 'isolated',
    });
    expect(state()).toBe('isolated');
    const listed = await runCliProcess(['protection', 'list', '--url', url]);
    expect(listed.stdout).toContain('payments  isolated');

    // refusals of the server: unknown policy, no breaker
    const unknown = await runCliProcess(['protection', 'reset', 'nope', '--url', url], withToken);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('FND_DATA_NOT_FOUND');
    const noBreaker = await runCliProcess(['protection', 'isolate', 'pool', '--url', url], withToken);
    expect(noBreaker.code).toBe(1);
    expect(noBreaker.stderr).toContain('FND_PROTECT_INVALID_POLICY');

    // refusals of the arguments: no request sent
    for (const args of [
      ['protection', 'isolate', '--url', url],
      ['protection', 'isolate', 'Pay Ments', '--url', url],
      ['protection', 'reset', 'payments', 'extra', '--url', url],
      ['protection', 'frobnicate', '--url', url],
    ]) {
      const refused = await runCliProcess(args, withToken);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toContain('FND_CLI_INVALID_ARGUMENT');
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }
    expect(state()).toBe('isolated');

    const help = await runCliProcess(['protection', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('foundation protection isolate <name>');
  }, 120_000);
});
