/**
 * The one-pass strict-JSON text of event data: `canonicalJson` gives `JSON.stringify`'s text exactly when the
 * slow pass (`checkJson`) finds the value canonical strict JSON with no string it must look at, and nothing
 * otherwise, so every rule of the slow pass still holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJson, MAX_JSON_DEPTH } from './json-check.js';
import { canonicalJson } from './json-text.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
}

describe('canonicalJson', () => {
  it('gives the JSON text of canonical JSON: objects, arrays, numbers, strings, surrogate pairs, null prototypes', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const values: unknown[] = [
      { orderId: 7, customer: 'c-7', amount: 18.75, items: [{ sku: 's', qty: 1 }], ok: true, none: null },
      [1, 'two', [3], { four: 4 }],
      'plain',
      0,
      -1.5e-300,
      { 'key with "quotes" and \\ backslash': 'value with "quotes"', emoji: '😀', é: 'ü' },
      { dropped: undefined, kept: 1 },
      nullProto,
      nested(MAX_JSON_DEPTH),
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });

  it('looks at own keys only, as JSON.stringify does (an enumerable key inherited from Object.prototype)', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = () => 1;
    try {
      const value = { a: [{ b: 1 }] };
      expect(canonicalJson(value)).toBe('{"a":[{"b":1}]}');
    } finally {
      delete proto.polluted;
    }
  });

  it('gives nothing for what is not canonical strict JSON, whatever the reason', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const bad: unknown[] = [
      undefined,
      () => 1,
      Symbol('s'),
      10n,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      { a: [1, -0] },
      [undefined],
      // eslint-disable-next-line no-sparse-arrays -- a hole is what is tested
      [1, , 3],
      new Date(0),
      new Map(),
      [new (class Point {})()],
      cycle,
      nested(MAX_JSON_DEPTH + 1),
      throwing,
      { s: 'a\u0000b' },
      { 'k\u0000': 1 },
      ['\ud800'],
      { ['\udc00']: 1 },
    ];
    for (const value of bad) expect(canonicalJson(value)).toBeUndefined();
  });

  it('leaves text with a \\u escape to the slow pass, which accepts it when it is strict JSON', () => {
    for (const value of [{ s: 'bell \u0007' }, { s: 'a backslash then u: \\u0000' }, ['\\ud800']]) {
      expect(canonicalJson(value)).toBeUndefined();
      expect(checkJson(value, 'data')).toBeUndefined();
    }
  });

  it('property: a text is given only for what checkJson finds canonical, and it is JSON.stringify of it', () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }),
      fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(-0, Number.NaN, '\u0000'))),
      fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 4 }),
    );
    fc.assert(
      fc.property(value, (v) => {
        const json = canonicalJson(v);
        const checked = checkJson(v, 'data');
        if (json !== undefined) {
          expect(checked).toBeUndefined();
          expect(json).toBe(JSON.stringify(v));
        } else if (checked === undefined) {
          // Canonical but not certified by the fast pass: its text holds a \u escape.
          expect(JSON.stringify(v)).toContain('\\u');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
