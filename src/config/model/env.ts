/**
 * Environment variables as a configuration layer: `APP_LIMITS__MAX_RPS=50` → `{ limits: { maxRps: 50 } }`,
 * with names resolved against the keys the configuration already has and values coerced to the type found
 * there. Errors name the variable and the expected type, never the value.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { JsonObject, JsonValue } from '../types.js';
import { deepFreeze, isPlainObject, toJsonValue } from './json-value.js';
import { getAt, isValidSegment, joinPath, setAt } from './path.js';

/** Largest value of one variable, UTF-8 bytes. */
export const MAX_ENV_VALUE_BYTES = 65_536;
/** Deepest JSON value a variable may carry. */
export const MAX_ENV_VALUE_DEPTH = 20;

/** What {@link readEnvLayer} reads. */
export interface EnvLayerOptions {
  /** Only variables starting with this prefix (case-sensitive) are read. */
  readonly prefix: string;
  /** Separator of nested keys after the prefix. Default `__`. */
  readonly separator?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The layer read from the environment. */
export interface EnvLayer {
  readonly value: JsonObject;
  /** Dotted path → the variable that set it. */
  readonly vars: ReadonlyMap<string, string>;
}

const NUMBER_SYNTAX = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

function envError(variable: string, reason: string, context: Record<string, unknown> = {}, cause?: unknown) {
  return new FoundationError('FND_CONFIG_ENV_INVALID', {
    message: `Environment variable ${variable}: ${reason}`,
    context: { variable, ...context },
    cause,
  });
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** Lower camelCase of an environment name segment: `MAX_RPS` → `maxRps`, `TIMEOUT` → `timeout`. */
export function envSegmentToCamel(segment: string): string {
  const parts = segment
    .split(/[_-]/)
    .filter((p) => p !== '')
    .map((p) => p.toLowerCase());
  return parts.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
}

function resolveSegments(variable: string, rawSegments: readonly string[], base: JsonObject): string[] {
  const out: string[] = [];
  let node: JsonValue | undefined = base;
  for (const raw of rawSegments) {
    let key: string | undefined;
    if (isPlainObject(node)) {
      const wanted = normalizeKey(raw);
      key = Object.keys(node).find((k) => normalizeKey(k) === wanted);
    }
    const resolved = key ?? envSegmentToCamel(raw);
    if (!isValidSegment(resolved)) {
      throw envError(variable, 'the name does not map to a valid configuration path', { expected: 'path' });
    }
    out.push(resolved);
    node = key !== undefined && isPlainObject(node) ? node[key] : undefined;
  }
  return out;
}

function parseJson(variable: string, raw: string, expected: string): JsonValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw envError(variable, `expected ${expected} as JSON`, { expected });
  }
  try {
    return toJsonValue(parsed, { maxBytes: MAX_ENV_VALUE_BYTES, maxDepth: MAX_ENV_VALUE_DEPTH }, variable);
  } catch (error) {
    throw envError(variable, `expected ${expected}: not an acceptable JSON value`, { expected }, error);
  }
}

function coerce(variable: string, raw: string, current: JsonValue | undefined): JsonValue {
  if (typeof current === 'number') {
    const text = raw.trim();
    const n = Number(text);
    if (!NUMBER_SYNTAX.test(text) || !Number.isFinite(n)) {
      throw envError(variable, 'expected a number', { expected: 'number' });
    }
    return n === 0 ? 0 : n;
  }
  if (typeof current === 'boolean') {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw envError(variable, 'expected a boolean (true/false, 1/0, yes/no, on/off)', { expected: 'boolean' });
  }
  if (typeof current === 'string') return raw;
  if (Array.isArray(current)) {
    const value = parseJson(variable, raw, 'a JSON array');
    const isArray: boolean = Array.isArray(value);
    if (!isArray) throw envError(variable, 'expected a JSON array', { expected: 'a JSON array' });
    return value;
  }
  if (isPlainObject(current)) {
    const value = parseJson(variable, raw, 'a JSON object');
    if (!isPlainObject(value)) {
      throw envError(variable, 'expected a JSON object', { expected: 'a JSON object' });
    }
    return value;
  }
  // No typed value to follow: numbers, booleans, null, objects and arrays as JSON, anything else as text.
  const text = raw.trim();
  if (NUMBER_SYNTAX.test(text)) {
    const n = Number(text);
    return Number.isFinite(n) ? (n === 0 ? 0 : n) : raw;
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return raw;
    }
    try {
      return toJsonValue(parsed, { maxBytes: MAX_ENV_VALUE_BYTES, maxDepth: MAX_ENV_VALUE_DEPTH }, variable);
    } catch (error) {
      throw envError(variable, 'not an acceptable JSON value', { expected: 'JSON' }, error);
    }
  }
  return raw;
}

function compareSegments(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function isPrefix(parent: readonly string[], child: readonly string[]): boolean {
  return parent.length <= child.length && parent.every((s, i) => child[i] === s);
}

/**
 * Reads the variables of `options.env` that start with `options.prefix` (and have a value) into a sparse
 * layer. The rest of each name is split on the separator; each segment is matched against the keys of `base`
 * at that level ignoring case, `_` and `-`, else turned into lower camelCase. Values are coerced to the type
 * of `base`'s value at that path (number, boolean, JSON array/object, string); where `base` has no value (or
 * `null`), numbers, booleans, `null`, objects and arrays are read as JSON and anything else as text.
 *
 * @throws FoundationError `FND_CONFIG_ENV_INVALID` naming the variable (and the expected type, never the
 *   value): a value that does not fit the type, a name that maps to no valid path, a value over 64 KiB, two
 *   variables for one path or for a path and its parent.
 */
export function readEnvLayer(options: EnvLayerOptions, base: JsonObject): EnvLayer {
  const { prefix, env } = options;
  const separator = options.separator ?? '__';
  if (separator === '') {
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: 'The environment separator must not be empty',
      context: { prefix },
    });
  }
  const entries: Array<{ segments: string[]; variable: string; value: JsonValue }> = [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(prefix)) continue;
    const raw = env[variable];
    if (raw === undefined) continue;
    const rest = variable.slice(prefix.length);
    if (rest === '') throw envError(variable, 'the name has nothing after the prefix', { expected: 'path' });
    if (Buffer.byteLength(raw, 'utf8') > MAX_ENV_VALUE_BYTES) {
      throw envError(variable, `the value is larger than ${MAX_ENV_VALUE_BYTES} bytes`, {
        limit: MAX_ENV_VALUE_BYTES,
      });
    }
    const segments = resolveSegments(variable, rest.split(separator), base);
    entries.push({ segments, variable, value: coerce(variable, raw, getAt(base, segments) ?? undefined) });
  }
  entries.sort((a, b) => compareSegments(a.segments, b.segments));
  let value: JsonObject = {};
  const vars = new Map<string, string>();
  let previous: (typeof entries)[number] | undefined;
  for (const entry of entries) {
    if (previous !== undefined && isPrefix(previous.segments, entry.segments)) {
      const path = joinPath(entry.segments);
      const same = previous.segments.length === entry.segments.length;
      throw new FoundationError('FND_CONFIG_ENV_INVALID', {
        message: same
          ? `Environment variables ${previous.variable} and ${entry.variable} both set ${path}`
          : `Environment variable ${previous.variable} sets a parent of what ${entry.variable} sets`,
        context: { variable: entry.variable, other: previous.variable, path },
      });
    }
    value = setAt(value, entry.segments, entry.value);
    vars.set(joinPath(entry.segments), entry.variable);
    previous = entry;
  }
  return { value: deepFreeze(value), vars };
}
