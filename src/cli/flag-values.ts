/**
 * Typed values of string flags shared by the `events` subcommands: trimmed non-empty strings and JSON.
 *
 * @module
 */
import { invalidArgument, parseNonEmpty, type ParsedFlags } from './arguments.js';

/** Parses a JSON flag; `kind` restricts it to an object or an array. Throws `FND_CLI_INVALID_ARGUMENT`. */
export function jsonFlag(value: string, flag: string, kind: 'any' | 'object' | 'array'): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value) as unknown;
  } catch {
    throw invalidArgument(`${flag} must be JSON, got ${JSON.stringify(value.slice(0, 60))}`, { flag });
  }
  if (kind === 'array' && !Array.isArray(parsed))
    throw invalidArgument(`${flag} must be a JSON array`, { flag });
  if (kind === 'object' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
    throw invalidArgument(`${flag} must be a JSON object`, { flag });
  }
  return parsed;
}

/** The value of the string flag `name` (non-empty, no surrounding spaces), or `undefined` when absent. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? parseNonEmpty(value, `--${name}`) : undefined;
}
