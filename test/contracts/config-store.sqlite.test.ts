/**
 * The config version store contract on a SQLite file (one hub per Storage object; reopen = a new Storage
 * object on the same file).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigWatchHub } from '../../src/config/stores/config-watch-hub.js';
import { createConfigVersionStore } from '../../src/config/stores/create-version-store.js';
import { Storage } from '../../src/storage/index.js';
import { configStoreContract } from './config-store.contract.js';

configStoreContract('sqlite file', async () => {
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
});
