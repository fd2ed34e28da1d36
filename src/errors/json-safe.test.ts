import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, toJsonSafe, toJsonSafeRecord } from './json-safe.js';

describe('toJsonSafe', () => {
  it('is JSON-stable and idempotent for any value (property)', () => {
    fc.assert(
      fc.property(
        fc.anything({
          maxDepth: 4,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
        (value) => {
          const safe = toJsonSafe(value);
          expect(JSON.parse(JSON.stringify(safe))).toEqual(safe);
          expect(toJsonSafe(safe)).toEqual(safe);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('converts the awkward values', () => {
    expect(toJsonSafe(-0)).toBe(0);
    expect(toJsonSafe(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(toJsonSafe(10n ** 30n)).toBe('1000000000000000000000000000000');
    expect(toJsonSafe(() => 1)).toBe('[Function anonymous]');
    expect(toJsonSafe(new Date(Number.NaN))).toBe('Invalid Date');
    expect(toJsonSafe(Object(5))).toBe(5);
    expect(toJsonSafe(Object('ab'))).toBe('ab');
    expect(toJsonSafe(/a+/g)).toBe('/a+/g');
    expect(toJsonSafe({ toJSON: () => ({ as: 'json' }) })).toEqual({ as: 'json' });
    expect(toJsonSafe(Object.assign(new TypeError('bad'), { code: 'E_BAD' }))).toEqual({
      name: 'TypeError',
      message: 'bad',
      code: 'E_BAD',
    });
    expect(toJsonSafe(Buffer.from('secret'))).toBe('[Buffer(6)]');
  });

  it('keeps shared (non-circular) references and marks circular ones', () => {
    const shared = { v: 1 };
    expect(toJsonSafe({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
    const list: unknown[] = [1];
    list.push(list);
    expect(toJsonSafe(list)).toEqual([1, '[Circular]']);
  });

  it('treats __proto__ as an ordinary key', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    const safe = toJsonSafe(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(Object.hasOwn(safe, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives throwing getters and revoked proxies', () => {
    const getter = {
      ok: 1,
      get boom(): never {
        throw new Error('getter');
      },
    };
    expect(toJsonSafe(getter)).toEqual({ ok: 1, boom: '[Unserializable]' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(toJsonSafe({ proxy })).toEqual({ proxy: '[Unserializable]' });
  });

  it('bounds depth, string length, array length and key count', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    let node = toJsonSafe(deep, { maxDepth: 3 });
    for (let i = 0; i < 3; i++) node = (node as Record<string, unknown>).d as typeof node;
    expect(node).toBe('[Truncated]');

    const long = toJsonSafe('x'.repeat(10_000), { maxStringLength: 100 }) as string;
    expect(long).toHaveLength(100);
    expect(long.endsWith('…[truncated]')).toBe(true);

    const arr = toJsonSafe(
      Array.from({ length: 500 }, (_, i) => i),
      { maxArrayLength: 10 },
    ) as unknown[];
    expect(arr).toHaveLength(10);
    expect(arr[9]).toBe('[491 more items]');

    const obj = toJsonSafe(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])), {
      maxKeys: 5,
    }) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['k0', 'k1', 'k2', 'k3', '[truncated]']);
    expect(obj['[truncated]']).toBe('46 more keys');
  });
});

describe('redaction', () => {
  it('matches the secret key names', () => {
    for (const key of [
      'password',
      'PASS',
      'userPassword',
      'client_secret',
      'token',
      'refresh_token',
      'apiKey',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of [
      'api-key',
      'API_KEY',
      'authorization',
      'Cookie',
      'set-cookie',
      'credentials',
      'privateKey',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['user', 'id', 'host', 'port', 'count', 'name'])
      expect(isSecretKey(key), key).toBe(false);
  });

  it('redacts whole values, nested ones included, unless disabled', () => {
    const record = {
      user: 'a',
      auth: { password: { nested: 'x' } },
      list: [{ token: 't' }],
      headers: { Cookie: 'c' },
    };
    expect(toJsonSafeRecord(record)).toEqual({
      user: 'a',
      auth: { password: REDACTED },
      list: [{ token: REDACTED }],
      headers: { Cookie: REDACTED },
    });
    expect(toJsonSafeRecord(record, { redact: false })).toEqual(record);
  });

  it('gives {} for anything that is not a record', () => {
    for (const value of [null, undefined, 'x', 1, [1, 2]]) expect(toJsonSafeRecord(value)).toEqual({});
  });
});
