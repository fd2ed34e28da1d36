/**
 * JSON paths of query predicates: `data.<seg>…` or `metadata.<seg>…`, 1–16 segments of `[A-Za-z0-9_-]`.
 * A segment of digits (`0`, or no leading zero, at most 6 digits) is an array index and only reaches into
 * arrays; any other segment is an object key and only reaches into objects.
 *
 * @module
 */

/** Most segments after `data.` / `metadata.`. */
export const MAX_PATH_SEGMENTS = 16;

/** A parsed predicate path. */
export interface PredicatePath {
  /** The column holding the JSON document. */
  readonly column: 'data' | 'metadata';
  /** Object keys (strings) and array indexes (numbers). */
  readonly segments: readonly (string | number)[];
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const INDEX = /^(?:0|[1-9][0-9]{0,5})$/;
const DIGITS = /^[0-9]+$/;

/** Parses a predicate path; `undefined` when it breaks the rules above (e.g. `data`, `data.01`, `x.a`). */
export function parsePredicatePath(path: unknown): PredicatePath | undefined {
  if (typeof path !== 'string' || path.length > 1000) return undefined;
  const parts = path.split('.');
  const column = parts[0];
  if (column !== 'data' && column !== 'metadata') return undefined;
  if (parts.length < 2 || parts.length > MAX_PATH_SEGMENTS + 1) return undefined;
  const segments: (string | number)[] = [];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] as string;
    if (!SEGMENT.test(part)) return undefined;
    if (DIGITS.test(part)) {
      if (!INDEX.test(part)) return undefined;
      segments.push(Number(part));
    } else segments.push(part);
  }
  return { column, segments };
}
