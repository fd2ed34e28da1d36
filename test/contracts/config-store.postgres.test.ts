/**
 * The config version store contract on PostgreSQL: a fresh schema per case. `remote` is a second Storage
 * object (another pool, as another process); `killListeners` terminates the LISTEN connections of the first.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createConfigVersionStore } from '../../src/config/stores/create-version-store.js';
import { configChannel } from '../../src/config/stores/postgres-config-listener.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, pgExec, pgTestUrl, withSchema } from '../helpers/postgres.js';
import { configRecord, configStoreContract } from './config-store.contract.js';
import { expectCode } from './event-store/fixture.js';

describePg('PostgreSQL config version store', () => {
  configStoreContract(
    'postgres',
    async () => {
      const schema = await createTestSchema();
      const app = `cfg_${randomBytes(4).toString('hex')}`;
      const storages: Storage[] = [];
      const openStorage = async (applicationName: string): Promise<Storage> => {
        const storage = new Storage(schema.url, { applicationName });
        await storage.open();
        storages.push(storage);
        return storage;
      };
      const storage = await openStorage(app);
      return {
        store: () => createConfigVersionStore(storage),
        reopen: async () => {
          await storage.close();
          const store = createConfigVersionStore(await openStorage(`${app}_again`));
          await store.open();
          return store;
        },
        remote: async () => {
          const store = createConfigVersionStore(await openStorage(`${app}_remote`));
          await store.open();
          return store;
        },
        killListeners: async () => {
          const killed = await pgExec(
            'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
            [`${app}:config_listen`],
          );
          expect(killed.rowCount).toBeGreaterThan(0);
        },
        cleanup: async () => {
          for (const s of storages) await s.close();
          await schema.drop();
        },
      };
    },
    { propertyRuns: 25, features: ['reopen', 'remote', 'killListeners'] },
  );

  it(
    'maps a primary-key race (another writer commits the same version first) to a conflict',
    { timeout: 30_000 },
    async () => {
      const schema = await createTestSchema();
      const app = `cfg_race_${randomBytes(4).toString('hex')}`;
      const storage = new Storage(schema.url, { applicationName: app });
      await storage.open();
      try {
        const store = createConfigVersionStore(storage);
        await store.open();
        await store.append(configRecord(1));
        // Another writer inserts version 2 in an open transaction: our append waits on the primary key.
        const pg = (await import('pg')).default;
        const other = new pg.Client({
          connectionString: withSchema(pgTestUrl(), schema.schema).replace(/[?&]schema=[^&]*/, ''),
          options: `-c search_path=${schema.schema}`,
        });
        await other.connect();
        try {
          await other.query('BEGIN');
          await other.query(
            `INSERT INTO config_versions (version, at, kind, node, overrides, config, changes) VALUES (2, 1, 'update', 'other', '{}', '{}', '[]')`,
          );
          const appending = store.append(configRecord(2));
          appending.catch(() => undefined);
          await expect
            .poll(
              async () =>
                (
                  await pgExec(
                    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    [app],
                  )
                ).rows[0] as { n: number },
              { timeout: 15_000, interval: 20 },
            )
            .toEqual({ n: 1 });
          await other.query('COMMIT');
          await expectCode(appending, 'FND_CONFIG_VERSION_CONFLICT');
          expect((await store.get(2))?.node).toBe('other');
          expect((await store.since(0)).map((r) => r.version)).toEqual([1, 2]);
        } finally {
          await other.end();
        }
        await store.close();
      } finally {
        await storage.close();
        await schema.drop();
      }
    },
  );

  it('names the channel per schema within 63 bytes', () => {
    expect(configChannel('foundation')).toBe('fnd_config_foundation');
    const long = `s${'x'.repeat(62)}`;
    const other = `s${'x'.repeat(61)}y`;
    expect(Buffer.byteLength(configChannel(long))).toBeLessThanOrEqual(63);
    expect(configChannel(long)).not.toBe(configChannel(other));
  });
});
