/**
 * The config version store contract on memory storage (one hub per Storage object), and the hub's rules.
 */
import { describe, expect, it } from 'vitest';
import { ConfigWatchHub } from '../../src/config/stores/config-watch-hub.js';
import { createConfigVersionStore } from '../../src/config/stores/create-version-store.js';
import { MemoryConfigVersionStore } from '../../src/config/stores/memory-store.js';
import { Storage } from '../../src/storage/index.js';
import { configRecord, configStoreContract } from './config-store.contract.js';
import { expectCode } from './event-store/fixture.js';

configStoreContract('memory', async () => {
  const storage = new Storage('memory:');
  await storage.open();
  const hub = new ConfigWatchHub();
  return { store: () => createConfigVersionStore(storage, { hub }), cleanup: () => storage.close() };
});

describe('memory config version store', () => {
  it('is picked for a memory storage; stores made without a hub are separate', async () => {
    const storage = new Storage('memory:');
    await storage.open();
    const a = createConfigVersionStore(storage);
    const b = createConfigVersionStore(storage);
    expect(a).toBeInstanceOf(MemoryConfigVersionStore);
    await a.append(configRecord(1));
    expect(await b.latest()).toBeUndefined();
    await storage.close();
  });

  it('refuses a hub that already serves another Storage object', async () => {
    const hub = new ConfigWatchHub();
    createConfigVersionStore(new Storage('memory:'), { hub });
    expect(() => createConfigVersionStore(new Storage('memory:'), { hub })).toThrow(
      expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }) as Error,
    );
  });

  it('returns frozen records', async () => {
    const store = new MemoryConfigVersionStore();
    await store.append(configRecord(1));
    const read = await store.get(1);
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read?.config)).toBe(true);
    await expectCode(store.append(configRecord(1)), 'FND_CONFIG_VERSION_CONFLICT');
  });
});
