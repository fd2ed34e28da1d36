/**
 * Content equality of a stored event and a prepared one: what decides whether re-appending an existing id
 * is an idempotent retry or a conflict.
 *
 * @module
 */
import type { PreparedEvent } from './port.js';
import type { StoredEvent } from './types.js';

/**
 * Deep equality of two JSON values: same JSON types and values, object key order ignored, properties whose
 * value is `undefined` treated as absent (as `JSON.stringify` does). `0` and `-0` are equal.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return false;
  if (aArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let xCount = 0;
  for (const key of Object.keys(x)) {
    const xv = x[key];
    if (xv === undefined) continue;
    xCount++;
    if (!Object.hasOwn(y, key) || !jsonEqual(xv, y[key])) return false;
  }
  let yCount = 0;
  for (const key of Object.keys(y)) if (y[key] !== undefined) yCount++;
  return xCount === yCount;
}

/**
 * Whether `prepared` has the same content as `stored`: type, stream, data, metadata (as JSON, key order
 * ignored) and parent id, and the correlation and causation ids unless `prepared` took them from the
 * current context (`correlationIdFromContext` / `causationIdFromContext`). Id, time, node and positions are
 * not content.
 */
export function sameContent(stored: StoredEvent, prepared: PreparedEvent): boolean {
  return (
    stored.type === prepared.type &&
    stored.stream === prepared.stream &&
    stored.parentId === prepared.parentId &&
    (prepared.correlationIdFromContext === true || stored.correlationId === prepared.correlationId) &&
    (prepared.causationIdFromContext === true || stored.causationId === prepared.causationId) &&
    jsonEqual(stored.data, prepared.data) &&
    jsonEqual(stored.metadata, prepared.metadata)
  );
}
