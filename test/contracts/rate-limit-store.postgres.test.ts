/**
 * The rate limit store contract on PostgreSQL: a fresh schema per case; `remote` is a store on a second
 * Storage object (another pool, as another process).
 */
import { describe, expect, it } from 'vitest';
import { PostgresRateLimitStore } from '../../src/protection/rate-limit/postgres-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, pgExec } from '../helpers/postgres.js';
import { rateLimitStoreContract } from './rate-limit-store.contract.js';

describePg('PostgreSQL rate limit store', () => {
  rateLimitStoreContract(
    'postgres',
    async () => {
      const schema = await createTestSchema();
      const storages: Storage[] = [];
      const open = async (): Promise<PostgresRateLimitStore> => {
        const storage = new Storage(schema.url);
        await storage.open();
        storages.push(storage);
        const store = new PostgresRateLimitStore(storage);
        await store.open();
        return store;
      };
      return {
        store: await open(),
        remote: open,
        cleanup: async () => {
          for (const s of storages) await s.close();
          await schema.drop();
        },
      };
    },
    { propertyRuns: 25 },
  );

  describe('rows', () => {
    it('keeps its rows in an unlogged table (no WAL flush per decision)', { timeout: 30_000 }, async () => {
      const schema = await createTestSchema();
      const storage = new Storage(schema.url);
      await storage.open();
      try {
        await new PostgresRateLimitStore(storage).open();
        const rows = await pgExec(
          `SELECT c.relpersistence AS p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relname = 'rate_limits'`,
          [schema.schema],
        );
        expect(rows.rows).toEqual([{ p: 'u' }]);
      } finally {
        await storage.close();
        await schema.drop();
      }
    });

    it(
      'purgeExpired deletes the rows whose allowance is full again, and only those',
      { timeout: 30_000 },
      async () => {
        const schema = await createTestSchema();
        const storage = new Storage(schema.url);
        await storage.open();
        try {
          const store = new PostgresRateLimitStore(storage);
          await store.consume('short', { algorithm: 'fixed_window', limit: 1, windowMs: 1 }, 1);
          await store.consume('long', { algorithm: 'gcra', limit: 1, windowMs: 1e12 }, 1);
          await expect.poll(() => store.purgeExpired(), { timeout: 10_000, interval: 20 }).toBe(1);
          const rows = await pgExec(`SELECT key FROM "${schema.schema}".rate_limits ORDER BY key`);
          expect(rows.rows).toEqual([{ key: 'long' }]);
        } finally {
          await storage.close();
          await schema.drop();
        }
      },
    );
  });
});
