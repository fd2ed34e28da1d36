import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteSettings } from '../../src/storage/sqlite-connection.js';
import { Storage } from '../../src/storage/storage.js';
import { onTelemetry } from '../../src/kernel/telemetry.js';
import { rejection, thrown } from '../../src/testing/capture.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { LOG_MIGRATIONS } from './fixtures/log-migrations.js';
import { migrationContract, rows } from './migration-contract.js';

const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));

let dir: string;
const storages: Storage[] = [];

function track(storage: Storage): Storage {
  storages.push(storage);
  return storage;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foundation-storage-'));
});

afterEach(async () => {
  await Promise.all(storages.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

function sqliteHandle(storage: Storage) {
  const handle = storage.handle();
  if (handle.kind !== 'sqlite') throw new Error(`expected sqlite, got ${handle.kind}`);
  return handle;
}

describe('Storage on a SQLite file', () => {
  it('creates the file in a nested directory and applies the pragmas', async () => {
    const path = join(dir, 'a', 'b', 'c', 'store.db');
    const storage = track(new Storage(`sqlite:${path}?busyTimeoutMs=1234`));
    expect(storage.kind).toBe('sqlite');
    expect(existsSync(path)).toBe(false);
    await storage.open();
    expect(existsSync(path)).toBe(true);
    expect(sqliteSettings(sqliteHandle(storage).db)).toEqual({
      journalMode: 'wal',
      synchronous: 1,
      busyTimeoutMs: 1234,
      foreignKeys: true,
    });
  });

  it('uses synchronous=FULL when asked', async () => {
    const storage = track(new Storage(`sqlite:${join(dir, 'full.db')}?synchronous=FULL`));
    await storage.open();
    expect(sqliteSettings(sqliteHandle(storage).db)).toMatchObject({ journalMode: 'wal', synchronous: 2 });
  });

  it('resolves a relative path against the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const storage = track(new Storage('sqlite:./rel/x.db'));
      await storage.open();
      expect(sqliteHandle(storage).db.name).toBe(join(dir, 'rel', 'x.db'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('opens sqlite::memory: without WAL', async () => {
    const storage = track(new Storage('sqlite::memory:'));
    await storage.open();
    const settings = sqliteSettings(sqliteHandle(storage).db);
    expect(settings).toEqual({
      journalMode: 'memory',
      synchronous: 1,
      busyTimeoutMs: 5000,
      foreignKeys: true,
    });
    expect(await storage.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [1, 2, 3] });
  });

  it('fails to open with FND_STORAGE_UNAVAILABLE when the path cannot be created', async () => {
    const blocker = join(dir, 'file');
    const first = track(new Storage(`sqlite:${blocker}`));
    await first.open();
    const storage = track(new Storage(`sqlite:${join(blocker, 'sub', 'x.db')}`));
    const error = await rejection(storage.open());
    expect(error).toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
      context: { path: join(blocker, 'sub', 'x.db') },
    });
    expect(storage.isOpen).toBe(false);
  });

  it('handle() throws FND_STORAGE_UNAVAILABLE before open and after close', async () => {
    const storage = track(new Storage(`sqlite:${join(dir, 'h.db')}`));
    expect(thrown(() => storage.handle())).toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
      context: { status: 'closed' },
    });
    await expect(storage.migrate('test', LOG_MIGRATIONS)).rejects.toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
    });
    await storage.open();
    expect(storage.handle().kind).toBe('sqlite');
    await storage.close();
    expect(thrown(() => storage.handle())).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
  });

  it('open and close are idempotent, concurrent calls share one attempt, and it reopens', async () => {
    const storage = track(new Storage(`sqlite:${join(dir, 'i.db')}`));
    await Promise.all([storage.open(), storage.open()]);
    const { db } = sqliteHandle(storage);
    await storage.open();
    expect(sqliteHandle(storage).db).toBe(db);
    await Promise.all([storage.close(), storage.close()]);
    await storage.close();
    expect(db.open).toBe(false);
    await storage.open();
    expect(sqliteHandle(storage).db.open).toBe(true);
    await storage.migrate('test', LOG_MIGRATIONS);
    await storage.close();
    await storage.open();
    expect(await storage.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [] });
  });

  it('publishes storage:opened, storage:migrated and storage:closed', async () => {
    const seen: Array<{ name: string; measurements: unknown; metadata: unknown }> = [];
    const offs = ['storage:opened', 'storage:migrated', 'storage:closed'].map((name) =>
      onTelemetry(name, (m) =>
        seen.push({ name: m.name, measurements: m.measurements, metadata: m.metadata }),
      ),
    );
    try {
      const clock = new FakeClock();
      const path = join(dir, 't.db');
      const storage = new Storage(`sqlite:${path}`, { clock });
      await storage.open();
      await storage.migrate('test', LOG_MIGRATIONS);
      await storage.migrate('test', LOG_MIGRATIONS);
      await storage.close();
      expect(seen).toEqual([
        {
          name: 'storage:opened',
          measurements: { duration: 0 },
          metadata: { kind: 'sqlite', store: `sqlite:${path}` },
        },
        {
          name: 'storage:migrated',
          measurements: { count: 3, duration: 0 },
          metadata: { capability: 'test', versions: [1, 2, 3], store: `sqlite:${path}` },
        },
        { name: 'storage:closed', measurements: {}, metadata: { kind: 'sqlite', store: `sqlite:${path}` } },
      ]);
    } finally {
      for (const off of offs) off();
    }
  });

  it('close() during open() waits and leaves it closed', async () => {
    const storage = track(new Storage(`sqlite:${join(dir, 'c.db')}`));
    const opening = storage.open();
    await storage.close();
    await opening;
    expect(storage.isOpen).toBe(false);
  });

  it('applies each migration exactly once when separate processes migrate the same file at once', async () => {
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const children = Array.from({ length: 3 }, () =>
      spawn(process.execPath, ['--import', 'tsx', CHILD, url], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<string>((resolve, reject) => {
          let out = '';
          let err = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out === 'ready\n') ready();
          });
          child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
          child.on('exit', (code) => {
            if (code === 0) resolve(out);
            else reject(new Error(`child exited ${String(code)}: ${err}`));
          });
        }),
    );
    let readyCount = 0;
    function ready(): void {
      readyCount += 1;
      if (readyCount === children.length) for (const c of children) c.stdin.write('go\n');
    }
    const results = (await Promise.all(outputs)).map((out) => JSON.parse(out.split('\n')[1]!) as number[]);
    expect(results.flat().sort()).toEqual([1, 2, 3]);
    const storage = track(new Storage(url));
    await storage.open();
    expect(
      (await rows(storage, 'SELECT version FROM test_log ORDER BY version')).map((r) => r.version),
    ).toEqual([2, 3]);
  });
});

describe('migrations on SQLite', () => {
  migrationContract(async () => {
    const fixtureDir = await mkdtemp(join(tmpdir(), 'foundation-migrate-'));
    return {
      url: `sqlite:${join(fixtureDir, 'm.db')}`,
      cleanup: () => rm(fixtureDir, { recursive: true, force: true }),
    };
  });
});

describe('Storage on memory:', () => {
  it('opens, hands out a memory handle, migrates nothing and closes', async () => {
    const storage = track(new Storage('memory:'));
    expect(storage.kind).toBe('memory');
    expect(storage.description).toBe('memory:');
    await storage.open();
    expect(storage.handle()).toEqual({ kind: 'memory' });
    expect(await storage.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [] });
    await storage.close();
    expect(storage.isOpen).toBe(false);
  });

  it('rejects a bad URL in the constructor', () => {
    expect(thrown(() => new Storage('nope'))).toMatchObject({ code: 'FND_STORAGE_INVALID_URL' });
  });
});
