import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresCapability, SqliteCapability } from './capability-handle.js';
import { Storage } from './storage.js';
import type { Migration } from './types.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create widgets',
    sqlite: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)',
    postgres: 'CREATE TABLE widgets (id BIGINT PRIMARY KEY, name TEXT NOT NULL)',
  },
];

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function sqliteStorage(): Promise<Storage> {
  const dir = await mkdtemp(join(tmpdir(), 'capability-'));
  dirs.push(dir);
  const storage = new Storage(`sqlite:${join(dir, 'db.sqlite')}`);
  await storage.open();
  return storage;
}

describe('SqliteCapability', () => {
  it('migrates once, prepares on the connection and prepares again after the storage reopened', async () => {
    const storage = await sqliteStorage();
    let prepared = 0;
    const access = new SqliteCapability(storage, 'widgets', MIGRATIONS, 'widget store', (db) => {
      prepared++;
      return { insert: db.prepare('INSERT INTO widgets (id, name) VALUES (?, ?)'), db };
    });
    expect(access.current()).toBeUndefined();
    const first = await access.ready();
    first.insert.run(1, 'a');
    expect(await access.ready()).toBe(first);
    expect(access.current()).toBe(first);
    expect(prepared).toBe(1);

    await storage.close();
    expect(access.current()).toBeUndefined();
    await storage.open();
    const second = await access.ready();
    expect(second).not.toBe(first);
    expect(prepared).toBe(2);
    second.insert.run(2, 'b');
    expect(second.db.prepare('SELECT count(*) AS n FROM widgets').get()).toEqual({ n: 2 });
    await storage.close();
  });

  it('refuses another kind of storage with FND_STORAGE_UNAVAILABLE, and tries again on the next call', async () => {
    const storage = new Storage('memory:');
    await storage.open();
    const access = new SqliteCapability(storage, 'widgets', MIGRATIONS, 'widget store', () => 1);
    await expect(access.ready()).rejects.toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
      message: 'The widget store needs a SQLite storage, got memory',
    });
    await expect(access.ready()).rejects.toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
  });
});

describe('PostgresCapability', () => {
  it('refuses a SQLite storage with FND_STORAGE_UNAVAILABLE after migrating it', async () => {
    const storage = await sqliteStorage();
    const access = new PostgresCapability(storage, 'widgets', MIGRATIONS, 'widget store');
    await expect(access.ready()).rejects.toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
      message: 'The widget store needs a PostgreSQL storage, got sqlite',
    });
    const handle = storage.handle();
    expect(handle.kind === 'sqlite' && handle.db.prepare('SELECT count(*) AS n FROM widgets').get()).toEqual({
      n: 0,
    });
    await storage.close();
  });
});
