import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { advisoryLockKey } from '../../src/storage/migrations.js';
import { classifyPgError } from '../../src/storage/pg-errors.js';
import { withPgClient } from '../../src/storage/pg-pool.js';
import { Storage } from '../../src/storage/storage.js';
import type { PostgresHandle } from '../../src/storage/types.js';
import { rejection } from '../../src/testing/capture.js';
import { freePort } from '../helpers/ports.js';
import {
  createTestSchema,
  describePg,
  pgExec,
  pgTestUrl,
  randomSchemaName,
  withSchema,
  type TestSchema,
} from '../helpers/postgres.js';
import { LOG_MIGRATIONS } from './fixtures/log-migrations.js';
import { migrationContract, rows } from './migration-contract.js';

function pgHandle(storage: Storage): PostgresHandle {
  const handle = storage.handle();
  if (handle.kind !== 'postgres') throw new Error(`expected postgres, got ${handle.kind}`);
  return handle;
}

describePg('Storage on PostgreSQL', () => {
  const schemas: TestSchema[] = [];
  const storages: Storage[] = [];

  async function openStorage(url: string, applicationName?: string): Promise<Storage> {
    const storage = new Storage(url, applicationName === undefined ? {} : { applicationName });
    storages.push(storage);
    await storage.open();
    return storage;
  }

  async function schema(): Promise<TestSchema> {
    const s = await createTestSchema();
    schemas.push(s);
    return s;
  }

  afterEach(async () => {
    await Promise.all(storages.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await Promise.all(schemas.map((s) => s.drop()));
  });

  it('creates a missing schema on open and resolves unqualified names in it', async () => {
    const name = randomSchemaName();
    schemas.push({
      url: '',
      schema: name,
      drop: () => pgExec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).then(() => undefined),
    });
    const storage = await openStorage(withSchema(pgTestUrl(), name));
    expect(storage.kind).toBe('postgres');
    expect((await pgExec('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).rowCount).toBe(1);
    const { pool } = pgHandle(storage);
    expect((await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s).toBe(name);
    await pool.query('CREATE TABLE probe (x INTEGER)');
    expect(
      (await pgExec('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [name, 'probe']))
        .rowCount,
    ).toBe(1);
  });

  it('sets search_path on every pooled connection, not only the first', async () => {
    const s = await schema();
    const storage = await openStorage(`${s.url}&poolSize=4`);
    const { pool } = pgHandle(storage);
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
    try {
      const found = await Promise.all(
        clients.map(async (c) => (await c.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s),
      );
      expect(found).toEqual([s.schema, s.schema, s.schema, s.schema]);
    } finally {
      for (const c of clients) c.release();
    }
  });

  it('keeps two schemas apart even with the same table names', async () => {
    const [a, b] = [await schema(), await schema()];
    const [sa, sb] = [await openStorage(a.url), await openStorage(b.url)];
    await sa.migrate('test', LOG_MIGRATIONS);
    await sb.migrate('test', LOG_MIGRATIONS.slice(0, 1));
    await pgHandle(sb).pool.query('INSERT INTO test_log (version) VALUES (99)');
    expect((await rows(sa, 'SELECT version FROM test_log ORDER BY version')).map((r) => r.version)).toEqual([
      2, 3,
    ]);
    expect((await rows(sb, 'SELECT version FROM test_log')).map((r) => r.version)).toEqual([99]);
  });

  it('reads int8 as JS numbers without touching pg’s global parsers', async () => {
    const s = await schema();
    const storage = await openStorage(s.url);
    const { pool } = pgHandle(storage);
    const result = await pool.query<{ big: unknown; count: unknown; arr: unknown; max: unknown }>(
      'SELECT 9007199254740991::int8 AS big, count(*) AS count, ARRAY[1, NULL, -5]::int8[] AS arr, NULL::int8 AS max FROM (VALUES (1), (2)) v(x)',
    );
    expect(result.rows[0]).toEqual({ big: 9007199254740991, count: 2, arr: [1, null, -5], max: null });
    const plain = (await pgExec('SELECT 5::int8 AS n')).rows[0] as { n: unknown };
    expect(plain.n).toBe('5');
  });

  it('fails a query reading an int8 beyond 2^53 instead of losing precision', async () => {
    const s = await schema();
    const storage = await openStorage(s.url);
    const error = await rejection(pgHandle(storage).pool.query('SELECT 9007199254740993::int8 AS n'));
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED' });
    expect((await pgHandle(storage).pool.query('SELECT 1::int8 AS n')).rows[0]).toEqual({ n: 1 });
  });

  it('sets application_name to foundation:<schema> (or the given name)', async () => {
    const s = await schema();
    const storage = await openStorage(s.url);
    const { pool } = pgHandle(storage);
    expect(
      (await pool.query<{ a: string }>("SELECT current_setting('application_name') AS a")).rows[0]!.a,
    ).toBe(`foundation:${s.schema}`);
    const named = await openStorage(s.url, `custom-${s.schema}`);
    expect(
      (await pgHandle(named).pool.query<{ a: string }>("SELECT current_setting('application_name') AS a"))
        .rows[0]!.a,
    ).toBe(`custom-${s.schema}`);
  });

  it('open() rejects quickly with FND_STORAGE_UNAVAILABLE when nothing listens', async () => {
    const port = await freePort();
    const storage = new Storage(`postgres://postgres:secretpw@127.0.0.1:${port}/test?schema=nowhere`);
    const error = await rejection(storage.open());
    expect(error).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE', context: { code: 'ECONNREFUSED' } });
    expect((error as Error).message).not.toContain('secretpw');
    expect(storage.isOpen).toBe(false);
    await storage.close();
  });

  it('open() rejects with FND_STORAGE_UNAVAILABLE (no retry) for an unknown database', async () => {
    const url = new URL(pgTestUrl());
    url.pathname = '/no_such_database_foundation';
    const storage = new Storage(url.toString());
    const error = await rejection(storage.open());
    expect(error).toMatchObject({
      code: 'FND_STORAGE_UNAVAILABLE',
      retryStrategy: 'no_retry',
      context: { code: '3D000' },
    });
  });

  it('recovers by itself after the server kills its connections', async () => {
    const s = await schema();
    const name = `kill-${s.schema}`;
    const storage = await openStorage(`${s.url}&poolSize=3`, name);
    const { pool } = pgHandle(storage);
    const held = await Promise.all([pool.connect(), pool.connect()]);
    for (const c of held) c.release();
    expect(pool.totalCount).toBe(2);
    const killed = await pgExec(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    expect(killed.rowCount).toBe(2);
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      try {
        await pool.query('SELECT 1');
        outcomes.push('ok');
      } catch (error) {
        outcomes.push(classifyPgError(error).code);
      }
    }
    // The first query may race the termination notice; from then on the pool has dropped the dead clients.
    expect(['ok', 'FND_STORAGE_UNAVAILABLE']).toContain(outcomes[0]);
    expect(outcomes.slice(1)).toEqual(['ok', 'ok']);
    expect(await storage.migrate('test', LOG_MIGRATIONS)).toEqual({ applied: [1, 2, 3] });
  });

  it('withPgClient survives a kill of the connection it holds and the pool replaces it', async () => {
    const s = await schema();
    const name = `held-${s.schema}`;
    const storage = await openStorage(`${s.url}&poolSize=1`, name);
    const { pool } = pgHandle(storage);
    const error = await rejection(
      withPgClient(pool, async (client) => {
        await client.query('SELECT 1');
        await pgExec('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          name,
        ]);
        // The connection dies while we hold the client between statements; the next statement fails.
        for (;;) await client.query('SELECT 1');
      }),
    );
    expect(classifyPgError(error).code).toBe('FND_STORAGE_UNAVAILABLE');
    expect(pool.totalCount).toBe(0);
    expect(
      await withPgClient(
        pool,
        async (client) => (await client.query<{ n: number }>('SELECT 7 AS n')).rows[0]!.n,
      ),
    ).toBe(7);
  });

  it('a migration fails with FND_STORAGE_UNAVAILABLE (not a rollback error) when its connection is killed', async () => {
    const s = await schema();
    const name = `mkill-${s.schema}`;
    const storage = await openStorage(s.url, name);
    const slow = [{ version: 1, name: 'slow', sqlite: 'SELECT 1', postgres: 'SELECT pg_sleep(30)' }];
    const migrating = rejection(storage.migrate('test', slow));
    // Wait until the migration's statement runs, then kill it from outside.
    for (;;) {
      const active = await pgExec(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep(30)%' AND state = 'active'",
        [name],
      );
      if (active.rowCount === 1) {
        await pgExec('SELECT pg_terminate_backend($1)', [(active.rows[0] as { pid: number }).pid]);
        break;
      }
    }
    const error = await migrating;
    expect(error).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    expect(await rows(storage, 'SELECT count(*) AS n FROM foundation_migrations')).toEqual([{ n: 0 }]);
  });
});

describePg('migrations on PostgreSQL', () => {
  migrationContract(async () => {
    const s = await createTestSchema();
    return { url: s.url, cleanup: () => s.drop() };
  });

  describe('locking', () => {
    let s: TestSchema;
    beforeAll(async () => {
      s = await createTestSchema();
    });
    afterAll(async () => {
      await s.drop();
    });

    it('waits for another migrator holding the capability lock, then finds the work done', async () => {
      const storage = new Storage(s.url);
      await storage.open();
      const other = new Storage(s.url);
      await other.open();
      try {
        await storage.migrate('test', LOG_MIGRATIONS.slice(0, 1));
        const { pool } = pgHandle(other);
        const holder = await pool.connect();
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(s.schema, 'test')]);
        const waiting = storage.migrate('test', LOG_MIGRATIONS);
        await holder.query('INSERT INTO test_log (version) VALUES (-1)');
        await holder.query('COMMIT');
        holder.release();
        expect(await waiting).toEqual({ applied: [2, 3] });
        expect(
          (await rows(storage, 'SELECT version FROM test_log ORDER BY version')).map((r) => r.version),
        ).toEqual([-1, 2, 3]);
      } finally {
        await Promise.all([storage.close(), other.close()]);
      }
    });
  });
});
