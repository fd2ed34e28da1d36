/**
 * Dotted configuration paths: parsing with validation, and the pure tree operations on them (`getAt`,
 * `setAt`, `unsetAt`) that copy only the spine they touch.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { JsonObject, JsonValue } from '../types.js';
import { isPlainObject } from './json-value.js';

/** Longest dotted path accepted, in characters. */
export const MAX_PATH_LENGTH = 256;
/** Most segments in one path. */
export const MAX_PATH_SEGMENTS = 32;
/** The syntax of one path segment. */
export const SEGMENT_PATTERN = /^[A-Za-z0-9_$-]{1,64}$/;

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether `key` is one of the keys configuration refuses everywhere (`__proto__`, `constructor`, `prototype`). */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Whether `segment` is a valid path segment (syntax and not a forbidden key). */
export function isValidSegment(segment: string): boolean {
  return SEGMENT_PATTERN.test(segment) && !FORBIDDEN_KEYS.has(segment);
}

function invalidPath(path: unknown, reason: string): FoundationError {
  const shown =
    typeof path === 'string' ? (path.length > 100 ? `${path.slice(0, 100)}…` : path) : typeof path;
  return new FoundationError('FND_CONFIG_INVALID_PATH', {
    message: `Invalid configuration path ${JSON.stringify(shown)}: ${reason}`,
    context: { path: shown },
  });
}

/**
 * Splits a dotted path into its segments, validating it: a non-empty string of at most 256 characters and 32
 * segments, each matching {@link SEGMENT_PATTERN} and none of `__proto__`, `constructor`, `prototype`.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_PATH` (context `{ path }`, truncated to 100 characters).
 */
export function parsePath(path: unknown): readonly string[] {
  if (typeof path !== 'string') throw invalidPath(path, 'not a string');
  if (path.length === 0) throw invalidPath(path, 'empty');
  if (path.length > MAX_PATH_LENGTH) throw invalidPath(path, `longer than ${MAX_PATH_LENGTH} characters`);
  const segments = path.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) throw invalidPath(path, `more than ${MAX_PATH_SEGMENTS} segments`);
  for (const segment of segments) {
    if (!SEGMENT_PATTERN.test(segment)) {
      throw invalidPath(path, segment === '' ? 'empty segment' : 'invalid segment');
    }
    if (FORBIDDEN_KEYS.has(segment)) throw invalidPath(path, `forbidden segment ${segment}`);
  }
  return segments;
}

/** Joins segments into a dotted path (`['a', 'b']` → `'a.b'`; `[]` → `''`). */
export function joinPath(segments: readonly string[]): string {
  return segments.join('.');
}

/**
 * The value at `segments` in `tree`, walking own properties of plain objects only (arrays are leaves), or
 * `undefined` when a step is missing. `[]` returns the tree itself when it is a JSON value.
 */
export function getAt(tree: unknown, segments: readonly string[]): JsonValue | undefined {
  let node: unknown = tree;
  for (const segment of segments) {
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node as JsonValue | undefined;
}

function withKey(obj: JsonObject, key: string, value: JsonValue): JsonObject {
  const copy: Record<string, JsonValue> = { ...obj };
  // defineProperty: safe even for keys that an assignment would treat specially.
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/**
 * A new tree with `value` at `segments` (non-empty). Only the objects along the path are copied; everything
 * else is shared with `tree`. Missing intermediates are created, non-object intermediates replaced.
 */
export function setAt(tree: JsonObject, segments: readonly string[], value: JsonValue): JsonObject {
  return setFrom(tree, segments, 0, value);
}

function setFrom(node: JsonObject, segments: readonly string[], index: number, value: JsonValue): JsonObject {
  const key = segments[index];
  if (key === undefined) {
    throw new FoundationError('FND_CONFIG_INVALID_PATH', {
      message: 'setAt needs a non-empty path',
      context: { path: '' },
    });
  }
  if (index === segments.length - 1) return withKey(node, key, value);
  const child = Object.hasOwn(node, key) ? node[key] : undefined;
  const childObject: JsonObject = isPlainObject(child) ? child : {};
  return withKey(node, key, setFrom(childObject, segments, index + 1, value));
}

/**
 * A new tree without the value at `segments`; parents that become empty are removed too. Returns `tree`
 * itself when there is nothing at the path.
 */
export function unsetAt(tree: JsonObject, segments: readonly string[]): JsonObject {
  if (segments.length === 0) return tree;
  return unsetFrom(tree, segments, 0, true) ?? tree;
}

/**
 * Like {@link unsetAt} but keeps parents that become empty (`removeAt({ a: { b: 1 } }, ['a', 'b'])` is
 * `{ a: {} }`).
 */
export function removeAt(tree: JsonObject, segments: readonly string[]): JsonObject {
  if (segments.length === 0) return tree;
  return unsetFrom(tree, segments, 0, false) ?? tree;
}

/** The node without the path, `undefined` when nothing changes. An emptied object comes back as `{}`. */
function unsetFrom(
  node: JsonObject,
  segments: readonly string[],
  index: number,
  prune: boolean,
): JsonObject | undefined {
  const key = segments[index];
  if (key === undefined || !Object.hasOwn(node, key)) return undefined;
  if (index === segments.length - 1) return withoutKey(node, key);
  const child = node[key];
  if (!isPlainObject(child)) return undefined;
  const next = unsetFrom(child, segments, index + 1, prune);
  if (next === undefined) return undefined;
  return prune && Object.keys(next).length === 0 ? withoutKey(node, key) : withKey(node, key, next);
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  const copy: Record<string, JsonValue> = {};
  for (const k of Object.keys(obj)) {
    if (k !== key)
      Object.defineProperty(copy, k, { value: obj[k], enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
