/**
 * Redaction of secret configuration values: a secret path's whole value (a subtree included) becomes
 * {@link REDACTED} wherever configuration leaves the process (history, events, explain, the control bus).
 *
 * @module
 */
import { type ConfigChange, type JsonObject, type JsonValue, REDACTED } from '../types.js';
import { isPlainObject } from './json-value.js';
import type { PathMatcher } from './patterns.js';

/** Replaces secret values by {@link REDACTED}. `undefined` stays `undefined` (additions and removals show). */
export interface Redactor {
  /** Whether `path` is secret (it or an ancestor matches a secret pattern). */
  isSecret(path: string): boolean;
  /** `tree` (found at `prefix`) with every secret subtree replaced; the same tree when nothing is secret. */
  redactTree(tree: JsonObject, prefix?: string): JsonObject;
  /** `value` (found at `path`) with secrets replaced. */
  redactValue(path: string, value: JsonValue | undefined): JsonValue | undefined;
  /** The changes with secret `old`/`new` values replaced. */
  redactChanges(changes: readonly ConfigChange[]): ConfigChange[];
}

/** A {@link Redactor} for the secret path patterns `secrets` (`isSecret` is `secrets.covers`). */
export function createRedactor(secrets: PathMatcher): Redactor {
  const none = secrets.patterns.length === 0;
  const join = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

  const redactObject = (tree: JsonObject, prefix: string): JsonObject => {
    if (!secrets.touches(prefix)) return tree;
    let out: Record<string, JsonValue> | undefined;
    for (const key of Object.keys(tree)) {
      const original = tree[key] as JsonValue;
      const redacted = redactValue(join(prefix, key), original) as JsonValue;
      if (redacted !== original) {
        out ??= { ...tree };
        Object.defineProperty(out, key, {
          value: redacted,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return out === undefined ? tree : Object.freeze(out);
  };

  const redactValue = (path: string, value: JsonValue | undefined): JsonValue | undefined => {
    if (value === undefined || none) return value;
    if (secrets.covers(path)) return REDACTED;
    return isPlainObject(value) ? redactObject(value, path) : value;
  };

  return {
    isSecret: (path) => !none && secrets.covers(path),
    redactTree(tree, prefix = '') {
      if (none) return tree;
      if (secrets.covers(prefix)) {
        const out: Record<string, JsonValue> = {};
        for (const key of Object.keys(tree)) out[key] = REDACTED;
        return Object.freeze(out);
      }
      return redactObject(tree, prefix);
    },
    redactValue,
    redactChanges(changes) {
      if (none) return [...changes];
      return changes.map((change) => {
        if (!secrets.touches(change.path)) return change;
        const old = redactValue(change.path, change.old);
        const next = redactValue(change.path, change.new);
        return old === change.old && next === change.new ? change : { path: change.path, old, new: next };
      });
    },
  };
}
