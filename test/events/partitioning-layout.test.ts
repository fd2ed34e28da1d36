/**
 * The partitioned layout keeps up with the events migrations: whatever version a store was converted at,
 * after every events migration ran it has exactly the columns (types, nullability, defaults, collations)
 * and the indexes (same columns) of an unpartitioned store; only `time` joins the primary key, and a unique
 * index without `time` becomes a plain index (ids are guarded by `foundation_event_ids`). A future events
 * migration that adds a column, or an index the partitioned table cannot take, fails here.
 */
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENTS_MIGRATIONS } from '../../src/events/stores/migrations.js';
import { convertToPartitioned, isPartitioned } from '../../src/events/stores/postgres-partitioning.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';
import { rows } from './partitioning-fixtures.js';

interface Layout {
  readonly columns: unknown[];
  readonly indexes: { name: string; cols: string[]; unique: boolean; primary: boolean }[];
}

async function layout(pool: pg.Pool): Promise<Layout> {
  const columns = await rows(
    pool,
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       a.attidentity AS identity, pg_get_expr(d.adbin, d.adrelid) AS default, co.collname AS collation
     FROM pg_attribute a
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
     WHERE a.attrelid = to_regclass('foundation_events') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
  );
  const indexes = await rows<Layout['indexes'][number]>(
    pool,
    `SELECT i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS cols
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = to_regclass('foundation_events') ORDER BY i.relname`,
  );
  return { columns, indexes };
}

/** What the unpartitioned layout becomes once partitioned. */
function expectedPartitioned(plain: Layout): Layout {
  return {
    columns: plain.columns,
    indexes: plain.indexes.map((index) => {
      if (index.primary)
        return { ...index, cols: index.cols.includes('time') ? index.cols : [...index.cols, 'time'] };
      return index.unique && !index.cols.includes('time') ? { ...index, unique: false } : index;
    }),
  };
}

describePg('partitioned layout and the events migrations', () => {
  const schemas: TestSchema[] = [];
  afterAll(async () => {
    for (const s of schemas) await s.drop();
  });

  async function migrated(prefix: number, convert: boolean): Promise<{ storage: Storage; pool: pg.Pool }> {
    const schema = await createTestSchema();
    schemas.push(schema);
    const storage = new Storage(schema.url);
    await storage.open();
    await storage.migrate('events', EVENTS_MIGRATIONS.slice(0, prefix));
    const handle = storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    if (convert) await convertToPartitioned(handle.pool, handle.schema, { interval: 'month' }, Date.now());
    await storage.migrate('events', EVENTS_MIGRATIONS);
    return { storage, pool: handle.pool };
  }

  describe.each(EVENTS_MIGRATIONS.map((m) => m.version))('converted at events version %i', (version) => {
    it('ends with the unpartitioned layout (columns, defaults, indexes) once every migration ran', async () => {
      const plain = await migrated(EVENTS_MIGRATIONS.length, false);
      const parted = await migrated(version, true);
      try {
        expect(await isPartitioned(parted.pool)).toBe(true);
        const want = expectedPartitioned(await layout(plain.pool));
        expect(await layout(parted.pool)).toEqual(want);
        expect(want.columns.length).toBeGreaterThan(10);
      } finally {
        await plain.storage.close();
        await parted.storage.close();
      }
    });
  });
});
