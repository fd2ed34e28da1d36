/**
 * Store URLs: `memory:`, `sqlite:<path>` and `postgres://…` parsed into a {@link StoreLocation}, plus a safe
 * display form. Messages and error contexts never contain a password.
 *
 * @module
 */
import { FoundationError } from '../errors/foundation-error.js';
import type { StoreLocation } from './types.js';

/** The store used when none is configured: a SQLite file under `./.foundation/`. */
export const DEFAULT_STORE_URL = 'sqlite:./.foundation/foundation.db';

/** Default PostgreSQL schema holding the foundation's tables. */
export const DEFAULT_PG_SCHEMA = 'foundation';

/** Default PostgreSQL pool size. */
export const DEFAULT_PG_POOL_SIZE = 10;

/** Default longest wait for one statement's answer on PostgreSQL, ms. */
export const DEFAULT_PG_QUERY_TIMEOUT_MS = 30_000;

/** Bounds of the `queryTimeoutMs` parameter, ms. */
const MIN_PG_QUERY_TIMEOUT_MS = 100;
const MAX_PG_QUERY_TIMEOUT_MS = 3_600_000;

/** Default SQLite busy timeout, ms. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000;

/** Largest accepted SQLite busy timeout, ms (10 minutes). */
export const MAX_SQLITE_BUSY_TIMEOUT_MS = 600_000;

/**
 * A valid PostgreSQL schema name for the foundation: lowercase, starts with a letter or `_`, at most 63
 * characters, and not in the `pg_` prefix PostgreSQL reserves. Such a name is safe to double-quote.
 */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

const MAX_SHOWN = 200;

/** Whether `name` is an acceptable PostgreSQL schema name (see {@link SCHEMA_NAME_PATTERN}). */
export function isValidSchemaName(name: string): boolean {
  return SCHEMA_NAME_PATTERN.test(name) && !name.startsWith('pg_');
}

/**
 * Hides credentials in a URL-like string: the password of the userinfo part (everything between `://` and the
 * last `@`, after the first `:`) and any `password=` query parameter. Works on strings that are not valid URLs.
 */
export function redactUrl(url: string): string {
  let out = url;
  const start = out.indexOf('://');
  if (start >= 0) {
    const at = out.lastIndexOf('@');
    if (at > start) {
      const userinfo = out.slice(start + 3, at);
      const colon = userinfo.indexOf(':');
      if (colon >= 0) {
        out = `${out.slice(0, start + 3)}${userinfo.slice(0, colon)}:***${out.slice(at)}`;
      }
    }
  }
  return out.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

function invalid(url: string, reason: string): FoundationError {
  const redacted = redactUrl(url);
  const shown = redacted.length > MAX_SHOWN ? `${redacted.slice(0, MAX_SHOWN)}…` : redacted;
  return new FoundationError('FND_STORAGE_INVALID_URL', {
    message: `Invalid store URL "${shown}": ${reason}. Expected memory:, sqlite:<path> or postgres://…`,
    context: { url: shown, reason },
  });
}

/** Splits `a=1&b=2`, rejecting empty keys and duplicates. */
function parseParams(url: string, query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq >= 0 ? pair.slice(0, eq) : pair;
    const raw = eq >= 0 ? pair.slice(eq + 1) : '';
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw invalid(url, `query parameter "${key}" is not valid percent-encoding`);
    }
    if (key === '') throw invalid(url, 'empty query parameter name');
    if (params.has(key)) throw invalid(url, `query parameter "${key}" given twice`);
    params.set(key, value);
  }
  return params;
}

function parseInteger(url: string, name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(value)) throw invalid(url, `${name} must be an integer, got "${value.slice(0, 20)}"`);
  const n = Number(value);
  if (n < min || n > max) throw invalid(url, `${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseSqlite(url: string, rest: string): StoreLocation {
  const q = rest.indexOf('?');
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const params = parseParams(url, q >= 0 ? rest.slice(q + 1) : '');
  // `sqlite:///abs/file.db` and `sqlite://rel.db` are accepted as spellings of `sqlite:/abs/file.db`.
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw invalid(url, 'the SQLite path is empty');
  if (path.includes('\0')) throw invalid(url, 'the SQLite path contains a NUL character');
  let synchronous: 'NORMAL' | 'FULL' = 'NORMAL';
  let busyTimeoutMs = DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  for (const [key, value] of params) {
    if (key === 'synchronous') {
      const upper = value.toUpperCase();
      if (upper !== 'NORMAL' && upper !== 'FULL') {
        throw invalid(url, `synchronous must be NORMAL or FULL, got "${value.slice(0, 20)}"`);
      }
      synchronous = upper;
    } else if (key === 'busyTimeoutMs') {
      busyTimeoutMs = parseInteger(url, 'busyTimeoutMs', value, 0, MAX_SQLITE_BUSY_TIMEOUT_MS);
    } else {
      throw invalid(
        url,
        `unknown SQLite parameter "${key.slice(0, 40)}" (known: synchronous, busyTimeoutMs)`,
      );
    }
  }
  return { kind: 'sqlite', path, synchronous, busyTimeoutMs };
}

function parsePostgres(url: string): StoreLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'not a valid URL');
  }
  if (parsed.hash !== '') throw invalid(url, 'a PostgreSQL URL has no #fragment');
  const params = parsed.searchParams;
  const keys = [...params.keys()];
  for (const key of new Set(keys)) {
    if (key === '') throw invalid(url, 'empty query parameter name');
    if (params.getAll(key).length > 1)
      throw invalid(url, `query parameter "${key.slice(0, 40)}" given twice`);
  }
  if (parsed.hostname === '' && !params.has('host')) throw invalid(url, 'no host');
  let schema = DEFAULT_PG_SCHEMA;
  const schemaParam = params.get('schema');
  if (schemaParam !== null) {
    if (!isValidSchemaName(schemaParam)) {
      throw invalid(
        url,
        `schema "${schemaParam.slice(0, 70)}" must match ${String(SCHEMA_NAME_PATTERN)} and not start with pg_`,
      );
    }
    schema = schemaParam;
    params.delete('schema');
  }
  let poolSize = DEFAULT_PG_POOL_SIZE;
  const poolParam = params.get('poolSize');
  if (poolParam !== null) {
    poolSize = parseInteger(url, 'poolSize', poolParam, 1, 100);
    params.delete('poolSize');
  }
  let queryTimeoutMs = DEFAULT_PG_QUERY_TIMEOUT_MS;
  const timeoutParam = params.get('queryTimeoutMs');
  if (timeoutParam !== null) {
    queryTimeoutMs = parseInteger(
      url,
      'queryTimeoutMs',
      timeoutParam,
      MIN_PG_QUERY_TIMEOUT_MS,
      MAX_PG_QUERY_TIMEOUT_MS,
    );
    params.delete('queryTimeoutMs');
  }
  return { kind: 'postgres', connectionString: parsed.toString(), schema, poolSize, queryTimeoutMs };
}

/**
 * Parses a store URL.
 *
 * - `memory:` — no persistence.
 * - `sqlite:<path>` — a file path (relative to the working directory or absolute) or `:memory:`; query
 *   parameters `synchronous=NORMAL|FULL` (default `NORMAL`) and `busyTimeoutMs=<0..600000>` (default 5000).
 * - `postgres://…` or `postgresql://…` — a libpq-style URL; `schema=<name>` (default `foundation`) and
 *   `poolSize=<1..100>` (default 10) and `queryTimeoutMs=<100..3600000>` (default 30 000: how long one
 *   statement may wait for the server's answer) are removed from the connection string, every other parameter is kept
 *   for `pg`.
 *
 * @throws FoundationError `FND_STORAGE_INVALID_URL` for anything else (the message never shows a password).
 * @example
 * ```ts
 * parseStoreUrl('sqlite:./data/app.db?synchronous=FULL');
 * // { kind: 'sqlite', path: './data/app.db', synchronous: 'FULL', busyTimeoutMs: 5000 }
 * ```
 */
export function parseStoreUrl(url: string): StoreLocation {
  // Callers from plain JavaScript or config files may pass anything.
  const value: unknown = url;
  if (typeof value !== 'string') {
    const type = value === null ? 'null' : typeof value;
    throw new FoundationError('FND_STORAGE_INVALID_URL', {
      message: `A store URL must be a string, got ${type}`,
      context: { type },
    });
  }
  const trimmed = url.trim();
  if (trimmed === '') throw invalid(url, 'empty');
  const colon = trimmed.indexOf(':');
  const scheme = colon > 0 ? trimmed.slice(0, colon).toLowerCase() : '';
  const rest = trimmed.slice(colon + 1);
  switch (scheme) {
    case 'memory':
      if (rest !== '' && rest !== '//') throw invalid(url, 'memory: takes no path or parameters');
      return { kind: 'memory' };
    case 'sqlite':
      return parseSqlite(url, rest);
    case 'postgres':
    case 'postgresql':
      return parsePostgres(trimmed);
    default:
      throw invalid(url, colon > 0 ? `unknown scheme "${scheme.slice(0, 20)}"` : 'no scheme');
  }
}

/**
 * A display string for a location, safe for logs and status pages: `memory:`, `sqlite:<path>` or the
 * PostgreSQL URL without its password, with `schema` shown.
 */
export function describeStore(location: StoreLocation): string {
  switch (location.kind) {
    case 'memory':
      return 'memory:';
    case 'sqlite':
      return `sqlite:${location.path}`;
    case 'postgres': {
      let shown: string;
      try {
        const parsed = new URL(location.connectionString);
        parsed.password = '';
        parsed.searchParams.delete('password');
        parsed.searchParams.set('schema', location.schema);
        shown = parsed.toString();
      } catch {
        shown = redactUrl(location.connectionString);
      }
      return shown;
    }
  }
}

/**
 * A location from a URL or an object, checked: objects built by hand (or by plain JavaScript) get the same
 * validation as parsed URLs, since the schema name and pragmas end up in SQL text.
 *
 * @throws FoundationError `FND_STORAGE_INVALID_URL`.
 */
export function toStoreLocation(input: StoreLocation | string): StoreLocation {
  if (typeof input === 'string') return parseStoreUrl(input);
  const value: unknown = input;
  const bad = (reason: string): FoundationError =>
    new FoundationError('FND_STORAGE_INVALID_URL', {
      message: `Invalid store location: ${reason}`,
      context: { reason },
    });
  if (typeof value !== 'object' || value === null) throw bad('not a URL string or a location object');
  const location = value as Partial<Record<string, unknown>>;
  switch (location.kind) {
    case 'memory':
      return { kind: 'memory' };
    case 'sqlite': {
      const { path, synchronous, busyTimeoutMs } = location;
      if (typeof path !== 'string' || path === '' || path.includes('\0'))
        throw bad('sqlite path must be a file path');
      if (synchronous !== 'NORMAL' && synchronous !== 'FULL') throw bad('synchronous must be NORMAL or FULL');
      if (
        typeof busyTimeoutMs !== 'number' ||
        !Number.isInteger(busyTimeoutMs) ||
        busyTimeoutMs < 0 ||
        busyTimeoutMs > MAX_SQLITE_BUSY_TIMEOUT_MS
      ) {
        throw bad(`busyTimeoutMs must be an integer between 0 and ${MAX_SQLITE_BUSY_TIMEOUT_MS}`);
      }
      return { kind: 'sqlite', path, synchronous, busyTimeoutMs };
    }
    case 'postgres': {
      const { connectionString, schema, poolSize, queryTimeoutMs } = location;
      if (typeof connectionString !== 'string' || connectionString === '')
        throw bad('connectionString is empty');
      if (typeof schema !== 'string' || !isValidSchemaName(schema)) {
        throw bad(`schema must match ${String(SCHEMA_NAME_PATTERN)} and not start with pg_`);
      }
      if (typeof poolSize !== 'number' || !Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
        throw bad('poolSize must be an integer between 1 and 100');
      }
      if (
        queryTimeoutMs !== undefined &&
        (typeof queryTimeoutMs !== 'number' ||
          !Number.isInteger(queryTimeoutMs) ||
          queryTimeoutMs < MIN_PG_QUERY_TIMEOUT_MS ||
          queryTimeoutMs > MAX_PG_QUERY_TIMEOUT_MS)
      ) {
        throw bad(
          `queryTimeoutMs must be an integer between ${MIN_PG_QUERY_TIMEOUT_MS} and ${MAX_PG_QUERY_TIMEOUT_MS}`,
        );
      }
      return {
        kind: 'postgres',
        connectionString,
        schema,
        poolSize,
        queryTimeoutMs: queryTimeoutMs ?? DEFAULT_PG_QUERY_TIMEOUT_MS,
      };
    }
    default:
      throw bad('kind must be memory, sqlite or postgres');
  }
}
