import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePg } from '../../test/helpers/postgres.js';
import { openEmmettPg } from './emmett-pg.js';
import { orderData } from './inputs.js';
import { openNaivePg } from './naive-pg.js';
import { openOursPg } from './ours.js';
import { pgRun } from './pg-env.js';
import { openRawSqlite } from './raw-sqlite.js';

describe('raw better-sqlite3 peer', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-peer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores each event with the next stream version, its JSON data, and the stream row', () => {
    const path = join(dir, 'raw.db');
    const raw = openRawSqlite(path);
    const positions = [
      raw.append('order.created', 'a', orderData(1)),
      raw.append('order.created', 'a', orderData(2)),
    ];
    positions.push(raw.append('order.created', 'b', orderData(3)));
    raw.close();

    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare('SELECT position, stream, stream_version, data FROM foundation_events ORDER BY position')
      .all();
    const streams = db.prepare('SELECT stream, version FROM foundation_streams ORDER BY stream').all();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(positions).toEqual([1, 2, 3]);
    expect(rows).toEqual([
      { position: 1, stream: 'a', stream_version: 1, data: JSON.stringify(orderData(1)) },
      { position: 2, stream: 'a', stream_version: 2, data: JSON.stringify(orderData(2)) },
      { position: 3, stream: 'b', stream_version: 1, data: JSON.stringify(orderData(3)) },
    ]);
    expect(streams).toEqual([
      { stream: 'a', version: 2 },
      { stream: 'b', version: 1 },
    ]);
  });
});

describePg('PostgreSQL peers', () => {
  it('naive baseline: one event per append, stream versions continue, its schema is dropped at close', async () => {
    const naive = await openNaivePg(2);
    expect(await naive.append('order.created', 's', orderData(1))).toBe(1);
    await naive.append('order.created', 's', orderData(2));
    expect(await naive.append('order.created', 't', orderData(3))).toBe(3);
    const rows = await pgRun(
      `SELECT stream, stream_version FROM "${naive.schema}".foundation_events ORDER BY position`,
    );
    const streams = await pgRun(
      `SELECT stream, version FROM "${naive.schema}".foundation_streams ORDER BY stream`,
    );
    expect(rows.rows).toEqual([
      { stream: 's', stream_version: '1' },
      { stream: 's', stream_version: '2' },
      { stream: 't', stream_version: '1' },
    ]);
    expect(streams.rows).toEqual([
      { stream: 's', version: '2' },
      { stream: 't', version: '1' },
    ]);
    await naive.close();
    const left = await pgRun('SELECT 1 FROM pg_namespace WHERE nspname = $1', [naive.schema]);
    expect(left.rowCount).toBe(0);
  });

  it('emmett: appends to its own database and leaves the global pg type parsers as they were', async () => {
    const before = pg.types.getTypeParser(pg.types.builtins.INT8, 'text') as (value: string) => unknown;
    const emmett = await openEmmettPg(2);
    try {
      expect(pg.types.getTypeParser(pg.types.builtins.INT8, 'text')).toBe(before);
      expect(await emmett.append('s-1', 2, (k) => orderData(k))).toBe(2n);
      expect(await emmett.append('s-1', 1, (k) => orderData(k))).toBe(3n);
      const read = await emmett.store.readStream('s-1');
      expect(read.events.map((event) => event.data)).toEqual([orderData(0), orderData(1), orderData(0)]);
    } finally {
      await emmett.close();
    }
  });

  it('ours: appends in a fresh schema that is dropped at close', async () => {
    const ours = await openOursPg(2);
    const schema =
      ours.storage.handle().kind === 'postgres' ? (ours.storage.handle() as { schema: string }).schema : '';
    const result = await ours.events.append([
      { type: 'order.created', stream: 'o-1', data: orderData(1) },
      { type: 'order.paid', stream: 'o-1', data: orderData(2) },
    ]);
    expect(result.streamVersion).toBe(2);
    await ours.close();
    const left = await pgRun('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(schema).toMatch(/^bench_ours_[0-9a-f]{12}$/);
    expect(left.rowCount).toBe(0);
  });
});
