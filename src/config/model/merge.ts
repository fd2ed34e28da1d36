/**
 * Layered configuration: the deep merge of the source layers (defaults < file < env < runtime), each
 * layer's value at a path, and which layer the effective value comes from.
 *
 * @module
 */
import type { ConfigSource, JsonObject, JsonValue } from '../types.js';
import { isPlainObject } from './json-value.js';
import { getAt } from './path.js';

/** One source's contribution: a (sparse) tree of values. */
export interface ConfigLayer {
  readonly source: ConfigSource;
  readonly value: JsonObject;
}

function mergeTwo(base: JsonObject, over: JsonObject): JsonObject {
  const keys = Object.keys(over);
  if (keys.length === 0) return base;
  const out: Record<string, JsonValue> = { ...base };
  for (const key of keys) {
    const next = over[key] as JsonValue;
    const prev = Object.hasOwn(base, key) ? base[key] : undefined;
    const value = isPlainObject(prev) && isPlainObject(next) ? mergeTwo(prev, next) : next;
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Deep merge of `layers` in order (later layers win): plain objects merge, arrays, leaves and `null` replace.
 * Never mutates the layers; unchanged subtrees are shared with them.
 */
export function mergeLayers(layers: readonly ConfigLayer[]): JsonObject {
  let result: JsonObject = {};
  for (const layer of layers) result = mergeTwo(result, layer.value);
  return result;
}

/** Each layer that has a value at `segments` (lowest precedence first), with that value. */
export function layerValues(
  layers: readonly ConfigLayer[],
  segments: readonly string[],
): Array<{ source: ConfigSource; value: JsonValue }> {
  const out: Array<{ source: ConfigSource; value: JsonValue }> = [];
  for (const layer of layers) {
    const value = getAt(layer.value, segments);
    if (value !== undefined) out.push({ source: layer.source, value });
  }
  return out;
}

/**
 * The source of the effective value at `segments`: the last layer with a value there, or with a non-object
 * value at an ancestor (which replaces the whole subtree). For an object, the last layer that contributed
 * anything under it (or that turned a leaf into an object). `undefined` when no layer reaches the path.
 */
export function sourceOf(
  layers: readonly ConfigLayer[],
  segments: readonly string[],
): ConfigSource | undefined {
  let source: ConfigSource | undefined;
  let mergedIsObject = false;
  for (const layer of layers) {
    let node: JsonValue | undefined = layer.value;
    let replacedAtAncestor = false;
    for (const segment of segments) {
      if (!isPlainObject(node)) {
        replacedAtAncestor = true;
        break;
      }
      node = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (node === undefined) break;
    }
    if (node === undefined) continue;
    if (replacedAtAncestor) {
      source = layer.source;
      mergedIsObject = false;
    } else if (!isPlainObject(node)) {
      source = layer.source;
      mergedIsObject = false;
    } else if (!mergedIsObject || Object.keys(node).length > 0) {
      source = layer.source;
      mergedIsObject = true;
    }
  }
  return source;
}
