import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../types.js';
import { getAt, joinPath, parsePath, removeAt, setAt, unsetAt } from './path.js';

const codeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
};

const key = fc.constantFrom('a', 'b', 'c', 'd');
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const tree: fc.Arbitrary<JsonObject> = fc.letrec<{ obj: JsonObject }>((tie) => ({
  obj: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('obj')), { maxKeys: 4 }),
})).obj;
const segmentsArb = fc.array(key, { minLength: 1, maxLength: 4 });

describe('parsePath', () => {
  it('splits valid dotted paths', () => {
    expect(parsePath('a')).toEqual(['a']);
    expect(parsePath('limits.max_rps.$x-1')).toEqual(['limits', 'max_rps', '$x-1']);
  });

  it.each([
    ['not a string', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { a: 1 }],
    ['empty', ''],
    ['leading dot', '.a'],
    ['trailing dot', 'a.'],
    ['double dot', 'a..b'],
    ['space', 'a b'],
    ['slash', 'a/b'],
    ['unicode', 'é'],
    ['__proto__', '__proto__'],
    ['nested constructor', 'a.constructor'],
    ['prototype', 'x.prototype.y'],
    ['too long', 'a'.repeat(257)],
    ['segment too long', 'a'.repeat(65)],
    ['too many segments', Array.from({ length: 33 }, () => 'a').join('.')],
  ])('refuses %s', (_name, path) => {
    expect(codeOf(() => parsePath(path))).toBe('FND_CONFIG_INVALID_PATH');
  });

  it('accepts the limits exactly', () => {
    expect(parsePath(Array.from({ length: 32 }, () => 'a').join('.'))).toHaveLength(32);
    expect(parsePath('a'.repeat(64))).toHaveLength(1);
  });

  it('truncates the path in the context to 100 characters', () => {
    try {
      parsePath(`${'a'.repeat(200)}!`);
      expect.unreachable();
    } catch (error) {
      const path = (error as { context: { path: string } }).context.path;
      expect(path.length).toBeLessThanOrEqual(101);
    }
  });

  it('round-trips with joinPath', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Za-z0-9_$-]{1,8}$/), { minLength: 1, maxLength: 8 }),
        (segs) => {
          fc.pre(!segs.some((s) => ['constructor', 'prototype', '__proto__'].includes(s)));
          expect(parsePath(joinPath(segs))).toEqual(segs);
        },
      ),
    );
  });
});

describe('getAt', () => {
  it('walks plain objects by own properties only', () => {
    const t = { a: { b: [1, 2], c: null } };
    expect(getAt(t, ['a', 'b'])).toEqual([1, 2]);
    expect(getAt(t, ['a', 'c'])).toBeNull();
    expect(getAt(t, [])).toBe(t);
    expect(getAt(t, ['a', 'b', '0'])).toBeUndefined();
    expect(getAt(t, ['a', 'c', 'x'])).toBeUndefined();
    expect(getAt(t, ['toString'])).toBeUndefined();
    expect(getAt(t, ['a', 'hasOwnProperty'])).toBeUndefined();
    expect(getAt(null, ['a'])).toBeUndefined();
    expect(getAt(42, ['a'])).toBeUndefined();
    expect(getAt(new Map([['a', 1]]), ['a'])).toBeUndefined();
    expect(getAt(Object.create({ a: 1 }) as unknown, ['a'])).toBeUndefined();
  });
});

describe('setAt', () => {
  it('creates intermediates and replaces non-object intermediates', () => {
    expect(setAt({}, ['a', 'b'], 1)).toEqual({ a: { b: 1 } });
    expect(setAt({ a: 5 }, ['a', 'b'], 1)).toEqual({ a: { b: 1 } });
    expect(setAt({ a: [1] }, ['a', 'b'], 1)).toEqual({ a: { b: 1 } });
    expect(setAt({ a: { c: 2 } }, ['a', 'b'], null)).toEqual({ a: { c: 2, b: null } });
  });

  it('never mutates and shares untouched branches', () => {
    const base = Object.freeze({
      a: Object.freeze({ x: 1 }),
      b: Object.freeze({ y: Object.freeze({ z: 2 }) }),
    });
    const next = setAt(base, ['b', 'y', 'w'], 3);
    expect(base).toEqual({ a: { x: 1 }, b: { y: { z: 2 } } });
    expect(next).toEqual({ a: { x: 1 }, b: { y: { z: 2, w: 3 } } });
    expect(next['a']).toBe(base.a);
    expect(next).not.toBe(base);
  });

  it('refuses an empty path', () => {
    expect(codeOf(() => setAt({}, [], 1))).toBe('FND_CONFIG_INVALID_PATH');
  });

  it('round-trips with getAt and shares siblings (property)', () => {
    fc.assert(
      fc.property(tree, segmentsArb, leaf, (t, segs, v) => {
        const next = setAt(t, segs, v);
        expect(getAt(next, segs)).toEqual(v);
        const first = segs[0]!;
        for (const k of Object.keys(t)) if (k !== first) expect(next[k]).toBe(t[k]);
      }),
    );
  });
});

describe('unsetAt / removeAt', () => {
  it('removes and prunes emptied parents', () => {
    expect(unsetAt({ a: { b: { c: 1 } }, d: 1 }, ['a', 'b', 'c'])).toEqual({ d: 1 });
    expect(unsetAt({ a: { b: 1, c: 2 } }, ['a', 'b'])).toEqual({ a: { c: 2 } });
    expect(unsetAt({ a: 1 }, ['a'])).toEqual({});
  });

  it('returns the same tree when absent', () => {
    const t = { a: { b: 1 }, c: [1] };
    expect(unsetAt(t, ['x'])).toBe(t);
    expect(unsetAt(t, ['a', 'x'])).toBe(t);
    expect(unsetAt(t, ['c', '0'])).toBe(t);
    expect(unsetAt(t, ['a', 'b', 'c'])).toBe(t);
    expect(unsetAt(t, [])).toBe(t);
  });

  it('removeAt keeps emptied parents', () => {
    expect(removeAt({ a: { b: 1 } }, ['a', 'b'])).toEqual({ a: {} });
  });

  it('set then unset leaves no value at the path and keeps the rest (property)', () => {
    fc.assert(
      fc.property(tree, segmentsArb, leaf, (t, segs, v) => {
        const frozen = structuredClone(t);
        const next = unsetAt(setAt(t, segs, v), segs);
        expect(getAt(next, segs)).toBeUndefined();
        expect(t).toEqual(frozen);
        const removed = unsetAt(t, segs);
        expect(getAt(removed, segs)).toBeUndefined();
      }),
    );
  });
});
