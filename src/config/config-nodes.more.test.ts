/**
 * A config among other nodes and failing parts: versions from another node (applied, or refused here and
 * reported as divergence), two nodes racing for the initial version and for a version number (compare and
 * set retried, or refused with `expectedVersion`), a store whose reads fail, an event recorder that never
 * succeeds, a watched file in a directory that does not exist, and the rarer options (a file given as
 * `{ path }`, a required file that is missing, the environment read from `process.env`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Storage } from '../storage/index.js';
import { FakeClock } from '../testing/index.js';
import { createConfig } from './config.js';
import { ConfigWatchHub } from './stores/config-watch-hub.js';
import { MemoryConfigVersionStore } from './stores/memory-store.js';
import { SqliteConfigVersionStore } from './stores/sqlite-store.js';
import type { ConfigChangeEvent, ConfigVersionRecord, ConfigVersionStore } from './types.js';
import { refusal, refusalOf } from '../../test/helpers/refusal.js';

const lax = z.object({ rps: z.number().int().default(10), mode: z.string().default('safe') });
const strict = z.object({ rps: z.number().int().max(100).default(10), mode: z.string().default('safe') });

let dir: string;
const cleanups: Array<() => Promise<void>> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-nodes-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function memoryNode<S extends typeof lax | typeof strict>(schema: S, hub: ConfigWatchHub, node: string) {
  const config = createConfig(
    { schema, mutable: ['rps', 'mode'] },
    { clock: new FakeClock(), node, store: () => new MemoryConfigVersionStore({ hub }) },
  );
  cleanups.push(() => config.stop());
  return config;
}

describe('versions from another node', () => {
  it('applies a valid one (subscribers hear kind remote) and reports one invalid here as divergence', async () => {
    const hub = new ConfigWatchHub();
    const writer = memoryNode(lax, hub, 'writer');
    const reader = memoryNode(strict, hub, 'reader');
    await writer.start();
    await reader.start();
    const events: Array<ConfigChangeEvent<z.infer<typeof strict>>> = [];
    reader.subscribe('', { onChange: (event) => void events.push(event) });

    await writer.update('rps', 50, { actor: 'ops' });
    await reader.update('mode', 'safe', { dryRun: true }); // waits for the catch-up (changes run one at a time)
    await reader.settled();
    expect(reader.get('rps')).toBe(50);
    expect(reader.version).toBe(2);
    expect(events.map((e) => [e.kind, e.version, e.previousVersion, e.changes])).toEqual([
      ['remote', 2, 1, [{ path: 'rps', old: 10, new: 50 }]],
    ]);
    expect(reader.health()).toEqual({
      status: 'healthy',
      details: { version: 2, fileState: 'none', diverged: false },
    });

    await writer.update('rps', 500);
    await reader.update('mode', 'safe', { dryRun: true });
    await reader.settled();
    // Not valid under the reader's schema: it keeps its last good configuration and says so.
    expect(reader.get('rps')).toBe(50);
    expect(reader.version).toBe(2);
    const health = reader.health();
    expect(health.status).toBe('degraded');
    expect(health.message).toMatch(
      /^A version from another node could not be applied here: Version 3 from writer/,
    );
    expect(health.details).toEqual({ version: 2, fileState: 'none', diverged: true });
    expect(reader.status().lastError?.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(events).toHaveLength(1);

    // The writer fixes it: the reader applies it and is healthy again.
    await writer.update('rps', 60);
    await reader.update('mode', 'safe', { dryRun: true });
    expect(reader.get('rps')).toBe(60);
    expect(reader.version).toBe(4);
    expect(reader.health().status).toBe('healthy');
  });

  it('lets one of two nodes starting together write the initial version; the other adopts it', async () => {
    const hub = new ConfigWatchHub();
    const a = memoryNode(lax, hub, 'a');
    const b = memoryNode(lax, hub, 'b');
    await Promise.all([a.start(), b.start()]);
    expect([a.version, b.version]).toEqual([1, 1]);
    const history = await a.history();
    expect(history).toHaveLength(1);
    expect(history[0]?.kind).toBe('initial');
    // start() and stop() twice are harmless.
    await a.start();
    expect(a.version).toBe(1);
    await a.stop();
    await a.stop();
    expect((await b.history()).map((v) => v.version)).toEqual([1]);
  });
});

describe('two nodes on one SQLite file that do not hear each other', () => {
  async function sqliteNode(node: string) {
    const storage = new Storage(`sqlite:${join(dir, 'config.db')}`);
    await storage.open();
    const config = createConfig(
      { schema: lax, mutable: ['rps', 'mode'] },
      { clock: new FakeClock(), node, store: () => new SqliteConfigVersionStore(storage) },
    );
    cleanups.push(async () => {
      await config.stop();
      await storage.close();
    });
    await config.start();
    return config;
  }

  it('retries a lost version number after catching up, or refuses it under expectedVersion', async () => {
    const a = await sqliteNode('a');
    const b = await sqliteNode('b');
    await a.update('rps', 20);
    // b still believes version 1 is the latest: its append loses, it catches up and builds again.
    const result = await b.update('mode', 'fast');
    expect(result).toMatchObject({ applied: true, version: 3, previousVersion: 2 });
    expect(b.snapshot()).toEqual({ rps: 20, mode: 'fast' });

    await a.update('rps', 30); // version 4, b does not hear it
    const error = await refusal(b.update('mode', 'slow', { expectedVersion: 3 }));
    expect(error.code).toBe('FND_CONFIG_VERSION_CONFLICT');
    // b caught up with version 4 but did not write its change.
    expect(b.snapshot()).toEqual({ rps: 30, mode: 'fast' });
    expect(b.version).toBe(4);
    expect((await b.history()).map((v) => [v.version, v.node])).toEqual([
      [4, 'a'],
      [3, 'b'],
      [2, 'a'],
      [1, 'a'],
    ]);
  });
});

/** A memory store whose reads or appends can be made to fail (with plain errors, as a broken adapter would). */
class FailingStore implements ConfigVersionStore {
  readonly kind = 'memory';
  readonly inner = new MemoryConfigVersionStore();
  failSince = false;
  failAppend = false;
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  latest(): Promise<ConfigVersionRecord | undefined> {
    return this.inner.latest();
  }
  get(version: number): Promise<ConfigVersionRecord | undefined> {
    return this.inner.get(version);
  }
  list(options?: { readonly limit?: number; readonly before?: number }): Promise<ConfigVersionRecord[]> {
    return this.inner.list(options);
  }
  since(version: number): Promise<ConfigVersionRecord[]> {
    return this.failSince ? Promise.reject(new Error('since broke')) : this.inner.since(version);
  }
  append(record: ConfigVersionRecord): Promise<void> {
    return this.failAppend ? Promise.reject(new Error('append broke')) : this.inner.append(record);
  }
  watch(onVersion: (version: number) => void): () => void {
    return this.inner.watch(onVersion);
  }
}

describe('a store that fails', () => {
  it('records a failed catch-up as the last error and keeps serving the current configuration', async () => {
    const store = new FailingStore();
    store.failSince = true;
    const config = createConfig(
      { schema: lax, mutable: ['rps'] },
      { clock: new FakeClock(), node: 'n', store },
    );
    cleanups.push(() => config.stop());
    await config.start(); // schedules a catch-up, which fails
    await config.update('rps', 11, { dryRun: true });
    expect(config.status().lastError).toMatchObject({
      code: 'FND_SYSTEM_INTERNAL',
      message: 'Config failure',
    });
    expect(config.version).toBe(1);
    expect(config.get('rps')).toBe(10);
  });

  it('passes an append failure that is not a conflict through and stores nothing', async () => {
    const store = new FailingStore();
    const config = createConfig(
      { schema: lax, mutable: ['rps'] },
      { clock: new FakeClock(), node: 'n', store },
    );
    cleanups.push(() => config.stop());
    await config.start();
    store.failAppend = true;
    let error: unknown;
    try {
      await config.update('rps', 11);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('append broke');
    expect(config.get('rps')).toBe(10);
    expect(config.version).toBe(1);
    expect((await store.inner.since(0)).map((r) => r.version)).toEqual([1]);
  });
});

describe('an event recorder that never succeeds', () => {
  it('gives up after its attempts on the fake clock and reports FND_CONFIG_SIDE_EFFECT_FAILED', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const config = createConfig(
      { schema: lax, mutable: ['rps'] },
      {
        clock,
        node: 'n',
        recordEvent: () => {
          calls += 1;
          return Promise.reject(new Error('event store down'));
        },
      },
    );
    cleanups.push(() => config.stop());
    await config.start();
    await config.update('rps', 12);
    expect(calls).toBe(1); // the update's event, recorded in the background
    // 7 retries: 100, 200, … 6 400 ms (the default 8 attempts).
    for (let i = 0; i < 20 && config.status().sideEffects.pending > 0; i += 1)
      await clock.advanceAsync(7_000);
    expect(config.status().sideEffects).toEqual({ pending: 0, failed: 1, dropped: 0 });
    expect(calls).toBe(8);
    expect(config.status().lastError?.code).toBe('FND_CONFIG_SIDE_EFFECT_FAILED');
    expect(config.get('rps')).toBe(12);
    expect(config.version).toBe(2);
  });
});

describe('rarer options', () => {
  it('refuses a change when no path is mutable, naming that', async () => {
    const config = createConfig({ schema: lax }, { clock: new FakeClock(), node: 'n' });
    cleanups.push(() => config.stop());
    await config.start();
    const error = await refusal(config.update('rps', 1));
    expect(error.code).toBe('FND_CONFIG_UPDATE_FORBIDDEN');
    expect(error.message).toBe('"rps" cannot change at run time: no path is declared mutable');
    expect(config.get('rps')).toBe(10);
    expect(config.version).toBe(1);
  });

  it('reports a watch that cannot start (its directory does not exist) as the last error', async () => {
    const path = join(dir, 'no-such-dir', 'app.json');
    const config = createConfig({ schema: lax, file: { path } }, { clock: new FakeClock(), node: 'n' });
    cleanups.push(() => config.stop());
    expect(config.status().fileState).toBe('missing');
    await config.start();
    expect(config.status().lastError).toMatchObject({
      code: 'FND_CONFIG_FILE_INVALID',
      message: `Watching ${path} failed`,
    });
    expect(config.snapshot()).toEqual({ rps: 10, mode: 'safe' });
  });

  it('refuses a required file that does not exist', () => {
    const path = join(dir, 'absent.json');
    const error = refusalOf(() =>
      createConfig({ schema: lax, file: { path, required: true, watch: false } }, { clock: new FakeClock() }),
    );
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(error.message).toBe(`The config file ${path} does not exist`);
  });

  it('reads the environment from process.env with a custom separator when none is given', () => {
    const name = `CFGNODES_${String(process.pid)}_RPS`;
    process.env[name] = '77';
    try {
      const config = createConfig(
        { schema: lax, env: { prefix: `CFGNODES_${String(process.pid)}_`, separator: '__' } },
        { clock: new FakeClock() },
      );
      expect(config.get('rps')).toBe(77);
      expect(config.explain('rps')).toMatchObject({ source: 'env', envVar: name });
    } finally {
      Reflect.deleteProperty(process.env, name);
    }
  });
});
