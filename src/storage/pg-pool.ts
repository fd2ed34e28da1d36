/**
 * Opening a PostgreSQL pool with the foundation's settings: `pg` loaded on first use, `search_path` set to the
 * foundation's schema on every connection (a startup parameter, so no client is ever handed out before it is
 * set), int8 read as JS numbers through a per-pool type parser, fast connection timeouts, and the schema
 * created when missing.
 *
 * @module
 */
import type pg from 'pg';
import { FoundationError } from '../errors/foundation-error.js';
import { classifyPgError } from './pg-errors.js';
import { DEFAULT_PG_QUERY_TIMEOUT_MS } from './store-url.js';
import type { PostgresHandle, StoreLocation } from './types.js';

type PostgresLocation = Extract<StoreLocation, { kind: 'postgres' }>;

/** How long acquiring a new connection may take before the caller gets `FND_STORAGE_UNAVAILABLE`, ms. */
export const PG_CONNECT_TIMEOUT_MS = 5000;

/** How long an idle pooled connection is kept, ms. */
export const PG_IDLE_TIMEOUT_MS = 30_000;

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

/** Options of {@link openPostgres}. */
export interface OpenPostgresOptions {
  /** `application_name` of the pool's connections (a URL's own `application_name` wins). */
  readonly applicationName: string;
  /** Called for errors of idle clients (server restart, terminated backend); the pool drops those clients. */
  readonly onPoolError: (error: Error) => void;
}

type PgModule = typeof pg;

async function loadDriver(): Promise<PgModule> {
  try {
    const module = await import('pg');
    return module.default;
  } catch (error) {
    throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: 'The PostgreSQL store needs the pg package (npm install pg@^8)',
      cause: error,
      retryStrategy: 'no_retry',
    });
  }
}

/** Parses an int8 text value; values beyond ±2^53 would lose precision, so they fail the query instead. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new FoundationError('FND_STORAGE_QUERY_FAILED', {
      message: `A bigint value (${text.slice(0, 30)}) is beyond 2^53 and cannot be read as a number`,
      context: { value: text.slice(0, 30) },
    });
  }
  return n;
}

function mapNested(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mapNested);
  return typeof value === 'string' ? parseInt8(value) : value;
}

/** A per-pool type registry: int8 and int8[] as numbers, everything else as `pg`'s defaults. */
function typesConfig(driver: PgModule): pg.CustomTypesConfig {
  // pg's typings use an enum of known oids; any oid is valid at run time.
  const lookup = driver.types.getTypeParser.bind(driver.types) as unknown as (
    oid: number,
    format?: 'text' | 'binary',
  ) => unknown;
  const int8Array = lookup(INT8_ARRAY_OID, 'text') as (text: string) => unknown;
  const getTypeParser = (oid: number, format?: 'text' | 'binary'): unknown => {
    if (format !== 'binary') {
      if (oid === INT8_OID) return parseInt8;
      if (oid === INT8_ARRAY_OID) return (text: string) => mapNested(int8Array(text));
    }
    return lookup(oid, format);
  };
  return { getTypeParser: getTypeParser as pg.CustomTypesConfig['getTypeParser'] };
}

/**
 * Splits the `options` parameter out of a connection string so ours (`-c search_path=…`) can be appended
 * to the user's instead of being overridden by it (`pg` lets the connection string win over the config).
 */
function splitOptions(connectionString: string): { connectionString: string; options: string } {
  try {
    const url = new URL(connectionString);
    const options = url.searchParams.get('options');
    if (options === null) return { connectionString, options: '' };
    url.searchParams.delete('options');
    return { connectionString: url.toString(), options };
  } catch {
    return { connectionString, options: '' };
  }
}

/** The `pg.Pool` configuration for a location. */
export function poolConfig(
  driver: PgModule,
  location: PostgresLocation,
  options: OpenPostgresOptions,
): pg.PoolConfig {
  const split = splitOptions(location.connectionString);
  const searchPath = `-c search_path=${location.schema}`;
  return {
    connectionString: split.connectionString,
    options: split.options === '' ? searchPath : `${split.options} ${searchPath}`,
    max: location.poolSize,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    query_timeout: location.queryTimeoutMs ?? DEFAULT_PG_QUERY_TIMEOUT_MS,
    idleTimeoutMillis: PG_IDLE_TIMEOUT_MS,
    allowExitOnIdle: true,
    application_name: options.applicationName,
    types: typesConfig(driver),
  };
}

async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  const found = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (found.rowCount !== 0) return;
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two processes creating the schema at once: the loser sees a unique violation; the schema exists.
    const again = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (again.rowCount === 0) throw error;
  }
}

/**
 * Creates the pool, checks that the server answers and creates the schema if missing.
 *
 * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the driver is missing or the server cannot be reached
 * (within {@link PG_CONNECT_TIMEOUT_MS}); `FND_STORAGE_QUERY_FAILED` when the schema cannot be created.
 */
export async function openPostgres(
  location: PostgresLocation,
  options: OpenPostgresOptions,
): Promise<PostgresHandle> {
  const driver = await loadDriver();
  const pool = new driver.Pool(poolConfig(driver, location, options));
  pool.on('error', options.onPoolError);
  try {
    await ensureSchema(pool, location.schema);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw classifyPgError(error);
  }
  return { kind: 'postgres', pool, schema: location.schema, location };
}

/**
 * Runs `fn` with a client checked out of the pool, safely: the client gets an `error` listener while checked
 * out (pg-pool only listens on idle clients, so a server-side kill of a busy connection would otherwise be an
 * uncaught exception), a client whose connection broke is destroyed instead of returned to the pool, and a
 * failure to connect is classified (`FND_STORAGE_UNAVAILABLE`). Errors thrown by `fn` propagate unchanged.
 *
 * @example
 * ```ts
 * await withPgClient(handle.pool, async (client) => {
 *   await client.query('BEGIN');
 *   // …
 *   await client.query('COMMIT');
 * });
 * ```
 */
export async function withPgClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw classifyPgError(error);
  }
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (error) {
    if (broken === undefined && classifyPgError(error).code === 'FND_STORAGE_UNAVAILABLE') {
      broken = error instanceof Error ? error : new Error(String(error));
    }
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
