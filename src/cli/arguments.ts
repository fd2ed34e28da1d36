/**
 * Command-line argument parsing and validation: `node:util` `parseArgs` in strict mode, with every problem
 * reported as `FND_CLI_INVALID_ARGUMENT` (exit code 2) naming the flag or environment variable.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FoundationError } from '../errors/index.js';

/** The error for a bad command line. */
export function invalidArgument(message: string, context: Record<string, unknown> = {}): FoundationError {
  return new FoundationError('FND_CLI_INVALID_ARGUMENT', { message, context });
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings and booleans by option name. */
export type ParsedFlags = Record<string, string | boolean | undefined>;

/**
 * Parses `args` against `options` (strict: unknown flags, missing values and positionals are errors).
 * Throws `FND_CLI_INVALID_ARGUMENT`.
 */
export function parseFlags(command: string, args: readonly string[], options: Options): ParsedFlags {
  try {
    const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
    return values as ParsedFlags;
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw invalidArgument(
      `foundation ${command}: ${message.replace(/\.$/, '')}. See "foundation ${command} --help"`,
      {
        command,
      },
    );
  }
}

/** Where a value came from, for messages: `--port` or `FOUNDATION_PORT`. */
export type ValueSource = string;

/** A flag's value, else the environment variable's, else `undefined`, with its source. */
export function pick(
  flags: ParsedFlags,
  flag: string,
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
): { value: string; source: ValueSource } | undefined {
  const fromFlag = flags[flag];
  if (typeof fromFlag === 'string') return { value: fromFlag, source: `--${flag}` };
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: variable };
  return undefined;
}

/** A TCP port: an integer 0–65535 (0: any free port). */
export function parsePort(value: string, source: ValueSource): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65_535) {
    throw invalidArgument(`${source} must be an integer from 0 to 65535, got ${JSON.stringify(value)}`, {
      source,
    });
  }
  return Number(value);
}

/** A host name or address: non-empty, no spaces, no scheme or port. */
export function parseHost(value: string, source: ValueSource): string {
  const host = value.trim();
  if (host === '' || /[\s/]/.test(host) || host.length > 253) {
    throw invalidArgument(`${source} must be a host name or IP address, got ${JSON.stringify(value)}`, {
      source,
    });
  }
  return host;
}

/** A node name: 1–64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export function parseName(value: string, source: ValueSource): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw invalidArgument(
      `${source} must be 1–64 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${JSON.stringify(value.slice(0, 80))}`,
      { source },
    );
  }
  return value;
}

/** A non-empty value without surrounding whitespace (paths, tokens). */
export function parseNonEmpty(value: string, source: ValueSource): string {
  if (value.trim() === '' || value.trim() !== value || value.includes('\0')) {
    throw invalidArgument(`${source} must be a non-empty value without surrounding spaces`, { source });
  }
  return value;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** A duration: `500ms`, `10s`, `2m`, or a bare number of milliseconds; 1 ms to 1 hour. */
export function parseDuration(value: string, source: ValueSource): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value.trim());
  const amount = match?.[1];
  const ms = amount === undefined ? Number.NaN : Number(amount) * (DURATION_UNITS[match?.[2] ?? 'ms'] ?? 1);
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 3_600_000) {
    throw invalidArgument(
      `${source} must be a duration such as 500ms, 10s or 2m (at most 1 hour), got ${JSON.stringify(value)}`,
      { source },
    );
  }
  return ms;
}

/** A control-bus base URL: `http:` or `https:` with a host; trailing slashes dropped. */
export function parseUrl(value: string, source: ValueSource): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidArgument(
      `${source} must be a URL such as http://127.0.0.1:4000, got ${JSON.stringify(value)}`,
      {
        source,
      },
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw invalidArgument(`${source} must be an http:// or https:// URL, got ${JSON.stringify(value)}`, {
      source,
    });
  }
  return url;
}
