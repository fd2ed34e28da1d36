import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/capture.js';
import {
  advisoryLockKey,
  migrationChecksum,
  nextMigration,
  runMigrations,
  validateMigrations,
  type AppliedMigration,
} from './migrations.js';
import type { Migration } from './types.js';

function migration(version: number, sql = `CREATE TABLE t${version} (x INTEGER)`): Migration {
  return { version, name: `m${version}`, sqlite: sql, postgres: `${sql} -- pg` };
}

function applied(m: Migration, dialect: 'sqlite' | 'postgres' = 'sqlite'): AppliedMigration {
  return { version: m.version, name: m.name, checksum: migrationChecksum(m[dialect]) };
}

describe('validateMigrations', () => {
  it('accepts an empty list and 1..n in order', () => {
    validateMigrations('events', []);
    validateMigrations('events', [migration(1), migration(2), migration(3)]);
  });

  it.each([
    ['a gap', [migration(1), migration(3)], 'entry 1 has version 3, expected 2'],
    ['not starting at 1', [migration(2)], 'entry 0 has version 2, expected 1'],
    ['a duplicate', [migration(1), migration(1)], 'entry 1 has version 1, expected 2'],
    ['out of order', [migration(2), migration(1)], 'entry 0 has version 2'],
    ['a fractional version', [{ ...migration(1), version: 1.5 }], 'entry 0 has version 1.5'],
    ['an empty name', [{ ...migration(1), name: ' ' }], 'migration 1 has no name'],
    ['no sqlite SQL', [{ ...migration(1), sqlite: '' }], 'migration 1 has no sqlite SQL'],
    ['no postgres SQL', [{ ...migration(1), postgres: '  ' }], 'migration 1 has no postgres SQL'],
  ])('rejects %s', (_name, list, reason) => {
    const error = thrown(() => {
      validateMigrations('events', list);
    });
    expect(error).toMatchObject({ code: 'FND_STORAGE_MIGRATION_FAILED', context: { capability: 'events' } });
    expect((error as Error).message).toContain(reason);
  });

  it('rejects bad capability names and non-arrays', () => {
    for (const name of ['', 'Events', '1x', 'a b', 'x'.repeat(65)]) {
      expect(
        thrown(() => {
          validateMigrations(name, []);
        }),
      ).toMatchObject({
        code: 'FND_STORAGE_MIGRATION_FAILED',
      });
    }
    expect(
      thrown(() => {
        validateMigrations('events', {} as unknown as Migration[]);
      }),
    ).toMatchObject({
      code: 'FND_STORAGE_MIGRATION_FAILED',
    });
  });
});

describe('nextMigration', () => {
  const list = [migration(1), migration(2), migration(3)];

  it('returns the first missing migration, or undefined when up to date', () => {
    expect(nextMigration('c', list, [], 'sqlite')).toBe(list[0]);
    expect(nextMigration('c', list, [applied(list[0]!)], 'sqlite')).toBe(list[1]);
    expect(
      nextMigration(
        'c',
        list,
        list.map((m) => applied(m)),
        'sqlite',
      ),
    ).toBeUndefined();
  });

  it('accepts a database ahead of the code', () => {
    const ahead = [...list.map((m) => applied(m)), applied(migration(4))];
    expect(nextMigration('c', list, ahead, 'sqlite')).toBeUndefined();
  });

  it('compares the checksum of the dialect at hand only', () => {
    const rows = list.map((m) => applied(m, 'postgres'));
    expect(nextMigration('c', list, rows, 'postgres')).toBeUndefined();
    const error = thrown(() => nextMigration('c', list, rows, 'sqlite'));
    expect(error).toMatchObject({
      code: 'FND_STORAGE_MIGRATION_TAMPERED',
      context: { capability: 'c', version: 1 },
    });
  });

  it('reports a tampered migration even when later ones are missing', () => {
    const edited = [migration(1), migration(2, 'CREATE TABLE t2 (y INTEGER)'), migration(3)];
    const error = thrown(() => nextMigration('c', edited, [applied(list[0]!), applied(list[1]!)], 'sqlite'));
    expect(error).toMatchObject({
      code: 'FND_STORAGE_MIGRATION_TAMPERED',
      context: {
        version: 2,
        appliedChecksum: migrationChecksum(list[1]!.sqlite),
        codeChecksum: migrationChecksum('CREATE TABLE t2 (y INTEGER)'),
      },
    });
  });
});

describe('migrationChecksum and advisoryLockKey', () => {
  it('is the sha256 of the exact text', () => {
    expect(migrationChecksum('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(migrationChecksum('SELECT 1')).not.toBe(migrationChecksum('SELECT 1 '));
  });

  it('derives a stable signed 64-bit key per schema and capability', () => {
    const key = advisoryLockKey('foundation', 'events');
    expect(key).toBe(advisoryLockKey('foundation', 'events'));
    expect(key).not.toBe(advisoryLockKey('other', 'events'));
    expect(key).not.toBe(advisoryLockKey('foundatio', 'nevents'));
    const n = BigInt(key);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });
});

describe('runMigrations on memory', () => {
  it('validates and applies nothing', async () => {
    expect(await runMigrations({ kind: 'memory' }, 'events', [migration(1)], () => 0)).toEqual([]);
    await expect(runMigrations({ kind: 'memory' }, 'events', [migration(2)], () => 0)).rejects.toMatchObject({
      code: 'FND_STORAGE_MIGRATION_FAILED',
    });
  });
});
