import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freshPostgresDump, freshSqliteDump, SCHEMA_FILES } from '../../scripts/dump-schema.js';
import { describePg, pgTestUrl } from '../helpers/postgres.js';

const HINT =
  'The schema after all migrations differs from the committed dump: run `npx tsx scripts/dump-schema.ts`, review the diff and commit it.';

async function committed(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

describe('SQLite schema', () => {
  it('matches test/schema/sqlite.sql', async () => {
    expect(await freshSqliteDump(), HINT).toBe(await committed(SCHEMA_FILES.sqlite));
  });
});

describePg('PostgreSQL schema', () => {
  it('matches test/schema/postgres.sql', async () => {
    expect(await freshPostgresDump(pgTestUrl()), HINT).toBe(await committed(SCHEMA_FILES.postgres));
  });
});
