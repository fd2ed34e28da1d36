/**
 * The SQLite config version store off the happy path, on a real file with a second raw connection playing
 * another process: a write lock held elsewhere (busy), a trigger that refuses the insert, a row whose JSON
 * cannot be read back; and the watch hub's isolation of watchers that throw or remove each other.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import diagnosticsChannel from 'node:diagnostics_channel';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Storage } from '../../storage/index.js';
import type { ConfigVersionRecord } from '../types.js';
import { ConfigWatchHub } from './config-watch-hub.js';
import { SqliteConfigVersionStore } from './sqlite-store.js';
import { refusal } from '../../../test/helpers/refusal.js';

function record(version: number): ConfigVersionRecord {
  return {
    version,
    at: 1_700_000_000_000 + version,
    kind: version === 1 ? 'initial' : 'update',
    overrides: { n: version },
    config: { n: version },
    changes: version === 1 ? [] : [{ path: 'n', old: version - 1, new: version }],
    node: 'n1',
  };
}

describe('SqliteConfigVersionStore failures', () => {
  let dir: string;
  let file: string;
  let storage: Storage;
  let store: SqliteConfigVersionStore;
  let other: Database.Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cfg-sqlite-faults-'));
    file = join(dir, 'config.db');
    storage = new Storage(`sqlite:${file}?busyTimeoutMs=0`);
    await storage.open();
    store = new SqliteConfigVersionStore(storage); // a private hub
    await store.open();
    await store.append(record(1));
    await store.append(record(2));
    other = new Database(file);
  });

  afterEach(async () => {
    other.close();
    await store.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a write lock held by another connection as FND_STORAGE_UNAVAILABLE; nothing is written', async () => {
    const seen: number[] = [];
    store.watch((version) => seen.push(version));
    other.exec('BEGIN IMMEDIATE');
    try {
      const error = await refusal(store.append(record(3)));
      expect(error.code).toBe('FND_STORAGE_UNAVAILABLE');
      expect(error.message).toMatch(/^SQLite is busy: /);
      expect(error.context).toEqual({ code: 'SQLITE_BUSY' });
    } finally {
      other.exec('ROLLBACK');
    }
    expect(seen).toEqual([]);
    expect((await store.since(0)).map((r) => r.version)).toEqual([1, 2]);
    await store.append(record(3));
    expect(seen).toEqual([3]);
  });

  it('reports an insert refused by the database as FND_STORAGE_QUERY_FAILED with its SQLite code', async () => {
    other.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON config_versions BEGIN SELECT RAISE(ABORT, 'refused here'); END",
    );
    const error = await refusal(store.append(record(3)));
    expect(error.code).toBe('FND_STORAGE_QUERY_FAILED');
    expect(error.message).toBe('SQLite failed: refused here');
    expect(error.context).toEqual({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
    other.exec('DROP TRIGGER refuse');
    expect((await store.latest())?.version).toBe(2);
  });

  it('reports a stored row it cannot decode as FND_STORAGE_QUERY_FAILED on single and list reads', async () => {
    const before = await store.since(0);
    other
      .prepare(
        "INSERT INTO config_versions (version, at, kind, node, overrides, config, changes) VALUES (3, 1, 'update', 'x', 'not json', '{}', '[]')",
      )
      .run();
    const latest = await refusal(store.latest());
    expect(latest.code).toBe('FND_STORAGE_QUERY_FAILED');
    expect(latest.context).toEqual({});
    expect(latest.cause).toBeInstanceOf(SyntaxError);
    const since = await refusal(store.since(0));
    expect(since.code).toBe('FND_STORAGE_QUERY_FAILED');
    // The readable versions are untouched.
    expect(await store.get(2)).toEqual(before[1]);
    other.prepare('DELETE FROM config_versions WHERE version = 3').run();
    expect(await store.since(0)).toEqual(before);
  });
});

describe('ConfigWatchHub.notify', () => {
  it('isolates watchers that throw, reports them when someone listens, and skips one removed meanwhile', () => {
    const hub = new ConfigWatchHub();
    const reports: unknown[] = [];
    const onReport = (message: unknown): void => {
      reports.push(message);
    };
    const seen: number[] = [];
    const removed: number[] = [];
    const third: { stop?: () => void } = {};
    hub.watch(() => {
      throw new Error('first broke');
    });
    hub.watch((version) => {
      seen.push(version);
      third.stop?.();
    });
    third.stop = hub.watch((version) => removed.push(version));
    hub.watch(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a watcher may throw anything
      throw 7;
    });
    expect(hub.size).toBe(4);
    diagnosticsChannel.subscribe('foundation:config:watcher_failed', onReport);
    try {
      hub.notify(5);
    } finally {
      diagnosticsChannel.unsubscribe('foundation:config:watcher_failed', onReport);
    }
    expect(hub.size).toBe(3);
    expect(seen).toEqual([5]);
    expect(removed).toEqual([]);
    expect(reports).toEqual([
      expect.objectContaining({ measurements: { version: 5 }, metadata: { message: 'first broke' } }),
      expect.objectContaining({ measurements: { version: 5 }, metadata: { message: '7' } }),
    ]);
    hub.notify(6); // nobody listens to the report channel: still isolated, not reported
    expect(seen).toEqual([5, 6]);
    expect(reports).toHaveLength(2);
  });
});
