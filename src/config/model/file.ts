/**
 * Configuration files: the format by extension, parsing JSON and YAML text into a checked configuration
 * object, and reading a file (the only I/O of the model). Errors name the file and where in it, never its
 * contents.
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { FoundationError } from '../../errors/index.js';
import type { JsonObject } from '../types.js';
import { jsonErrorOffset, locateOffset } from './json-locate.js';
import { isPlainObject, toJsonValue } from './json-value.js';

/** A configuration file's format. */
export type ConfigFileFormat = 'json' | 'yaml';

/** What reading a configuration file found. */
export type ConfigFileRead =
  { readonly state: 'missing' } | { readonly state: 'ok'; readonly value: JsonObject; readonly text: string };

/** Deepest nesting a file may have, by default. */
export const DEFAULT_FILE_MAX_DEPTH = 20;
/** Most YAML aliases a file may expand (a guard against alias bombs). */
export const YAML_MAX_ALIAS_COUNT = 100;

function fileError(file: string, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
  return new FoundationError('FND_CONFIG_FILE_INVALID', { message, context: { file, ...context }, cause });
}

/**
 * The format of a configuration file by its extension: `.json` → `json`; `.yaml`, `.yml` → `yaml` (any case).
 *
 * @throws FoundationError `FND_CONFIG_FILE_INVALID` for any other extension.
 */
export function configFileFormat(path: string): ConfigFileFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  throw fileError(path, `Configuration file ${path} must end in .json, .yaml or .yml`);
}

function parseJsonText(text: string, file: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // V8's message quotes the text around the error: build our own from the position instead.
    const offset = jsonErrorOffset(text);
    const where = offset === undefined ? undefined : locateOffset(text, offset);
    const at = where === undefined ? '' : ` at line ${where.line}, column ${where.column}`;
    throw fileError(
      file,
      `Configuration file ${file} is not valid JSON${at}`,
      { ...where, format: 'json' },
      new SyntaxError(`Invalid JSON${at}`),
    );
  }
}

function parseYamlText(text: string, file: string): unknown {
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, logLevel: 'error' });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0];
    const where = pos === undefined ? {} : { line: pos.line, column: pos.col };
    const at = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
    // The YAML error's message quotes the source line: keep only its code and position.
    throw fileError(
      file,
      `Configuration file ${file} is not valid YAML${at} (${first.code})`,
      { ...where, format: 'yaml', reason: first.code },
      new SyntaxError(`Invalid YAML${at} (${first.code})`),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    throw fileError(file, `Configuration file ${file} could not be read as YAML`, { format: 'yaml' }, error);
  }
}

/**
 * Parses configuration text: JSON, or YAML 1.2 (core schema, unique keys, at most 100 aliases; timestamps
 * stay strings). Empty text and a YAML `null` document are `{}`; otherwise the top level must be an object.
 * The result is a checked, deeply frozen copy (see `toJsonValue`, no size limit, `maxDepth` default 20).
 *
 * @throws FoundationError `FND_CONFIG_FILE_INVALID` with `{ file, line, column }` where known and the
 *   original problem as `cause`; never the file's contents.
 */
export function parseConfigText(
  text: string,
  format: ConfigFileFormat,
  file: string,
  maxDepth: number = DEFAULT_FILE_MAX_DEPTH,
): JsonObject {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const parsed = format === 'json' ? parseJsonText(source, file) : parseYamlText(source, file);
  if (parsed === null || parsed === undefined) return Object.freeze({});
  if (!isPlainObject(parsed)) {
    const kind = Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw fileError(file, `Configuration file ${file} must hold an object at the top level, not ${kind}`, {
      format,
    });
  }
  try {
    return toJsonValue(parsed, { maxBytes: Infinity, maxDepth }, `file ${file}`) as JsonObject;
  } catch (error) {
    const inner = (error as { context?: { path?: unknown } }).context?.path;
    const message = error instanceof Error ? error.message : 'invalid value';
    throw fileError(
      file,
      `Configuration file ${file} holds an invalid value: ${message}`,
      { format, path: inner },
      error,
    );
  }
}

function decode(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw fileError(path, `Configuration file ${path} is not valid UTF-8`, {}, error);
  }
}

function ioError(path: string, error: unknown): FoundationError {
  const code = (error as { code?: unknown }).code;
  return fileError(
    path,
    `Configuration file ${path} cannot be read (${typeof code === 'string' ? code : 'error'})`,
    { errno: code },
    error,
  );
}

function tooLarge(path: string, size: number, maxBytes: number): FoundationError {
  return fileError(path, `Configuration file ${path} is larger than ${maxBytes} bytes`, {
    size,
    limit: maxBytes,
  });
}

function notAFile(path: string): FoundationError {
  return fileError(path, `Configuration file ${path} is not a regular file`, { errno: 'EISDIR' });
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ENOENT';
}

function finish(path: string, bytes: Uint8Array, maxBytes: number): ConfigFileRead {
  if (bytes.byteLength > maxBytes) throw tooLarge(path, bytes.byteLength, maxBytes);
  const text = decode(bytes, path);
  return { state: 'ok', value: parseConfigText(text, configFileFormat(path), path), text };
}

/**
 * Reads and parses a configuration file synchronously (the format from its extension).
 *
 * @returns `{ state: 'missing' }` when it does not exist, else the parsed value and the raw text.
 * @throws FoundationError `FND_CONFIG_FILE_INVALID` when it is larger than `maxBytes`, not a regular file,
 *   unreadable, or does not parse (see {@link parseConfigText}).
 */
export function readConfigFileSync(path: string, maxBytes: number): ConfigFileRead {
  let bytes: Uint8Array;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw notAFile(path);
    if (info.size > maxBytes) throw tooLarge(path, info.size, maxBytes);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof FoundationError) throw error;
    if (isMissing(error)) return { state: 'missing' };
    throw ioError(path, error);
  }
  return finish(path, bytes, maxBytes);
}

/** The asynchronous twin of {@link readConfigFileSync} (`node:fs/promises`). */
export async function readConfigFile(path: string, maxBytes: number): Promise<ConfigFileRead> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw notAFile(path);
    if (info.size > maxBytes) throw tooLarge(path, info.size, maxBytes);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof FoundationError) throw error;
    if (isMissing(error)) return { state: 'missing' };
    throw ioError(path, error);
  }
  return finish(path, bytes, maxBytes);
}
