/**
 * JSON values as configuration holds them: the plain-object test, the checked deep copy every value from
 * outside goes through (`toJsonValue`), deep freezing and structural equality.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { JsonObject, JsonValue } from '../types.js';

/** Whether `value` is a plain object (prototype `Object.prototype` or `null`), not an array. */
export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Limits {@link toJsonValue} enforces. */
export interface JsonLimits {
  /** Largest serialized JSON size, UTF-8 bytes (`Infinity` for none). */
  readonly maxBytes: number;
  /** Deepest nesting: the root is at depth 0, `{ a: { b: 1 } }` has depth 2. */
  readonly maxDepth: number;
}

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_SHOWN_PATH = 200;

function showPath(path: string): string {
  const p = path === '' ? '(root)' : path;
  return p.length > MAX_SHOWN_PATH ? `${p.slice(0, MAX_SHOWN_PATH)}…` : p;
}

function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Walks and copies one value; `bytes` is the running serialized size. */
class JsonCopier {
  bytes = 0;
  readonly ancestors = new Set<object>();

  readonly limits: JsonLimits;
  readonly where: string;

  constructor(limits: JsonLimits, where: string) {
    this.limits = limits;
    this.where = where;
  }

  fail(
    code: 'FND_CONFIG_INVALID_VALUE' | 'FND_CONFIG_VALUE_TOO_LARGE' | 'FND_CONFIG_INVALID_PATH',
    path: string,
    reason: string,
    limit?: number,
  ): FoundationError {
    const shown = showPath(path);
    const context: Record<string, unknown> = { where: this.where, path: shown };
    if (limit !== undefined) context['limit'] = limit;
    return new FoundationError(code, { message: `${this.where}: ${shown}: ${reason}`, context });
  }

  add(bytes: number, path: string): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxBytes) {
      throw this.fail(
        'FND_CONFIG_VALUE_TOO_LARGE',
        path,
        `larger than ${this.limits.maxBytes} bytes as JSON`,
        this.limits.maxBytes,
      );
    }
  }

  copy(value: unknown, path: string, depth: number): JsonValue {
    if (depth > this.limits.maxDepth) {
      throw this.fail(
        'FND_CONFIG_VALUE_TOO_LARGE',
        path,
        `nested deeper than ${this.limits.maxDepth}`,
        this.limits.maxDepth,
      );
    }
    switch (typeof value) {
      case 'string':
        // A lower bound first (no escaping, one byte a character) so a huge string fails without work.
        this.add(value.length + 2, path);
        this.add(Buffer.byteLength(JSON.stringify(value), 'utf8') - value.length - 2, path);
        return value;
      case 'number':
        if (!Number.isFinite(value)) throw this.fail('FND_CONFIG_INVALID_VALUE', path, 'not a finite number');
        this.add(JSON.stringify(value).length, path);
        return value === 0 ? 0 : value;
      case 'boolean':
        this.add(value ? 4 : 5, path);
        return value;
      case 'undefined':
        throw this.fail('FND_CONFIG_INVALID_VALUE', path, 'undefined is not a JSON value');
      case 'object':
        if (value === null) {
          this.add(4, path);
          return null;
        }
        return this.copyObject(value, path, depth);
      default:
        throw this.fail('FND_CONFIG_INVALID_VALUE', path, `a ${typeof value} is not a JSON value`);
    }
  }

  copyObject(value: object, path: string, depth: number): JsonValue {
    if (this.ancestors.has(value)) {
      throw this.fail('FND_CONFIG_VALUE_TOO_LARGE', path, 'contains a cycle', this.limits.maxDepth);
    }
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) {
        throw this.fail('FND_CONFIG_INVALID_VALUE', path, 'an array subclass is not a JSON value');
      }
      this.ancestors.add(value);
      const out = this.copyArray(value, path, depth);
      this.ancestors.delete(value);
      return Object.freeze(out);
    }
    if (!isPlainObject(value)) {
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
        ?.name;
      const kind = typeof name === 'string' && name !== '' ? `a ${name}` : 'a class instance';
      throw this.fail('FND_CONFIG_INVALID_VALUE', path, `${kind} is not a JSON value`);
    }
    this.ancestors.add(value);
    const out: Record<string, JsonValue> = {};
    this.add(2, path);
    let first = true;
    for (const key of Object.keys(value)) {
      const at = childPath(path, key);
      if (FORBIDDEN_KEYS.has(key))
        throw this.fail('FND_CONFIG_INVALID_PATH', at, `the key ${key} is forbidden`);
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined) continue;
      if (!('value' in descriptor)) {
        throw this.fail('FND_CONFIG_INVALID_VALUE', at, 'an accessor property is not a JSON value');
      }
      this.add((first ? 0 : 1) + Buffer.byteLength(JSON.stringify(key), 'utf8') + 1, at);
      first = false;
      out[key] = this.copy(descriptor.value, at, depth + 1);
    }
    this.ancestors.delete(value);
    return Object.freeze(out);
  }

  copyArray(value: readonly unknown[], path: string, depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.add(2 + Math.max(0, value.length - 1), path);
    for (let i = 0; i < value.length; i++) {
      const at = `${path}[${i}]`;
      const descriptor = Object.getOwnPropertyDescriptor(value, i);
      if (descriptor === undefined)
        throw this.fail('FND_CONFIG_INVALID_VALUE', at, 'an array hole is not a JSON value');
      if (!('value' in descriptor)) {
        throw this.fail('FND_CONFIG_INVALID_VALUE', at, 'an accessor property is not a JSON value');
      }
      out.push(this.copy(descriptor.value, at, depth + 1));
    }
    return out;
  }
}

/**
 * A deep, deeply frozen copy of `value` checked to be JSON: plain objects, arrays, strings, finite numbers
 * (`-0` becomes `0`), booleans and `null`. Getters are never invoked. Errors name `where` and the inner path,
 * never the value.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_VALUE` for anything else (undefined, holes, functions, symbols,
 *   bigints, non-finite numbers, class instances, accessors); `FND_CONFIG_INVALID_PATH` for a `__proto__`,
 *   `constructor` or `prototype` key; `FND_CONFIG_VALUE_TOO_LARGE` past `maxDepth`, `maxBytes` or on a cycle.
 *   Context `{ where, path, limit }`.
 */
export function toJsonValue(value: unknown, limits: JsonLimits, where: string): JsonValue {
  return new JsonCopier(limits, where).copy(value, '', 0);
}

/** Freezes plain objects and arrays recursively and returns `value`. Other values are returned as they are. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && 'value' in descriptor) deepFreeze(descriptor.value);
  }
  return value;
}

/** Structural equality of JSON values (object key order does not matter; `undefined` equals only itself). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] as JsonValue, b[i] as JsonValue)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const objA = a as JsonObject;
  const objB = b as JsonObject;
  const keys = Object.keys(objA);
  if (keys.length !== Object.keys(objB).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(objB, key) || !jsonEqual(objA[key], objB[key])) return false;
  }
  return true;
}
