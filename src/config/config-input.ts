/**
 * Checks what callers hand to `update`, `updateBatch` and `rollback` before anything else runs: the shape of
 * each change, its path, the size and kind of its value, and the metadata. Every refusal is a catalog error
 * that names the change, never the value.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { isPlainObject, toJsonValue } from './model/json-value.js';
import { parsePath } from './model/path.js';
import type { ConfigChangeInput, ConfigUpdateOptions, JsonValue } from './types.js';

/** Resolved limits of a config. */
export interface ResolvedLimits {
  readonly maxValueBytes: number;
  readonly maxDepth: number;
  readonly maxChanges: number;
  readonly maxFileBytes: number;
}

/** The defaults of `ConfigLimits`. */
export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxValueBytes: 64 * 1024,
  maxDepth: 20,
  maxChanges: 100,
  maxFileBytes: 1024 * 1024,
});

/** One checked change: the parsed path and a frozen JSON copy of the value (absent for an unset). */
export interface CheckedChange {
  readonly path: string;
  readonly segments: readonly string[];
  readonly value: JsonValue | undefined;
}

const CHANGE_KEYS = new Set(['path', 'value', 'unset']);
const OPTION_KEYS = new Set(['reason', 'actor', 'correlationId', 'expectedVersion', 'dryRun']);

function structure(message: string, context: Record<string, unknown>): FoundationError {
  return new FoundationError('FND_CONFIG_INVALID_STRUCTURE', { message, context });
}

/** Checks a batch: an array of at most `maxChanges` changes, each well formed, the values within limits. */
export function checkChanges(input: unknown, limits: ResolvedLimits): CheckedChange[] {
  if (!Array.isArray(input))
    throw structure('Changes must be an array of { path, value } or { path, unset: true }', {});
  if (input.length === 0) throw structure('A batch needs at least one change', {});
  if (input.length > limits.maxChanges) {
    throw new FoundationError('FND_CONFIG_VALUE_TOO_LARGE', {
      message: `A batch may hold at most ${String(limits.maxChanges)} changes, got ${String(input.length)}`,
      context: { limit: limits.maxChanges, changes: input.length },
    });
  }
  const checked: CheckedChange[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const [position, raw] of (input as unknown[]).entries()) {
    if (!isPlainObject(raw))
      throw structure(`Change ${String(position)} must be an object`, { change: position });
    for (const key of Object.keys(raw)) {
      if (!CHANGE_KEYS.has(key))
        throw structure(`Change ${String(position)} has an unknown key`, {
          change: position,
          key: key.slice(0, 50),
        });
    }
    const segments = parsePath(raw.path);
    const path = segments.join('.');
    if (seen.has(path)) throw structure(`Path "${path}" appears twice in one batch`, { path });
    for (const other of seen) {
      if (other.startsWith(`${path}.`) || path.startsWith(`${other}.`)) {
        throw structure(`Paths "${other}" and "${path}" overlap in one batch`, { path, other });
      }
    }
    seen.add(path);
    const unset = raw.unset;
    if (unset !== undefined && typeof unset !== 'boolean')
      throw structure(`Change "${path}": unset must be a boolean`, { path });
    if (unset === true) {
      if (Object.hasOwn(raw, 'value'))
        throw structure(`Change "${path}" has both a value and unset`, { path });
      checked.push({ path, segments, value: undefined });
      continue;
    }
    if (!Object.hasOwn(raw, 'value')) throw structure(`Change "${path}" has no value`, { path });
    const value = toJsonValue(
      raw.value,
      { maxBytes: limits.maxValueBytes - bytes, maxDepth: limits.maxDepth },
      path,
    );
    bytes += JSON.stringify(value).length;
    checked.push({ path, segments, value });
  }
  return checked;
}

/** Checks one `update(path, value)` the same way as a batch of one. */
export function checkSingle(path: unknown, value: unknown, limits: ResolvedLimits): CheckedChange[] {
  return checkChanges([{ path, value }] satisfies ConfigChangeInput[] | unknown[], limits);
}

/** Checks update options: known keys, sane types and lengths. */
export function checkOptions(options: unknown): ConfigUpdateOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw structure('Update options must be an object', {});
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key))
      throw structure('Update options have an unknown key', { key: key.slice(0, 50) });
  }
  const text = (key: 'reason' | 'actor' | 'correlationId', max: number): void => {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length > max)) {
      throw structure(`${key} must be a string of at most ${String(max)} characters`, {
        option: key,
        limit: max,
      });
    }
  };
  text('reason', 500);
  text('actor', 200);
  text('correlationId', 200);
  const expected = options.expectedVersion;
  if (
    expected !== undefined &&
    (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 0)
  ) {
    throw structure('expectedVersion must be a non-negative integer', { option: 'expectedVersion' });
  }
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') {
    throw structure('dryRun must be a boolean', { option: 'dryRun' });
  }
  return options;
}

/** Checks a version number argument. */
export function checkVersion(version: unknown): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new FoundationError('FND_CONFIG_VERSION_NOT_FOUND', {
      message: 'A config version is a positive integer',
      context: { version: typeof version === 'number' ? version : typeof version },
    });
  }
  return version;
}

const LIMIT_KEYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_LIMITS));

/**
 * Checks the shape of `createConfig`'s options (the sources themselves are checked when they are read):
 * `file` a path or `{ path, required?, watch? }`; `env` `{ prefix, separator?, env? }` with a non-empty
 * prefix (never the whole environment); `mutable` and `secrets` arrays; `limits` positive integers;
 * `defaults` and `arguments` plain objects.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_STRUCTURE` naming the option, never its value.
 */
export function checkConfigOptions(options: Readonly<Record<string, unknown>>): void {
  const bad = (option: string, message: string): FoundationError =>
    structure(`createConfig: ${option} ${message}`, { option });
  const { file, env, limits } = options;
  if (file !== undefined && typeof file !== 'string') {
    if (!isPlainObject(file) || typeof file.path !== 'string')
      throw bad('file', 'must be a path or { path, required?, watch? }');
    for (const key of ['required', 'watch'] as const) {
      if (file[key] !== undefined && typeof file[key] !== 'boolean')
        throw bad(`file.${key}`, 'must be a boolean');
    }
  }
  if (env !== undefined) {
    if (!isPlainObject(env)) throw bad('env', 'must be { prefix, separator?, env? }');
    if (typeof env.prefix !== 'string' || env.prefix === '')
      throw bad('env.prefix', 'must be a non-empty string (the whole environment is never read)');
    if (env.separator !== undefined && typeof env.separator !== 'string')
      throw bad('env.separator', 'must be a string');
    if (env.env !== undefined && (typeof env.env !== 'object' || env.env === null || Array.isArray(env.env)))
      throw bad('env.env', 'must be an object of variables');
  }
  for (const option of ['mutable', 'secrets'] as const) {
    if (options[option] !== undefined && !Array.isArray(options[option]))
      throw bad(option, 'must be an array of paths and globs');
  }
  if (limits !== undefined) {
    if (!isPlainObject(limits)) throw bad('limits', 'must be an object');
    const entries: Array<[string, unknown]> = Object.entries(limits);
    for (const [key, value] of entries) {
      if (!LIMIT_KEYS.has(key)) throw bad(`limits.${key.slice(0, 50)}`, 'is not a known limit');
      if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1))
        throw bad(`limits.${key}`, 'must be a positive integer');
    }
  }
  for (const option of ['defaults', 'arguments'] as const) {
    const value = options[option];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
      throw bad(option, 'must be an object');
  }
}
