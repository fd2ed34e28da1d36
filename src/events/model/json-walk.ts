/**
 * The fast pass of the strict JSON check, shared by `json-check.ts` (the whole check, also exported by the
 * package) and `json-text.ts` (the hot path of event preparation, which reads the text rules off the JSON text
 * instead). Not exported by the package except {@link MAX_JSON_DEPTH}, re-exported by `json-check.ts`.
 *
 * @module
 */

/** Deepest nesting of arrays/objects accepted: the outermost container is depth 1. */
export const MAX_JSON_DEPTH = 64;

/** A character PostgreSQL JSONB cannot store: U+0000, or a surrogate (lone ones are refused). */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what is looked for
export const SUSPECT_CHARS = /[\u0000\ud800-\udfff]/;

// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call
const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * True when `v` is certainly strict JSON (see `json-check.ts`), with `text` including what its strings and
 * keys hold (no character of {@link SUSPECT_CHARS}); without `text`, only its shape. No path, no ancestor
 * tracking: a cycle exceeds the depth limit. False means "not certainly": the slow pass tells why. `-0` is
 * JSON (as 0) but not canonical: false, so the slow pass says so.
 */
export function isStrictJsonValue(v: unknown, depth: number, text: boolean): boolean {
  switch (typeof v) {
    case 'string':
      return !text || !SUSPECT_CHARS.test(v);
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
    for (let i = 0; i < v.length; i++) if (!isStrictJsonValue(v[i], depth + 1, text)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = v as Record<string, unknown>;
  // for…in + hasOwnProperty visits what Object.keys lists (own enumerable string keys) without an array.
  for (const key in record) {
    if (!hasOwnProperty.call(record, key)) continue;
    if (text && SUSPECT_CHARS.test(key)) return false;
    const child = record[key];
    if (child !== undefined && !isStrictJsonValue(child, depth + 1, text)) return false;
  }
  return true;
}
