/**
 * Regenerates `test/schema/sqlite.sql` and `test/schema/postgres.sql`: the schema after every capability's
 * migrations (`ALL_MIGRATIONS`), on a fresh SQLite file and a fresh PostgreSQL schema.
 *
 * Usage: `npx tsx scripts/dump-schema.ts` rewrites both files; `--check` writes nothing and exits with status 1
 * when a file is out of date; `--sqlite-only` skips PostgreSQL. The PostgreSQL server is
 * `FOUNDATION_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`); a throw-away schema is created
 * and dropped.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_MIGRATIONS } from '../src/storage/all-migrations.js';
import { dumpStorageSchema, migrateAll, renderSchemaFile } from '../src/storage/schema-dump.js';
import { Storage } from '../src/storage/storage.js';

/** Where the committed dumps live. */
export const SCHEMA_FILES = {
  sqlite: fileURLToPath(new URL('../test/schema/sqlite.sql', import.meta.url)),
  postgres: fileURLToPath(new URL('../test/schema/postgres.sql', import.meta.url)),
} as const;

/** The SQLite dump after all migrations, from a fresh file. */
export async function freshSqliteDump(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'foundation-schema-'));
  const storage = new Storage(`sqlite:${join(dir, 'schema.db')}`);
  try {
    await storage.open();
    await migrateAll(storage, ALL_MIGRATIONS);
    return renderSchemaFile('sqlite', ALL_MIGRATIONS, await dumpStorageSchema(storage));
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The PostgreSQL dump after all migrations, from a fresh schema on `baseUrl` (dropped afterwards). */
export async function freshPostgresDump(baseUrl: string): Promise<string> {
  const schema = `dump_${randomBytes(6).toString('hex')}`;
  const url = new URL(baseUrl);
  url.searchParams.set('schema', schema);
  const storage = new Storage(url.toString());
  await storage.open();
  try {
    await migrateAll(storage, ALL_MIGRATIONS);
    return renderSchemaFile('postgres', ALL_MIGRATIONS, await dumpStorageSchema(storage));
  } finally {
    const handle = storage.handle();
    if (handle.kind === 'postgres') await handle.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await storage.close();
  }
}

async function main(args: readonly string[]): Promise<number> {
  const check = args.includes('--check');
  const pgUrl = process.env.FOUNDATION_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dumps: Array<[keyof typeof SCHEMA_FILES, string]> = [['sqlite', await freshSqliteDump()]];
  if (!args.includes('--sqlite-only')) dumps.push(['postgres', await freshPostgresDump(pgUrl)]);
  let stale = 0;
  for (const [dialect, text] of dumps) {
    const path = SCHEMA_FILES[dialect];
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current === text) {
      console.log(`${path}: up to date`);
    } else if (check) {
      console.error(`${path}: out of date (run npx tsx scripts/dump-schema.ts)`);
      stale += 1;
    } else {
      await writeFile(path, text);
      console.log(`${path}: written`);
    }
  }
  return stale === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
