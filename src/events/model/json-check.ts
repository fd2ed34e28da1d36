/**
 * Strict JSON check of event data and metadata: a value passes only when `JSON.stringify` then
 * `JSON.parse` gives back the same value on every store (memory, SQLite text, PostgreSQL JSONB).
 *
 * Accepted: strings, finite numbers, booleans, `null`, arrays, and plain objects (prototype
 * `Object.prototype` or `null`) whose property values are accepted or `undefined` (dropped, as
 * `JSON.stringify` does). Rejected: functions, symbols, BigInt, `undefined` (at the top or inside an array,
 * including holes), NaN and ±Infinity, cycles, any other object (Date, Map, Set, Buffer, class instances,
 * boxed primitives), nesting deeper than {@link MAX_JSON_DEPTH} containers, and strings or keys holding
 * U+0000 or a lone surrogate (PostgreSQL JSONB cannot store them). Throwing getters and proxies are
 * reported, never thrown through. `-0` is accepted but is not canonical: JSON turns it into `0`
 * ({@link checkJson} says so, so that the stored value and the one handed back agree).
 *
 * @module
 */
import { isStrictJsonValue, MAX_JSON_DEPTH, SUSPECT_CHARS } from './json-walk.js';

export { MAX_JSON_DEPTH } from './json-walk.js';

/** Why a value is not JSON, and where (`data.items[2].at`). */
export interface JsonProblem {
  /** Where the problem is, e.g. `data.items[2].at`. */
  readonly path: string;
  /** What is wrong there, e.g. `undefined is not JSON`. */
  readonly reason: string;
}

/**
 * Why a string cannot be stored as JSON text everywhere (`contains U+0000`, `contains a lone surrogate`),
 * or `undefined` when it can.
 */
export function textProblem(s: string): string | undefined {
  if (!SUSPECT_CHARS.test(s)) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains U+0000';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return 'contains a lone surrogate';
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone surrogate';
  }
  return undefined;
}

function renderPath(root: string, keys: readonly (string | number)[]): string {
  let out = root;
  for (const k of keys) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(k)) out += `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}

/**
 * Walks `value` and returns the first reason it is not strict JSON (see the module doc), or `undefined` when
 * it is. `root` prefixes the reported path (`data`, `metadata`). A fast pass handles valid values; the
 * detailed walk (path, cycle detection) runs only when it finds a problem.
 */
export function findNonJson(value: unknown, root: string): JsonProblem | undefined {
  const checked = checkJson(value, root);
  return checked === NEGATIVE_ZERO ? undefined : checked;
}

/** What {@link checkJson} answers for strict JSON holding a `-0` somewhere (JSON turns it into `0`). */
export const NEGATIVE_ZERO = 'negative-zero';

/**
 * {@link findNonJson}, telling strict JSON that holds a `-0` ({@link NEGATIVE_ZERO}: `JSON.parse` of its text
 * is the canonical value) from canonical JSON (`undefined`).
 */
export function checkJson(value: unknown, root: string): JsonProblem | typeof NEGATIVE_ZERO | undefined {
  try {
    if (isStrictJsonValue(value, 0, true)) return undefined;
  } catch {
    // A throwing getter or proxy: diagnosed below.
  }
  return diagnose(value, root);
}

function diagnose(value: unknown, root: string): JsonProblem | typeof NEGATIVE_ZERO | undefined {
  const keys: (string | number)[] = [];
  const ancestors: object[] = [];
  const seen = { negativeZero: false };

  const visit = (v: unknown): string | undefined => {
    switch (typeof v) {
      case 'string':
        return textProblem(v);
      case 'boolean':
        return undefined;
      case 'number':
        if (!Number.isFinite(v)) return `${String(v)} is not a JSON number`;
        if (v === 0 && 1 / v < 0) seen.negativeZero = true;
        return undefined;
      case 'undefined':
        return 'undefined is not JSON';
      case 'function':
      case 'symbol':
      case 'bigint':
        return `a ${typeof v} is not JSON`;
      default:
        break;
    }
    if (v === null) return undefined;
    const obj = v as object;
    if (ancestors.includes(obj)) return 'circular reference';
    if (ancestors.length >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH}`;
    if (Array.isArray(obj)) {
      ancestors.push(obj);
      for (let i = 0; i < obj.length; i++) {
        keys.push(i);
        const problem = visit(obj[i]);
        if (problem !== undefined) return problem;
        keys.pop();
      }
      ancestors.pop();
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) return `a ${describe(obj)} is not a plain JSON object`;
    ancestors.push(obj);
    const record = obj as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      keys.push(key);
      const keyProblem = textProblem(key);
      if (keyProblem !== undefined) return `key ${keyProblem}`;
      const child = record[key];
      if (child !== undefined) {
        const problem = visit(child);
        if (problem !== undefined) return problem;
      }
      keys.pop();
    }
    ancestors.pop();
    return undefined;
  };

  let reason: string | undefined;
  try {
    reason = visit(value);
  } catch (error) {
    reason = `reading the value threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (reason !== undefined) return { path: renderPath(root, keys), reason };
  return seen.negativeZero ? NEGATIVE_ZERO : undefined;
}
