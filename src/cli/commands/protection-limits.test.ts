import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import type { CliIo } from '../cli-io.js';
import { layerText, ruleText } from './protection-format.js';
import { formatLimitReset, formatLimits, formatPools, keyText } from './protection-limits-format.js';
import { DEFAULT_LISTED_KEYS, parseKeysFlag, parseResetTarget } from './protection-limits.js';
import { protectionCommand } from './protection.js';

function fakeIo(): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, env: {}, out: (l) => lines.push(l), err: (l) => lines.push(l) };
}

async function rejection(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('foundation protection limits|pools|reset-limit: arguments (no request sent)', () => {
  // An unreachable URL: a request would fail with FND_EXTERNAL_NETWORK_ERROR, not the argument error.
  const url = ['--url', 'http://127.0.0.1:9'];

  it.each([
    ['negative --keys', ['limits', '--keys', '-1', ...url]],
    ['fractional --keys', ['limits', '--keys', '1.5', ...url]],
    ['--keys over 1000', ['limits', '--keys', '1001', ...url]],
    ['--keys without a value', ['limits', '--keys', ...url]],
    ['a token on limits', ['limits', '--token', 't', ...url]],
    ['a positional on pools', ['pools', 'db', ...url]],
    ['no --rule nor --policy', ['reset-limit', 'user-1', ...url]],
    ['both --rule and --policy', ['reset-limit', '--rule', 'a', '--policy', 'b', 'user-1', ...url]],
    ['a bad rule name', ['reset-limit', '--rule', 'A', 'user-1', ...url]],
    ['no key', ['reset-limit', '--policy', 'api', ...url]],
    ['two keys', ['reset-limit', '--policy', 'api', 'a', 'b', ...url]],
    ['a 513-character key', ['reset-limit', '--policy', 'api', 'x'.repeat(513), ...url]],
    ['an empty key', ['reset-limit', '--policy', 'api', '--', '', ...url]],
  ])('refuses %s: exit 2 (FND_CLI_INVALID_ARGUMENT), nothing printed', async (_label, args) => {
    const io = fakeIo();
    const error = await rejection(protectionCommand.run(args, io));
    expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
    expect(io.lines).toEqual([]);
  });

  it('parses --keys and the reset target', () => {
    expect(parseKeysFlag(undefined)).toBe(DEFAULT_LISTED_KEYS);
    expect(parseKeysFlag('0')).toBe(0);
    expect(parseKeysFlag('1000')).toBe(1000);
    expect(parseResetTarget({ rule: 'api_calls' }, ['-odd key'])).toEqual({
      kind: 'rule',
      name: 'api_calls',
      key: '-odd key',
    });
    expect(parseResetTarget({ policy: 'api' }, ['k'.repeat(512)])).toEqual({
      kind: 'policy',
      name: 'api',
      key: 'k'.repeat(512),
    });
  });

  it('sends a key starting with "-" after "--" (reaches the network)', async () => {
    const error = await rejection(
      protectionCommand.run(['reset-limit', '--policy', 'api', ...url, '--', '--odd'], fakeIo()),
    );
    expect(isFoundationError(error, 'FND_EXTERNAL_NETWORK_ERROR')).toBe(true);
  });
});

describe('foundation protection limits|pools: formatting', () => {
  it('renders rules, rateLimit and pool layers', () => {
    expect(ruleText({ algorithm: 'token_bucket', limit: 100, windowMs: 60_000, burst: 150 })).toBe(
      'token_bucket 100/1m burst 150',
    );
    expect(ruleText({ algorithm: 'gcra', limit: 5, windowMs: 1500 })).toBe('gcra 5/1500ms');
    expect(ruleText({ algorithm: 'fixed_window', limit: 5, windowMs: 90_000 })).toBe('fixed_window 5/90s');
    expect(ruleText({ algorithm: 'fixed_window', limit: 5, windowMs: 7_200_000 })).toBe('fixed_window 5/2h');
    expect(ruleText(null)).toBe('-');
    expect(
      layerText({ kind: 'rateLimit', limiter: 'api_calls', shared: true, admitted: 12, refused: 3 }),
    ).toBe('rateLimit api_calls (shared) 12 admitted, 3 refused');
    expect(
      layerText({
        kind: 'rateLimit',
        limiter: 'api',
        shared: false,
        rule: { algorithm: 'sliding_window', limit: 2, windowMs: 1000 },
        onLimit: 'wait',
        admitted: 0,
        refused: 0,
      }),
    ).toBe('rateLimit sliding_window 2/1s (own) 0 admitted, 0 refused, waits when limited');
    expect(layerText({ kind: 'pool', inUse: 2, max: 8, maxOverflow: 2, waiting: 0 })).toBe(
      'pool 2/10 in use, 0 waiting',
    );
    expect(
      layerText({
        kind: 'pool',
        inUse: 0,
        max: 2,
        maxOverflow: 0,
        waiting: 3,
        createFailures: 1,
        drained: true,
      }),
    ).toBe('pool 0/2 in use, 3 waiting, 1 failed creation, drained');
  });

  it('escapes and shortens keys (they come from callers)', () => {
    expect(keyText('user-1')).toBe('user-1');
    expect(keyText('\u001b[31mred')).toBe('"\\u001b[31mred"');
    expect(keyText('a\nb')).toBe('"a\\u000ab"');
    expect(keyText('evil\u202etxt')).toBe('"evil\\u202etxt"');
    expect(keyText('two words')).toBe('"two words"');
    expect(keyText('say "hi"')).toBe('"say \\"hi\\""');
    expect(keyText('')).toBe('""');
    expect(keyText('k'.repeat(100))).toBe(`${'k'.repeat(60)}…`);
    expect(keyText(7)).toBe('-');
  });

  it('renders limiters with their keys, pools and a reset', () => {
    const limiters = {
      limiters: [
        {
          kind: 'rule',
          name: 'api_calls',
          rule: { algorithm: 'token_bucket', limit: 100, windowMs: 60_000, burst: 150 },
          store: 'redis',
          configured: false,
          policies: ['github', 'gitlab'],
          keys: [
            { key: 'a', remaining: 0, retryAfterMs: 1200, resetMs: 60_000 },
            { key: 'b', remaining: 5, retryAfterMs: 0, resetMs: 0 },
          ],
        },
      ],
    };
    expect(formatLimits(limiters, 2)).toEqual([
      'LIMITER         RULE                                                 STORE  USED BY        KEYS',
      'rule:api_calls  token_bucket 100/1m burst 150 (removed from config)  redis  github,gitlab  2+',
      '',
      'LIMITER         KEY  REMAINING  RETRY AFTER  FULL IN',
      'rule:api_calls  a    0          2s           1m',
      'rule:api_calls  b    5          -            -',
    ]);
    expect(formatLimits({ limiters: [] }, 20)).toEqual([
      'No rate limiters (configure foundation.rateLimits.rules or a policy with rateLimit).',
    ]);
    expect(
      formatPools({
        pools: [
          {
            policy: 'db',
            size: 5,
            idle: 0,
            inUse: 5,
            waiting: 2,
            creating: 1,
            createFailures: 3,
            destroyFailures: 0,
            max: 4,
            maxOverflow: 2,
            drained: true,
          },
        ],
      }),
    ).toEqual([
      'POLICY        SIZE        IDLE  WAITING  CREATING  FAILURES',
      'db (drained)  5/5 of 4+2  0     2        1         3 create, 0 destroy',
    ]);
    expect(formatPools({})).toEqual(['No pools (configure a policy with pool).']);
    expect(
      formatLimitReset({ kind: 'policy', name: 'api', key: 'x\u0007', state: { remaining: 2 } }),
    ).toEqual(['reset policy:api key "x\\u0007": 2 remaining']);
  });
});
