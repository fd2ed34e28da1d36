/**
 * Leaf-level differences between two configuration trees, and applying such differences to a tree.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { ConfigChange, JsonObject, JsonValue } from '../types.js';
import { isPlainObject, jsonEqual } from './json-value.js';
import { removeAt, setAt } from './path.js';

function compareSegments(a: string, b: string): number {
  const sa = a.split('.');
  const sb = b.split('.');
  const n = Math.min(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const x = sa[i] as string;
    const y = sb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return sa.length - sb.length;
}

function collect(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string,
  out: ConfigChange[],
): void {
  if (before === after) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of Object.keys(before)) {
      const child = path === '' ? key : `${path}.${key}`;
      collect(before[key], Object.hasOwn(after, key) ? after[key] : undefined, child, out);
    }
    for (const key of Object.keys(after)) {
      if (Object.hasOwn(before, key)) continue;
      collect(undefined, after[key], path === '' ? key : `${path}.${key}`, out);
    }
    return;
  }
  if (!jsonEqual(before, after)) out.push({ path, old: before, new: after });
}

/**
 * The changed leaves from `before` to `after`, sorted by path (segment by segment). Plain objects on both
 * sides are compared key by key; arrays and leaves whole. An added path has `old: undefined`, a removed one
 * `new: undefined`; an object replaced by a non-object (or the reverse) is one change at that path. Paths are
 * prefixed with `prefix` (`'x'` → `x.a.b`).
 */
export function diffJson(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  prefix = '',
): ConfigChange[] {
  const out: ConfigChange[] = [];
  collect(before, after, prefix, out);
  return out.sort((a, b) => compareSegments(a.path, b.path));
}

/**
 * `base` with each change's `new` value set at its path (removed when `new` is `undefined`, without pruning
 * the parents that become empty, which {@link diffJson} reports on their own), in order. A
 * change at the root (`''`) replaces the whole tree and must carry an object (or `undefined` for `{}`).
 * `applyChanges(a, diffJson(a, b))` is structurally equal to `b`.
 */
export function applyChanges(base: JsonObject, changes: readonly ConfigChange[]): JsonObject {
  let tree = base;
  for (const change of changes) {
    if (change.path === '') {
      if (change.new === undefined) tree = {};
      else if (isPlainObject(change.new)) tree = change.new;
      else {
        throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
          message: 'A change at the root of the configuration must be an object',
          context: { path: '' },
        });
      }
      continue;
    }
    const segments = change.path.split('.');
    tree = change.new === undefined ? removeAt(tree, segments) : setAt(tree, segments, change.new);
  }
  return tree;
}
