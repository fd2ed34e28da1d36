/**
 * Test helpers for PostgreSQL: the test server's URL, a throw-away schema per test file, and `describePg`, a
 * `describe` that runs only when the server is reachable (and fails in CI when it is not).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import { redactUrl } from '../../src/storage/store-url.js';

/** The test server: `FOUNDATION_TEST_PG_URL`, else `postgres://postgres@127.0.0.1:5432/test`. */
export function pgTestUrl(): string {
  const fromEnv = process.env.FOUNDATION_TEST_PG_URL;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'postgres://postgres@127.0.0.1:5432/test';
}

/** Whether the test server answered, and why not when it did not. */
interface Availability {
  readonly ok: boolean;
  readonly reason: string;
}

async function probe(url: string): Promise<Availability> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true, reason: '' };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

const availability: Availability = await probe(pgTestUrl());

/** Whether the test server is reachable (probed once when this module loads). */
export function pgAvailable(): boolean {
  return availability.ok;
}

/**
 * `describe` for suites that need PostgreSQL. When the server is unreachable: in CI (`CI=true`) the suite
 * fails with "PostgreSQL is required in CI"; elsewhere it is skipped with a visible warning.
 */
export function describePg(name: string, fn: () => void): void {
  if (availability.ok) {
    describe(name, fn);
    return;
  }
  const where = redactUrl(pgTestUrl());
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('PostgreSQL is required in CI', () => {
        throw new Error(`PostgreSQL is required in CI: ${where} is unreachable (${availability.reason})`);
      });
    });
    return;
  }
  console.warn(
    `[describePg] skipping "${name}": PostgreSQL at ${where} is unreachable (${availability.reason})`,
  );
  describe.skipIf(true)(name, fn);
}

/** A schema created for one test file. */
export interface TestSchema {
  /** The test server's URL with `?schema=<schema>` (ready for `new Storage(url)`). */
  readonly url: string;
  /** The schema name, `t_<random>`. */
  readonly schema: string;
  /** Drops the schema and everything in it (CASCADE); harmless when called twice. */
  drop(): Promise<void>;
}

/** Runs one statement on a short-lived connection to the test server. */
export async function pgExec(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: pgTestUrl(), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql, [...params]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A connected client of the test server whose `search_path` is `schema`, as another process (an older
 * release, an operator's session) would connect; the caller ends it.
 */
export async function schemaClient(schema: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgTestUrl(), options: `-c search_path=${schema}` });
  await client.connect();
  return client;
}

/** A fresh schema name: `t_` and 12 random hex digits. */
export function randomSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Appends `?schema=<schema>` (or `&schema=`) to a PostgreSQL URL. */
export function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('schema', schema);
  return parsed.toString();
}

/** Creates an empty schema `t_<random>` on the test server. */
export async function createTestSchema(): Promise<TestSchema> {
  const schema = randomSchemaName();
  await pgExec(`CREATE SCHEMA "${schema}"`);
  let dropped = false;
  return {
    url: withSchema(pgTestUrl(), schema),
    schema,
    async drop(): Promise<void> {
      if (dropped) return;
      dropped = true;
      await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
