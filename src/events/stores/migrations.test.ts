import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EVENTS_MIGRATIONS } from './migrations.js';

describe('EVENTS_MIGRATIONS', () => {
  it('are numbered 1..n with a name and both dialects', () => {
    expect(EVENTS_MIGRATIONS.map((m) => m.version)).toEqual(EVENTS_MIGRATIONS.map((_, i) => i + 1));
    const tables = (sql: string): string[] =>
      [...sql.matchAll(/CREATE TABLE (\w+)/g)].map((match) => match[1] ?? '').sort();
    // PostgreSQL's commit-order bookkeeping (version 5): SQLite commits one writer at a time, in position order.
    const postgresOnly = new Set(['foundation_event_txs']);
    for (const m of EVENTS_MIGRATIONS) {
      expect(m.name.length).toBeGreaterThan(0);
      // Both dialects create the same tables, but for PostgreSQL's own bookkeeping.
      expect(tables(m.postgres).filter((t) => !postgresOnly.has(t))).toEqual(tables(m.sqlite));
    }
    expect(tables(EVENTS_MIGRATIONS[4]?.postgres ?? '')).toEqual(['foundation_event_txs']);
    expect(EVENTS_MIGRATIONS[0]?.sqlite).toContain('CREATE TABLE foundation_events');
  });

  it('create the events and streams tables and their indexes on SQLite', () => {
    const db = new Database(':memory:');
    try {
      for (const m of EVENTS_MIGRATIONS) db.exec(m.sqlite);
      const columns = (db.prepare('PRAGMA table_info(foundation_events)').all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(columns).toEqual([
        'position',
        'id',
        'type',
        'stream',
        'stream_version',
        'time',
        'monotonic',
        'correlation_id',
        'causation_id',
        'parent_id',
        'data',
        'metadata',
        'node',
      ]);
      const indexes = (
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
          .all() as {
          name: string;
        }[]
      ).map((i) => i.name);
      expect(indexes.sort()).toEqual([
        'foundation_events_correlation_position',
        'foundation_events_time',
        'foundation_events_type_position',
      ]);
      const streamColumns = (
        db.prepare('PRAGMA table_info(foundation_streams)').all() as { name: string }[]
      ).map((c) => c.name);
      expect(streamColumns).toEqual(['stream', 'version']);
      const insert = db.prepare(
        "INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic, data, metadata, node) VALUES (?, 't', 's', 1, 0, 0, '{}', '{}', 'n')",
      );
      insert.run('a');
      expect(() => insert.run('b')).toThrow(/UNIQUE/);
    } finally {
      db.close();
    }
  });
});
