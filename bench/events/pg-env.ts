/**
 * The PostgreSQL server the event benchmarks run against, and throw-away schemas and databases on it: one
 * per case and implementation, dropped after the case, so the implementations never share tables.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server: `FOUNDATION_TEST_PG_URL`, else `postgres://postgres@127.0.0.1:5432/test` (same as the tests). */
export function pgBenchUrl(): string {
  const fromEnv = process.env.FOUNDATION_TEST_PG_URL;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'postgres://postgres@127.0.0.1:5432/test';
}

/** `url` without credentials, for messages. */
function redacted(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** Runs statements on a short-lived connection to `url` (default: the bench server). */
export async function pgRun<T extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: readonly unknown[] = [],
  url: string = pgBenchUrl(),
): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query<T>(sql, [...params]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why the PostgreSQL cases cannot run (server unreachable), or `undefined` when they can. */
export async function pgUnavailable(): Promise<string | undefined> {
  try {
    await pgRun('SELECT 1');
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `PostgreSQL at ${redacted(pgBenchUrl())} is unreachable (${reason})`;
  }
}

/** A name `<prefix>_<12 random hex digits>`: a valid unquoted identifier when the prefix is one. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A URL with query parameters set (e.g. `schema`, `poolSize` for `new Storage(url)`). */
export function withParams(url: string, params: Readonly<Record<string, string>>): string {
  const parsed = new URL(url);
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  return parsed.toString();
}

/** A throw-away schema or database. */
export interface Scratch {
  /** Schema or database name. */
  readonly name: string;
  /** Drops it and everything in it; harmless when called twice. */
  drop(): Promise<void>;
}

/** Creates an empty schema `<prefix>_<random>` on the bench server. */
export async function createScratchSchema(prefix: string): Promise<Scratch> {
  const name = randomName(prefix);
  await pgRun(`CREATE SCHEMA "${name}"`);
  let dropped = false;
  return {
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pgRun(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    },
  };
}

/** A throw-away database and the URL that connects to it. */
export interface ScratchDatabase extends Scratch {
  readonly url: string;
}

/**
 * Creates an empty database `<prefix>_<random>` on the bench server (for a library whose tables and
 * functions live in `public` and which checks for its functions database-wide, like emmett).
 */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = randomName(prefix);
  await pgRun(`CREATE DATABASE "${name}"`);
  const parsed = new URL(pgBenchUrl());
  parsed.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: parsed.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await pgRun(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
