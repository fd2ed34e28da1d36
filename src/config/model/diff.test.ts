import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../types.js';
import { applyChanges, diffJson } from './diff.js';

const key = fc.constantFrom('a', 'b', 'c', 'd');
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant('s'),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
  fc.constant({}),
);
const tree: fc.Arbitrary<JsonObject> = fc.letrec<{ obj: JsonObject }>((tie) => ({
  obj: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('obj')), { maxKeys: 4 }),
})).obj;

describe('diffJson', () => {
  it('reports leaf changes, additions and removals, sorted', () => {
    const before = { a: { x: 1, y: [1, 2] }, b: 1, c: { d: 1 }, e: 1 };
    const after = { a: { x: 2, y: [1, 2], z: null }, b: { k: 1 }, c: 3, f: [1] };
    expect(diffJson(before, after)).toEqual([
      { path: 'a.x', old: 1, new: 2 },
      { path: 'a.z', old: undefined, new: null },
      { path: 'b', old: 1, new: { k: 1 } },
      { path: 'c', old: { d: 1 }, new: 3 },
      { path: 'e', old: 1, new: undefined },
      { path: 'f', old: undefined, new: [1] },
    ]);
  });

  it('compares arrays whole and objects regardless of key order', () => {
    expect(diffJson({ a: [1, 2] }, { a: [1, 3] })).toEqual([{ path: 'a', old: [1, 2], new: [1, 3] }]);
    expect(diffJson({ a: { x: [{ p: 1, q: 2 }] } }, { a: { x: [{ q: 2, p: 1 }] } })).toEqual([]);
  });

  it('prefixes paths', () => {
    expect(diffJson({ a: { b: 1 } }, { a: { b: 2 } }, 'x')).toEqual([{ path: 'x.a.b', old: 1, new: 2 }]);
    expect(diffJson(1, 2, 'x.y')).toEqual([{ path: 'x.y', old: 1, new: 2 }]);
    expect(diffJson(undefined, { a: 1 }, '')).toEqual([{ path: '', old: undefined, new: { a: 1 } }]);
    expect(diffJson(undefined, undefined)).toEqual([]);
  });

  it('sorts segment by segment', () => {
    const paths = diffJson({ a: {} }, { 'a-b': 1, a: { b: 1, a: 1 }, B: 1 }).map((c) => c.path);
    expect(paths).toEqual(['B', 'a.a', 'a.b', 'a-b']);
  });

  it('is empty for equal trees (property)', () => {
    fc.assert(
      fc.property(tree, (t) => {
        expect(diffJson(t, t)).toEqual([]);
        expect(diffJson(t, structuredClone(t))).toEqual([]);
      }),
    );
  });

  it('applyChanges(a, diffJson(a, b)) equals b (property)', () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        const copy = structuredClone(a);
        expect(applyChanges(a, diffJson(a, b))).toEqual(b);
        expect(a).toEqual(copy);
        const inverse = diffJson(b, a).map((c) => ({ path: c.path, old: c.new, new: c.old }));
        expect(inverse).toEqual(diffJson(a, b));
      }),
    );
  });
});

describe('applyChanges', () => {
  it('sets and removes', () => {
    expect(
      applyChanges({ a: { b: 1, c: 2 } }, [
        { path: 'a.b', old: 1, new: undefined },
        { path: 'x.y', old: undefined, new: 3 },
      ]),
    ).toEqual({ a: { c: 2 }, x: { y: 3 } });
  });

  it('handles the root', () => {
    expect(applyChanges({ a: 1 }, [{ path: '', old: { a: 1 }, new: { b: 2 } }])).toEqual({ b: 2 });
    expect(applyChanges({ a: 1 }, [{ path: '', old: { a: 1 }, new: undefined }])).toEqual({});
    expect(() => applyChanges({ a: 1 }, [{ path: '', old: { a: 1 }, new: 3 }])).toThrow(
      expect.objectContaining({ code: 'FND_CONFIG_INVALID_STRUCTURE' }),
    );
  });
});
