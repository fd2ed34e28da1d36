/**
 * The config version store contract on a SQLite file (one hub per Storage object; reopen = a new Storage
 * object on the same file).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigWatchHub } from '../../src/config/stores/config-watch-hub.js';
import { createConfigVersionStore } from '../../src/config/stores/create-version-store.js';
import { Storage } from '../../src/storage/index.js';
import { configRecord, configStoreContract } from './config-store.contract.js';
import { expectCode } from './event-store/fixture.js';

configStoreContract(
  'sqlite file',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foundation-config-'));
    const url = `sqlite:${join(dir, 'config.db')}`;
    const storages: Storage[] = [];
    const openStorage = async (): Promise<Storage> => {
      const storage = new Storage(url);
      await storage.open();
      storages.push(storage);
      return storage;
    };
    const storage = await openStorage();
    const hub = new ConfigWatchHub();
    return {
      store: () => createConfigVersionStore(storage, { hub }),
      reopen: async () => {
        await storage.close();
        const again = await openStorage();
        const store = createConfigVersionStore(again, { hub: new ConfigWatchHub() });
        await store.open();
        return store;
      },
      cleanup: async () => {
        for (const s of storages) await s.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { features: ['reopen'] },
);

describe('SQLite config version store on two connections to one file (two processes)', () => {
  it('lets exactly one connection take a version; both see the same versions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foundation-config-'));
    const url = `sqlite:${join(dir, 'config.db')}`;
    const first = new Storage(url);
    const second = new Storage(url);
    await first.open();
    await second.open();
    try {
      const a = createConfigVersionStore(first);
      const b = createConfigVersionStore(second);
      await a.open();
      await b.open();
      for (let v = 1; v <= 5; v++) {
        const results = await Promise.allSettled([
          a.append(configRecord(v, { node: 'a' })),
          b.append(configRecord(v, { node: 'b' })),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const loser = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        await expectCode(Promise.reject(loser?.reason as Error), 'FND_CONFIG_VERSION_CONFLICT');
        expect(await a.get(v)).toStrictEqual(await b.get(v));
      }
      expect((await b.since(0)).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await first.close();
      await second.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
