import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfigSource, JsonObject, JsonValue } from '../types.js';
import { jsonEqual } from './json-value.js';
import { type ConfigLayer, layerValues, mergeLayers, sourceOf } from './merge.js';
import { getAt } from './path.js';

const key = fc.constantFrom('a', 'b', 'c');
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
);
const tree: fc.Arbitrary<JsonObject> = fc.letrec<{ obj: JsonObject }>((tie) => ({
  obj: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('obj')), { maxKeys: 3 }),
})).obj;
const SOURCES: ConfigSource[] = ['default', 'file', 'env', 'runtime'];
const layersArb = fc
  .array(tree, { minLength: 0, maxLength: 4 })
  .map((values) => values.map((value, i) => ({ source: SOURCES[i]!, value })));

describe('mergeLayers', () => {
  it('later layers win; objects merge; arrays, leaves and null replace', () => {
    const layers: ConfigLayer[] = [
      { source: 'default', value: { a: { x: 1, y: [1, 2] }, b: { c: 1 }, d: 1, n: { m: 1 } } },
      { source: 'file', value: { a: { y: [3] }, b: 5, n: null } },
      { source: 'env', value: { a: { z: true }, d: { e: 1 } } },
    ];
    expect(mergeLayers(layers)).toEqual({ a: { x: 1, y: [3], z: true }, b: 5, d: { e: 1 }, n: null });
    expect(mergeLayers([])).toEqual({});
  });

  it('never mutates its inputs (property)', () => {
    fc.assert(
      fc.property(layersArb, (layers) => {
        const copies = structuredClone(layers);
        mergeLayers(layers);
        expect(layers).toEqual(copies);
      }),
    );
  });

  it('each leaf of the result comes from the last layer that defines it (property)', () => {
    fc.assert(
      fc.property(layersArb, fc.array(key, { minLength: 1, maxLength: 3 }), (layers, segs) => {
        const merged = mergeLayers(layers);
        const value = getAt(merged, segs);
        const source = sourceOf(layers, segs);
        if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
          const last = layers.filter((l) => getAt(l.value, segs) !== undefined).at(-1);
          expect(last).toBeDefined();
          expect(getAt(last!.value, segs)).toEqual(value);
          expect(source).toBe(last!.source);
        }
        if (source !== undefined && value !== undefined) {
          const layer = layers.findLast((l) => l.source === source)!;
          const own = getAt(layer.value, segs);
          if (own !== undefined && !(typeof own === 'object' && own !== null && !Array.isArray(own))) {
            expect(jsonEqual(own, value)).toBe(true);
          }
        }
        if (value === undefined && source === undefined) {
          expect(layers.every((l) => getAt(l.value, segs) === undefined)).toBe(true);
        }
      }),
    );
  });
});

describe('layerValues', () => {
  it('lists each layer with a value, in order', () => {
    const layers: ConfigLayer[] = [
      { source: 'default', value: { a: { b: 1 } } },
      { source: 'file', value: { c: 1 } },
      { source: 'env', value: { a: { b: null } } },
    ];
    expect(layerValues(layers, ['a', 'b'])).toEqual([
      { source: 'default', value: 1 },
      { source: 'env', value: null },
    ]);
    expect(layerValues(layers, ['x'])).toEqual([]);
  });
});

describe('sourceOf', () => {
  const layers: ConfigLayer[] = [
    { source: 'default', value: { db: { host: 'h', port: 1 }, list: [1], obj: { k: 1 } } },
    { source: 'file', value: { db: { port: 2 }, obj: 7 } },
    { source: 'env', value: { db: {} } },
    { source: 'runtime', value: { list: [2] } },
  ];

  it('gives the last layer with a value', () => {
    expect(sourceOf(layers, ['db', 'host'])).toBe('default');
    expect(sourceOf(layers, ['db', 'port'])).toBe('file');
    expect(sourceOf(layers, ['list'])).toBe('runtime');
    expect(sourceOf(layers, ['nope'])).toBeUndefined();
  });

  it('gives the highest contributor of an object (an empty object contributes nothing)', () => {
    expect(sourceOf(layers, ['db'])).toBe('file');
    expect(sourceOf(layers, [])).toBe('runtime');
  });

  it('gives the layer whose leaf at an ancestor replaced the subtree', () => {
    expect(sourceOf(layers, ['obj', 'k'])).toBe('file');
    expect(sourceOf(layers, ['obj'])).toBe('file');
  });

  it('an object replacing a leaf is its own source', () => {
    const l: ConfigLayer[] = [
      { source: 'default', value: { a: 1 } },
      { source: 'env', value: { a: {} } },
    ];
    expect(sourceOf(l, ['a'])).toBe('env');
  });
});
