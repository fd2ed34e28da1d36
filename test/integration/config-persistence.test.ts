/**
 * A foundation's config survives a restart: on SQLite (a temp file) and PostgreSQL (a fresh schema), a
 * foundation with a zod schema and mutable paths makes updates, a batch and a rollback, stops; a NEW
 * foundation on the same store comes back on the latest version with the same history (versions, kinds,
 * changes, metadata), secret values redacted. The memory store offers the same API without persistence.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundation } from '../../src/app/foundation.js';
import type { FoundationError } from '../../src/errors/index.js';
import { REDACTED } from '../../src/config/types.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  db: z
    .object({ host: z.string().default('localhost'), password: z.string().default('hunter2') })
    .prefault({}),
});

const SECRET = 's3cret-rotated';

function makeFoundation(store: string, dataDir: string, name = 'node-a') {
  return createFoundation({
    name,
    store,
    dataDir,
    config: { schema, mutable: ['limits.*', 'mode', 'db.password'], secrets: ['db.password'] },
  });
}

type TestFoundation = ReturnType<typeof makeFoundation>;

/** Updates, a batch with a secret, a rollback; returns what the first foundation saw. */
async function changeHistory(foundation: TestFoundation) {
  const config = foundation.config;
  expect(config.version).toBe(1);
  const initial = config.snapshot();
  await config.update('limits.rps', 200, { reason: 'traffic spike', actor: 'ops', correlationId: 'corr-1' });
  await config.updateBatch(
    [
      { path: 'limits.burst', value: 20 },
      { path: 'mode', value: 'fast' },
      { path: 'db.password', value: SECRET },
    ],
    { reason: 'tuning', actor: 'alice' },
  );
  await config.update('limits.rps', 300, { expectedVersion: 3 });
  const rolledBack = await config.rollback(3, { reason: 'bad value', actor: 'bob' });
  expect(rolledBack).toMatchObject({ applied: true, version: 5, previousVersion: 4 });
  expect(config.snapshot()).toMatchObject({
    limits: { rps: 200, burst: 20 },
    mode: 'fast',
    db: { password: SECRET },
  });
  return {
    initial,
    version: config.version,
    snapshot: config.snapshot(),
    history: await config.history(),
    details: await Promise.all([1, 2, 3, 4, 5].map((v) => config.getVersion(v))),
  };
}

function expectHistoryShape(history: Awaited<ReturnType<typeof changeHistory>>['history']): void {
  expect(history.map((v) => [v.version, v.kind])).toEqual([
    [5, 'rollback'],
    [4, 'update'],
    [3, 'update'],
    [2, 'update'],
    [1, 'initial'],
  ]);
  expect(history[0]).toMatchObject({ rolledBackTo: 3, reason: 'bad value', actor: 'bob', node: 'node-a' });
  expect(history[0]?.changes).toEqual([{ path: 'limits.rps', old: 300, new: 200 }]);
  expect(history[3]).toMatchObject({ reason: 'traffic spike', actor: 'ops', correlationId: 'corr-1' });
  expect(history[3]?.changes).toEqual([{ path: 'limits.rps', old: 100, new: 200 }]);
  expect(history[2]).toMatchObject({ reason: 'tuning', actor: 'alice' });
  expect(history[2]?.changes).toEqual([
    { path: 'db.password', old: REDACTED, new: REDACTED },
    { path: 'limits.burst', old: 10, new: 20 },
    { path: 'mode', old: 'safe', new: 'fast' },
  ]);
  expect(history[4]?.changes).toEqual([]);
  const shown = JSON.stringify(history);
  expect(shown).not.toContain(SECRET);
  expect(shown).not.toContain('hunter2');
}

/** The persistence scenario for a store URL that survives a foundation. */
function persistenceCases(label: string, storeUrl: () => Promise<{ url: string; dataDir: string }>): void {
  const running: TestFoundation[] = [];
  afterEach(async () => {
    for (const foundation of running.splice(0)) await foundation.stop();
  });

  it(`${label}: a new foundation on the same store resumes the latest version and history`, async () => {
    const { url, dataDir } = await storeUrl();
    const first = makeFoundation(url, dataDir);
    running.push(first);
    await first.start();
    expect(first.config.status().persisted).toBe(true);
    const seen = await changeHistory(first);
    expectHistoryShape(seen.history);
    await first.stop();
    running.length = 0;

    const second = makeFoundation(url, dataDir);
    running.push(second);
    // Before start it shows its sources (version 0); start adopts the store's latest version.
    expect(second.config.version).toBe(0);
    expect(second.config.get('limits.rps')).toBe(100);
    await second.start();
    expect(second.config.version).toBe(seen.version);
    expect(second.config.snapshot()).toEqual(seen.snapshot);
    expect(second.config.get('db.password')).toBe(SECRET);
    expect(second.config.explain('limits.rps')).toMatchObject({ source: 'runtime', value: 200 });
    expect(await second.config.history()).toEqual(seen.history);
    const details = await Promise.all([1, 2, 3, 4, 5].map((v) => second.config.getVersion(v)));
    expect(details).toEqual(seen.details);
    expect(details[2]?.config).toMatchObject({ db: { password: REDACTED } });
    expect(JSON.stringify(details)).not.toContain(SECRET);

    // It carries on from there: the next version is 6, CAS sees the adopted version, rollback reaches old ones.
    await second.config.update('mode', 'safe', { expectedVersion: 5 });
    expect(second.config.version).toBe(6);
    const conflict = await second.config
      .update('mode', 'fast', { expectedVersion: 5 })
      .catch((e: unknown) => e);
    expect((conflict as FoundationError).code).toBe('FND_CONFIG_VERSION_CONFLICT');
    await second.config.rollback(1);
    expect(second.config.version).toBe(7);
    expect(second.config.snapshot()).toEqual(seen.initial);
  });
}

describe('config persistence on SQLite (a temp file)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-persist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  persistenceCases('sqlite', () => {
    const dataDir = join(dir, 'data');
    return Promise.resolve({ url: `sqlite:${join(dir, 'foundation.db')}`, dataDir });
  });
  it('wrote the database file', () => {
    expect(existsSync(join(dir, 'foundation.db'))).toBe(true);
  });
});

describePg('config persistence on PostgreSQL (a fresh schema)', () => {
  let schemaHandle: TestSchema;
  let dir: string;
  beforeAll(async () => {
    schemaHandle = await createTestSchema();
    dir = await mkdtemp(join(tmpdir(), 'config-persist-pg-'));
  });
  afterAll(async () => {
    await schemaHandle.drop();
    await rm(dir, { recursive: true, force: true });
  });
  persistenceCases('postgres', () => Promise.resolve({ url: schemaHandle.url, dataDir: dir }));
});

describe('config on the memory store (same API, nothing persisted)', () => {
  it('versions, history and rollback work; a new foundation starts again at version 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-memory-'));
    const first = makeFoundation('memory:', dir);
    try {
      await first.start();
      expect(first.config.status().persisted).toBe(false);
      const seen = await changeHistory(first);
      expectHistoryShape(seen.history);
      await first.stop();
      const second = makeFoundation('memory:', dir);
      await second.start();
      try {
        expect(second.config.version).toBe(1);
        expect(second.config.get('limits.rps')).toBe(100);
        expect((await second.config.history()).map((v) => v.kind)).toEqual(['initial']);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a foundation whose config sources are garbage', () => {
  it('throws a catalog error at creation and creates nothing on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-garbage-'));
    try {
      const cases: Array<[string, string, string]> = [
        ['app.json', '{ "limits": ', 'FND_CONFIG_FILE_INVALID'],
        ['app.yaml', '- not\n- an object\n', 'FND_CONFIG_FILE_INVALID'],
        ['polluting.json', '{"__proto__": {"polluted": true}}', 'FND_CONFIG_FILE_INVALID'],
        ['invalid.json', '{"limits": {"rps": 0}}', 'FND_CONFIG_INVALID_VALUE'],
      ];
      for (const [name, text, code] of cases) {
        const file = join(dir, name);
        await writeFile(file, text);
        const dataDir = join(dir, `data-${name}`);
        const run = (): unknown =>
          createFoundation({
            store: `sqlite:${join(dataDir, 'foundation.db')}`,
            dataDir,
            config: { schema, file, mutable: ['limits.*'] },
          });
        expect(run).toThrow(expect.objectContaining({ code }));
        expect(existsSync(dataDir)).toBe(false);
      }
      const envRun = (): unknown =>
        createFoundation({
          store: `sqlite:${join(dir, 'env', 'foundation.db')}`,
          config: { schema, env: { prefix: 'APP_', env: { APP_LIMITS__RPS: 'lots' } } },
        });
      expect(envRun).toThrow(expect.objectContaining({ code: 'FND_CONFIG_ENV_INVALID' }));
      expect(existsSync(join(dir, 'env'))).toBe(false);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
