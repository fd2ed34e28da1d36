/**
 * The PostgreSQL config version store off the happy path: watchers that throw or remove each other (reported
 * on `foundation:config:watcher_failed`), watchers registered on the lazily loaded store before its module
 * is loaded, a missing table (query failures on reads and appends, the versions intact once it is back), and
 * an unreachable server (a read is tried twice, then FND_STORAGE_UNAVAILABLE) through a TCP proxy.
 */
import { randomBytes } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresConfigVersionStore } from '../../src/config/stores/postgres-store.js';
import { createConfigVersionStore } from '../../src/config/stores/create-version-store.js';
import { Storage } from '../../src/storage/index.js';
import { configRecord } from '../contracts/config-store.contract.js';
import { createTestSchema, describePg, pgExec, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { refusal } from '../helpers/refusal.js';

/** The schema's URL pointed at the proxy. */
function throughProxy(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

describePg('PostgreSQL config version store: watchers and faults', () => {
  let schema: TestSchema;
  const storages: Storage[] = [];

  async function openStorage(url: string = schema.url): Promise<Storage> {
    const storage = new Storage(url, { applicationName: `cfg_faults_${randomBytes(4).toString('hex')}` });
    await storage.open();
    storages.push(storage);
    return storage;
  }

  beforeAll(async () => {
    schema = await createTestSchema();
  });

  afterAll(async () => {
    for (const storage of storages) await storage.close();
    await schema.drop();
  });

  it('isolates watchers that throw (reported when someone listens) and skips one removed by an earlier one', async () => {
    const store = new PostgresConfigVersionStore(await openStorage());
    await store.open();
    await store.append(configRecord(1));
    const reports: unknown[] = [];
    const onReport = (message: unknown): void => {
      reports.push(message as { measurements: unknown; metadata: unknown } satisfies unknown);
    };
    diagnosticsChannel.subscribe('foundation:config:watcher_failed', onReport);
    const seen: number[] = [];
    const removed: number[] = [];
    try {
      store.watch(() => {
        throw new Error('first watcher broke');
      });
      const third: { stop?: () => void } = {};
      store.watch((version) => {
        seen.push(version);
        third.stop?.();
      });
      third.stop = store.watch((version) => removed.push(version));
      store.watch(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a watcher may throw anything
        throw 'not an Error';
      });
      // On connecting, the listener reports the latest version (1) to every watcher.
      await expect.poll(() => seen, { timeout: 10_000, interval: 10 }).toContain(1);
      expect(removed).toEqual([]);
      expect(reports).toEqual([
        expect.objectContaining({
          measurements: { version: 1 },
          metadata: { message: 'first watcher broke' },
        }),
        expect.objectContaining({ measurements: { version: 1 }, metadata: { message: 'not an Error' } }),
      ]);
    } finally {
      diagnosticsChannel.unsubscribe('foundation:config:watcher_failed', onReport);
    }
    // Nobody listens to the report channel now: the failures are still isolated.
    await store.append(configRecord(2));
    await expect.poll(() => seen, { timeout: 10_000, interval: 10 }).toContain(2);
    expect(removed).toEqual([]);
    expect(reports).toHaveLength(2);
    expect((await store.since(0)).map((r) => r.version)).toEqual([1, 2]);
    await store.close();
  });

  it('hands watchers registered before the lazy store is loaded to it, unless stopped or closed first', async () => {
    const storage = await openStorage();
    const lazy = createConfigVersionStore(storage);
    const stoppedEarly: number[] = [];
    const kept: number[] = [];
    const stopEarly = lazy.watch((version) => stoppedEarly.push(version));
    stopEarly();
    const stopKept = lazy.watch((version) => kept.push(version));
    await lazy.open();
    const later: number[] = [];
    const stopLater = lazy.watch((version) => later.push(version));
    const latest = (await lazy.latest())?.version ?? 0;
    await lazy.append(configRecord(latest + 1));
    await expect.poll(() => kept, { timeout: 10_000, interval: 10 }).toContain(latest + 1);
    await expect.poll(() => later, { timeout: 10_000, interval: 10 }).toContain(latest + 1);
    expect(stoppedEarly).toEqual([]);
    stopKept();
    stopLater();
    await lazy.close();

    const closedFirst = createConfigVersionStore(await openStorage());
    const afterClose: number[] = [];
    closedFirst.watch((version) => afterClose.push(version));
    await closedFirst.close(); // before the module resolved: the watcher is never handed over
    const other = createConfigVersionStore(await openStorage());
    await other.append(configRecord(latest + 2));
    expect((await other.latest())?.version).toBe(latest + 2);
    expect(afterClose).toEqual([]);
    await other.close();
  });

  it('fails reads and appends with a query failure while its table is missing; the versions are intact after', async () => {
    const store = new PostgresConfigVersionStore(await openStorage());
    await store.open();
    const before = await store.since(0);
    expect(before.length).toBeGreaterThan(0);
    const next = before.length + 1;
    await pgExec(`ALTER TABLE "${schema.schema}".config_versions RENAME TO config_versions_away`);
    try {
      const read = await refusal(store.latest());
      expect(read.code).toBe('FND_STORAGE_QUERY_FAILED');
      const append = await refusal(store.append(configRecord(next)));
      expect(append.code).toBe('FND_STORAGE_QUERY_FAILED');
    } finally {
      await pgExec(`ALTER TABLE "${schema.schema}".config_versions_away RENAME TO config_versions`);
    }
    expect(await store.since(0)).toEqual(before);
    await store.close();
  });

  it('tries a read twice when the server is unreachable, then reports FND_STORAGE_UNAVAILABLE', async () => {
    const target = new URL(pgTestUrl());
    const proxy: TcpProxy = await startTcpProxy({
      host: target.hostname,
      port: Number(target.port === '' ? 5432 : target.port),
    });
    try {
      const store = new PostgresConfigVersionStore(await openStorage(throughProxy(schema.url, proxy.port)));
      await store.open();
      const before = await store.since(0);
      await proxy.cut();
      const accepted = proxy.accepted;
      const error = await refusal(store.since(0));
      expect(error.code).toBe('FND_STORAGE_UNAVAILABLE');
      expect(proxy.accepted).toBe(accepted);
      await proxy.restore();
      await expect
        .poll(async () => (await store.since(0)).length, { timeout: 10_000, interval: 20 })
        .toBe(before.length);
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  it('names the channel of a storage that is not PostgreSQL after the empty schema', () => {
    const memory = new Storage('memory:');
    const store = new PostgresConfigVersionStore(memory);
    expect(store.channel).toBe(new PostgresConfigVersionStore(memory).channel);
    expect(store.channel.startsWith('fnd_config_')).toBe(true);
  });
});
