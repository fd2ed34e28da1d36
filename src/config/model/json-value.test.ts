import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../types.js';
import { deepFreeze, isPlainObject, jsonEqual, toJsonValue } from './json-value.js';

const LIMITS = { maxBytes: 65_536, maxDepth: 20 };

const errorOf = (fn: () => unknown): { code: string; message: string; context: Record<string, unknown> } => {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string; context: Record<string, unknown> };
  }
  throw new Error('expected a throw');
};

describe('isPlainObject', () => {
  it('accepts plain and null-prototype objects only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject('x')).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(new (class A {})())).toBe(false);
    expect(isPlainObject(Object.create({}))).toBe(false);
  });
});

describe('toJsonValue', () => {
  it('copies and deeply freezes', () => {
    const input = { a: { b: [1, { c: 'x' }] }, d: null, e: true };
    const out = toJsonValue(input, LIMITS, 'test') as { a: { b: [number, { c: string }] } };
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
    expect(Object.isFrozen(out)).toBe(true);
    expect(Object.isFrozen(out.a.b)).toBe(true);
    expect(Object.isFrozen(out.a.b[1])).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('accepts primitives and normalizes -0', () => {
    expect(toJsonValue('s', LIMITS, 'w')).toBe('s');
    expect(toJsonValue(null, LIMITS, 'w')).toBeNull();
    expect(Object.is(toJsonValue(-0, LIMITS, 'w'), 0)).toBe(true);
    expect(toJsonValue({ a: -0 }, LIMITS, 'w')).toEqual({ a: 0 });
    expect(toJsonValue(Object.create(null), LIMITS, 'w')).toEqual({});
  });

  const getterTrap = (): object => {
    const o = {};
    Object.defineProperty(o, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter invoked');
      },
    });
    return o;
  };

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['an undefined property', { a: { b: undefined } }],
    // eslint-disable-next-line no-sparse-arrays
    ['an array hole', [1, , 3]],
    ['a sized empty array', new Array(2)],
    ['undefined in an array', [undefined]],
    ['a function', { f: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
    ['a bigint', { n: 1n }],
    ['NaN', { n: NaN }],
    ['Infinity', [Infinity]],
    ['-Infinity', -Infinity],
    ['a Date', { d: new Date(0) }],
    ['a Map', new Map()],
    ['a Set', { s: new Set() }],
    ['a RegExp', /x/],
    ['a class instance', { c: new (class Thing {})() }],
    ['a boxed string', { s: new String('x') }],
    ['a boxed number', new Number(1)],
    ['an array subclass', { a: new (class MyArray extends Array {})() }],
    ['a getter', { a: getterTrap() }],
    ['an array getter', Object.defineProperty([1], 0, { get: () => 2, enumerable: true })],
  ])('refuses %s', (_name, value) => {
    const error = errorOf(() => toJsonValue(value, LIMITS, 'update'));
    expect(error.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(error.message).toContain('update');
    expect(error.context['where']).toBe('update');
  });

  it('names the inner path', () => {
    const error = errorOf(() => toJsonValue({ a: { list: [1, { b: NaN }] } }, LIMITS, 'file x'));
    expect(error.message).toContain('a.list[1].b');
    expect(error.context['path']).toBe('a.list[1].b');
  });

  it('never puts values in the message or the context', () => {
    const secret = 'hunter2-secret';
    const cases: unknown[] = [
      { password: secret, bad: undefined },
      { password: secret, n: NaN },
      { list: [secret, 'x'.repeat(100)] },
    ];
    for (const value of cases) {
      const error = errorOf(() => toJsonValue(value, { maxBytes: 60, maxDepth: 20 }, 'w'));
      expect(error.message).not.toContain(secret);
      expect(JSON.stringify(error.context)).not.toContain(secret);
    }
  });

  it.each([['__proto__'], ['constructor'], ['prototype']])('refuses the key %s anywhere', (key) => {
    const value = JSON.parse(`{"a":[{"${key}":1}]}`) as unknown;
    expect(errorOf(() => toJsonValue(value, LIMITS, 'w')).code).toBe('FND_CONFIG_INVALID_PATH');
    expect(errorOf(() => toJsonValue(JSON.parse(`{"${key}":{}}`), LIMITS, 'w')).code).toBe(
      'FND_CONFIG_INVALID_PATH',
    );
  });

  it('refuses cycles', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expect(errorOf(() => toJsonValue(a, { maxBytes: Infinity, maxDepth: 1000 }, 'w')).code).toBe(
      'FND_CONFIG_VALUE_TOO_LARGE',
    );
    const arr: unknown[] = [];
    arr.push({ arr });
    expect(errorOf(() => toJsonValue(arr, LIMITS, 'w')).code).toBe('FND_CONFIG_VALUE_TOO_LARGE');
  });

  it('accepts shared (non-cyclic) references', () => {
    const shared = { x: 1 };
    expect(toJsonValue({ a: shared, b: shared }, LIMITS, 'w')).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('enforces the depth (root is 0)', () => {
    expect(toJsonValue({ a: { b: 1 } }, { maxBytes: 100, maxDepth: 2 }, 'w')).toEqual({ a: { b: 1 } });
    const error = errorOf(() => toJsonValue({ a: { b: { c: 1 } } }, { maxBytes: 100, maxDepth: 2 }, 'w'));
    expect(error.code).toBe('FND_CONFIG_VALUE_TOO_LARGE');
    expect(error.context['limit']).toBe(2);
    expect(toJsonValue(1, { maxBytes: 100, maxDepth: 0 }, 'w')).toBe(1);
    expect(errorOf(() => toJsonValue([1], { maxBytes: 100, maxDepth: 0 }, 'w')).code).toBe(
      'FND_CONFIG_VALUE_TOO_LARGE',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(errorOf(() => toJsonValue(deep, LIMITS, 'w')).code).toBe('FND_CONFIG_VALUE_TOO_LARGE');
  });

  it('enforces the size exactly as JSON.stringify measures it in UTF-8', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const value = JSON.parse(JSON.stringify(raw)) as unknown;
        fc.pre(!/"(__proto__|constructor|prototype)":/.test(JSON.stringify(value)));
        const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
        expect(toJsonValue(value, { maxBytes: size, maxDepth: 1000 }, 'w')).toEqual(value);
        if (size > 0) {
          const error = errorOf(() => toJsonValue(value, { maxBytes: size - 1, maxDepth: 1000 }, 'w'));
          expect(error.code).toBe('FND_CONFIG_VALUE_TOO_LARGE');
          expect(error.context['limit']).toBe(size - 1);
        }
      }),
    );
  });

  it('stops early on a huge string', () => {
    const error = errorOf(() => toJsonValue({ s: 'x'.repeat(10_000_000) }, LIMITS, 'w'));
    expect(error.code).toBe('FND_CONFIG_VALUE_TOO_LARGE');
    expect(toJsonValue({ s: 'é'.repeat(10) }, { maxBytes: 28, maxDepth: 2 }, 'w')).toEqual({
      s: 'é'.repeat(10),
    });
    expect(errorOf(() => toJsonValue({ s: 'é'.repeat(10) }, { maxBytes: 27, maxDepth: 2 }, 'w')).code).toBe(
      'FND_CONFIG_VALUE_TOO_LARGE',
    );
  });
});

describe('deepFreeze', () => {
  it('freezes recursively and returns the value', () => {
    const v = { a: [{ b: 1 }], c: { d: {} } };
    expect(deepFreeze(v)).toBe(v);
    expect(Object.isFrozen(v.a[0])).toBe(true);
    expect(Object.isFrozen(v.c.d)).toBe(true);
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBeNull();
    const d = new Date();
    expect(Object.isFrozen(deepFreeze({ d }).d)).toBe(false);
  });
});

describe('jsonEqual', () => {
  it('is structural and ignores key order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual(undefined, null)).toBe(false);
    expect(jsonEqual(undefined, undefined)).toBe(true);
    expect(jsonEqual('1', 1)).toBe(false);
  });

  it('agrees with a canonical serialization (property)', () => {
    const canon = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(canon)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
            )
          : v;
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const x = JSON.parse(JSON.stringify(a)) as JsonValue;
        const y = JSON.parse(JSON.stringify(b)) as JsonValue;
        expect(jsonEqual(x, y)).toBe(JSON.stringify(canon(x)) === JSON.stringify(canon(y)));
        expect(jsonEqual(x, structuredClone(x))).toBe(true);
      }),
    );
  });
});
