/**
 * The migration runner's contract, run against SQLite and PostgreSQL: apply in order, idempotent re-runs,
 * tamper detection, a failing migration rolled back alone, list validation, concurrent migrators applying
 * each migration exactly once.
 *
 * @module
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Storage } from '../../src/storage/storage.js';
import { migrationChecksum } from '../../src/storage/migrations.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { rejection } from '../../src/testing/capture.js';
import { LOG_MIGRATIONS, same } from './fixtures/log-migrations.js';

/** A fresh, empty store for one test. */
export interface StoreFixture {
  /** URL of the store; every `new Storage(url)` reaches the same data. */
  readonly url: string;
  cleanup(): Promise<void>;
}

/** Runs a statement and returns its rows, on either engine. */
export async function rows(storage: Storage, sql: string): Promise<Array<Record<string, unknown>>> {
  const handle = storage.handle();
  if (handle.kind === 'sqlite') return handle.db.prepare<[], Record<string, unknown>>(sql).all();
  if (handle.kind === 'postgres') return (await handle.pool.query<Record<string, unknown>>(sql)).rows;
  throw new Error('memory storage has no tables');
}

/** Whether a table exists in the store (the PostgreSQL one: in the storage's schema). */
export async function tableExists(storage: Storage, table: string): Promise<boolean> {
  const handle = storage.handle();
  if (handle.kind === 'sqlite') {
    return (
      handle.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !==
      undefined
    );
  }
  if (handle.kind === 'postgres') {
    const result = await handle.pool.query(
      'SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2',
      [handle.schema, table],
    );
    return result.rowCount === 1;
  }
  return false;
}

/** Registers the contract's tests in the current `describe`. */
export function migrationContract(createFixture: () => Promise<StoreFixture>): void {
  let fixture: StoreFixture;
  const open: Storage[] = [];
  const clock = new FakeClock();

  async function storage(): Promise<Storage> {
    const s = new Storage(fixture.url, { clock });
    open.push(s);
    await s.open();
    return s;
  }

  async function logVersions(s: Storage): Promise<number[]> {
    const result = await rows(s, 'SELECT version FROM test_log ORDER BY version');
    return result.map((r) => Number(r.version));
  }

  beforeEach(async () => {
    fixture = await createFixture();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await fixture.cleanup();
  });

  it('applies every migration in order and records name, checksum and time', async () => {
    const s = await storage();
    expect(await s.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [1, 2, 3] });
    expect(await logVersions(s)).toEqual([2, 3]);
    expect(await tableExists(s, 'test_three')).toBe(true);
    const dialect = s.kind === 'postgres' ? 'postgres' : 'sqlite';
    const recorded = await rows(
      s,
      "SELECT capability, version, name, checksum, applied_at FROM foundation_migrations WHERE capability = 'test' ORDER BY version",
    );
    expect(recorded).toEqual(
      LOG_MIGRATIONS.map((m) => ({
        capability: 'test',
        version: m.version,
        name: m.name,
        checksum: migrationChecksum(m[dialect]),
        applied_at: clock.now(),
      })),
    );
  });

  it('is idempotent: a second run, on the same or another connection, applies nothing', async () => {
    const first = await storage();
    await first.migrate('test', LOG_MIGRATIONS);
    expect(await first.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [] });
    const second = await storage();
    expect(await second.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [] });
    expect(await logVersions(second)).toEqual([2, 3]);
  });

  it('applies only what is missing when the list grows', async () => {
    const s = await storage();
    expect(await s.migrate('test', LOG_MIGRATIONS.slice(0, 1))).toEqual({ applied: [1] });
    expect(await s.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [2, 3] });
    expect(await logVersions(s)).toEqual([2, 3]);
  });

  it('keeps capabilities apart', async () => {
    const s = await storage();
    await s.migrate('test', LOG_MIGRATIONS);
    const other = [same(1, 'other table', 'CREATE TABLE test_other (x INTEGER)')];
    expect(await s.migrate('other', other)).toEqual({ applied: [1] });
    expect(await s.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [] });
  });

  it('accepts a database migrated by a newer release (versions the code does not know)', async () => {
    const s = await storage();
    await s.migrate('test', LOG_MIGRATIONS);
    expect(await s.migrate('test', LOG_MIGRATIONS.slice(0, 2))).toEqual({ applied: [] });
  });

  it('refuses an applied migration whose SQL changed, and applies nothing more', async () => {
    const s = await storage();
    await s.migrate('test', LOG_MIGRATIONS.slice(0, 2));
    const edited = [
      LOG_MIGRATIONS[0]!,
      same(2, 'log 2', 'INSERT INTO test_log (version) VALUES (22)'),
      LOG_MIGRATIONS[2]!,
    ];
    const error = await rejection(s.migrate('test', edited));
    expect(error).toMatchObject({
      code: 'FND_STORAGE_MIGRATION_TAMPERED',
      context: { capability: 'test', version: 2, name: 'log 2' },
    });
    expect(await logVersions(s)).toEqual([2]);
    expect(await tableExists(s, 'test_three')).toBe(false);
  });

  it('ignores an edit of the other dialect (each dialect has its own checksum)', async () => {
    const s = await storage();
    await s.migrate('test', LOG_MIGRATIONS);
    const other = s.kind === 'postgres' ? 'sqlite' : 'postgres';
    const edited = LOG_MIGRATIONS.map((m) => ({ ...m, [other]: `${m[other]} -- edited` }));
    expect(await s.migrate('test', edited)).toEqual({ applied: [] });
  });

  it('rolls back a failing migration entirely, keeps the earlier ones, and resumes once fixed', async () => {
    const s = await storage();
    const broken = [
      ...LOG_MIGRATIONS.slice(0, 2),
      same(3, 'half done', 'CREATE TABLE test_partial (x INTEGER); INSERT INTO test_missing VALUES (1)'),
      same(4, 'never', 'INSERT INTO test_log (version) VALUES (4)'),
    ];
    const error = await rejection(s.migrate('test', broken));
    expect(error).toMatchObject({
      code: 'FND_STORAGE_MIGRATION_FAILED',
      context: { capability: 'test', version: 3, name: 'half done' },
    });
    expect((error as Error).message).toMatch(/test_missing/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(await tableExists(s, 'test_partial')).toBe(false);
    expect(await logVersions(s)).toEqual([2]);
    const recorded = await rows(
      s,
      "SELECT version FROM foundation_migrations WHERE capability = 'test' ORDER BY version",
    );
    expect(recorded.map((r) => r.version)).toEqual([1, 2]);

    const fixed = [
      ...broken.slice(0, 2),
      same(3, 'fixed', 'CREATE TABLE test_partial (x INTEGER)'),
      broken[3]!,
    ];
    expect(await s.migrate('test', fixed)).toEqual({ applied: [3, 4] });
    expect(await logVersions(s)).toEqual([2, 4]);
  });

  it('rejects a list with a gap before touching the store', async () => {
    const s = await storage();
    const error = await rejection(s.migrate('test', [LOG_MIGRATIONS[0]!, LOG_MIGRATIONS[2]!]));
    expect(error).toMatchObject({ code: 'FND_STORAGE_MIGRATION_FAILED' });
    expect(await tableExists(s, 'test_log')).toBe(false);
  });

  it('applies each migration exactly once when several storages migrate at the same time', async () => {
    const storages = await Promise.all([storage(), storage(), storage(), storage()]);
    const results = await Promise.all(storages.map((s) => s.migrate('test', LOG_MIGRATIONS)));
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual([1, 2, 3]);
    expect(await logVersions(storages[0])).toEqual([2, 3]);
  });
}
