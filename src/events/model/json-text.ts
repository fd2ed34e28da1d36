/**
 * The JSON text of event data in one pass when it is canonical strict JSON (the common case), for the hot path
 * of `prepareEvents`; anything else goes to the slow pass of `json-check.ts`, which keeps every rule. Not
 * exported by the package: an implementation detail of validation.
 *
 * @module
 */
import { MAX_JSON_DEPTH } from './json-check.js';

// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call
const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * The fast pass without the text rules (U+0000, lone surrogates): true when `v` is strict JSON apart from
 * what its strings and keys hold, which `canonicalJson` reads off the JSON text instead.
 */
function isJsonShape(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && (v !== 0 || 1 / v > 0);
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isJsonShape(v[i], depth + 1)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = v as Record<string, unknown>;
  // for…in + hasOwnProperty visits what Object.keys lists (own enumerable string keys) without an array.
  for (const key in record) {
    if (!hasOwnProperty.call(record, key)) continue;
    const child = record[key];
    if (child !== undefined && !isJsonShape(child, depth + 1)) return false;
  }
  return true;
}

/**
 * `JSON.stringify(value)` when `value` is canonical strict JSON (see the module doc), else `undefined` (then
 * `checkJson` tells why, or that it holds a `-0` or a string only the slow pass clears). One walk of
 * the structure, no test of each string and key: `JSON.stringify` writes U+0000 and a lone surrogate as
 * `\u0000` / `\udxxx`, so a text without `\u` has neither (a text with one, e.g. for U+0001 or a
 * backslash followed by `u`, goes to the slow pass). Measured on the benchmark's order payload: walk +
 * stringify ≈ 1.4 → 1.1 µs per event against `checkJson` then `JSON.stringify`.
 */
export function canonicalJson(value: unknown): string | undefined {
  try {
    if (!isJsonShape(value, 0)) return undefined;
    const json = JSON.stringify(value);
    return json.includes('\\u') ? undefined : json;
  } catch {
    // A throwing getter or proxy: diagnosed by the slow pass.
    return undefined;
  }
}
