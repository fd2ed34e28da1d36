/**
 * Path patterns (`mutable`, `secrets`): exact dotted paths and globs where `*` is exactly one segment and
 * `**` any number of segments (zero included), compiled once into a {@link PathMatcher}.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { MAX_PATH_LENGTH, MAX_PATH_SEGMENTS, isValidSegment } from './path.js';

/** A compiled list of path patterns. Paths are dotted strings; `''` is the root. */
export interface PathMatcher {
  /** The patterns as given. */
  readonly patterns: readonly string[];
  /** Whether `path` matches a pattern exactly. */
  matches(path: string): boolean;
  /** Whether `path` or one of its ancestors matches a pattern (pattern `db` covers `db.password`). */
  covers(path: string): boolean;
  /** Whether `path` is covered, or some descendant of it could match (pattern `db.password` touches `db`, `''`). */
  touches(path: string): boolean;
}

/** Most paths whose answers a matcher caches. */
export const PATTERN_CACHE_SIZE = 10_000;

const MATCHES = 1;
const COVERS = 2;
const TOUCHES = 4;

function splitPath(path: string): readonly string[] {
  return path === '' ? [] : path.split('.');
}

function compileOne(pattern: unknown): readonly string[] {
  const bad = (reason: string): FoundationError => {
    const shown = typeof pattern === 'string' ? pattern.slice(0, 100) : typeof pattern;
    return new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: `Invalid path pattern ${JSON.stringify(shown)}: ${reason}`,
      context: { pattern: shown },
    });
  };
  if (typeof pattern !== 'string') throw bad('not a string');
  if (pattern === '') throw bad('empty');
  if (pattern.length > MAX_PATH_LENGTH) throw bad(`longer than ${MAX_PATH_LENGTH} characters`);
  const segments = pattern.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) throw bad(`more than ${MAX_PATH_SEGMENTS} segments`);
  for (const segment of segments) {
    if (segment !== '*' && segment !== '**' && !isValidSegment(segment)) {
      throw bad(segment === '' ? 'empty segment' : 'invalid or forbidden segment');
    }
  }
  return segments;
}

/**
 * For one pattern and one path: bit MATCHES when the whole pattern matches the whole path, COVERS when it
 * matches a prefix of the path, TOUCHES when a prefix of the pattern matches the whole path (or COVERS).
 */
function evaluate(pattern: readonly string[], path: readonly string[]): number {
  const n = path.length;
  // reach[j]: the pattern's first i segments match the path's first j segments.
  let reach: boolean[] = new Array<boolean>(n + 1).fill(false);
  reach[0] = true;
  let touches = reach[n] === true;
  for (const seg of pattern) {
    const next: boolean[] = new Array<boolean>(n + 1).fill(false);
    if (seg === '**') {
      let any = false;
      for (let j = 0; j <= n; j++) {
        any ||= reach[j] === true;
        next[j] = any;
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (reach[j] === true && (seg === '*' || path[j] === seg)) next[j + 1] = true;
      }
    }
    reach = next;
    if (reach[n] === true) touches = true;
  }
  let result = 0;
  if (reach[n] === true) result |= MATCHES;
  if (reach.some((r) => r)) result |= COVERS | TOUCHES;
  if (touches) result |= TOUCHES;
  return result;
}

/**
 * Compiles `patterns` (validated like paths, with `*` and `**` segments allowed). An empty list matches
 * nothing. Answers are cached per path (at most {@link PATTERN_CACHE_SIZE} paths).
 *
 * @throws FoundationError `FND_CONFIG_INVALID_STRUCTURE` naming the first bad pattern.
 */
export function compilePatterns(patterns: readonly string[]): PathMatcher {
  const list = Object.freeze([...patterns]);
  const compiled = list.map(compileOne);
  const cache = new Map<string, number>();
  const answer = (path: string): number => {
    const cached = cache.get(path);
    if (cached !== undefined) return cached;
    const segments = splitPath(path);
    let result = 0;
    for (const pattern of compiled) {
      result |= evaluate(pattern, segments);
      if (result === (MATCHES | COVERS | TOUCHES)) break;
    }
    if (cache.size >= PATTERN_CACHE_SIZE) cache.clear();
    cache.set(path, result);
    return result;
  };
  if (compiled.length === 0) {
    return { patterns: list, matches: () => false, covers: () => false, touches: () => false };
  }
  return {
    patterns: list,
    matches: (path) => (answer(path) & MATCHES) !== 0,
    covers: (path) => (answer(path) & COVERS) !== 0,
    touches: (path) => (answer(path) & TOUCHES) !== 0,
  };
}
