/**
 * Hot reload of a real config file under a running foundation: edits written as deploy tools do (a temp
 * file renamed over the config) and in place become versions of kind `file`; an invalid edit (a syntax
 * error, a schema-invalid value, a subscriber's veto) is refused — the old config stays, the file state is
 * `invalid`, health is `degraded`, a `config.reload_failed` event is recorded — until a valid file returns.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundation } from '../../src/app/foundation.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
});

const POLL = { timeout: 5000, interval: 20 } as const;

let dir: string;
let counter = 0;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-reload-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` to a temp name in the same directory and renames it over `file` (an atomic replace). */
async function replaceFile(file: string, text: string): Promise<void> {
  counter += 1;
  const temp = join(dir, `.tmp-${String(counter)}`);
  await writeFile(temp, text);
  await rename(temp, file);
}

function makeFoundation(file: string) {
  return createFoundation({
    name: 'reloader',
    store: `sqlite:${join(dir, 'foundation.db')}`,
    dataDir: dir,
    config: { schema, file, mutable: ['limits.*'] },
  });
}

type TestFoundation = ReturnType<typeof makeFoundation>;

async function reloadFailures(foundation: TestFoundation) {
  const events = await foundation.events.readAll();
  return events.filter((event) => event.type === 'config.reload_failed');
}

async function configHealth(foundation: TestFoundation): Promise<string | undefined> {
  const health = await foundation.health();
  return health.services.find((service) => service.name === 'config')?.status;
}

/** Waits for a refused edit: fileState invalid, `failures` reload_failed events, the version unchanged. */
async function expectRefused(
  foundation: TestFoundation,
  failures: number,
  code: string,
  unchanged: { version: number; rps: number },
): Promise<void> {
  const config = foundation.config;
  await expect.poll(async () => (await reloadFailures(foundation)).length, POLL).toBe(failures);
  expect(config.status().fileState).toBe('invalid');
  expect(config.status().lastError?.code).toBe(code);
  expect(config.health().status).toBe('degraded');
  expect(await configHealth(foundation)).toBe('degraded');
  expect(config.version).toBe(unchanged.version);
  expect(config.get('limits.rps')).toBe(unchanged.rps);
  const last = (await reloadFailures(foundation)).at(-1);
  expect(last?.data).toMatchObject({ code, version: unchanged.version });
}

describe('config hot reload of a real file', () => {
  let foundation: TestFoundation | undefined;
  afterEach(async () => {
    await foundation?.stop();
    foundation = undefined;
  });

  it('applies renamed-over and in-place edits of a JSON file as versions of kind file; refuses invalid ones', async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 5 } }));
    foundation = makeFoundation(file);
    const config = foundation.config;
    await foundation.start();
    expect(config.version).toBe(1);
    expect(config.get('limits.rps')).toBe(5);
    expect(config.status().fileState).toBe('ok');

    // A deploy tool's atomic replace.
    await replaceFile(file, JSON.stringify({ limits: { rps: 6 }, mode: 'fast' }));
    await expect.poll(() => config.version, POLL).toBe(2);
    expect(config.snapshot()).toMatchObject({ limits: { rps: 6 }, mode: 'fast' });
    const [latest] = await config.history({ limit: 1 });
    expect(latest).toMatchObject({ version: 2, kind: 'file', actor: 'file' });
    expect(latest?.changes).toEqual([
      { path: 'limits.rps', old: 5, new: 6 },
      { path: 'mode', old: 'safe', new: 'fast' },
    ]);
    expect(config.explain('limits.rps')).toMatchObject({ source: 'file', file });

    // A plain in-place write.
    await writeFile(file, JSON.stringify({ limits: { rps: 7 }, mode: 'fast' }));
    await expect.poll(() => config.version, POLL).toBe(3);
    expect(config.get('limits.rps')).toBe(7);
    expect((await config.history({ limit: 1 }))[0]?.kind).toBe('file');
    expect(config.health().status).toBe('healthy');

    // A syntax error: refused, the old config stays.
    await replaceFile(file, '{ "limits": { "rps": 8 ');
    await expectRefused(foundation, 1, 'FND_CONFIG_FILE_INVALID', { version: 3, rps: 7 });
    expect(JSON.stringify((await reloadFailures(foundation))[0]?.data)).not.toContain('"rps": 8');

    // A schema-invalid value: refused the same way.
    await writeFile(file, JSON.stringify({ limits: { rps: -1 }, mode: 'fast' }));
    await expectRefused(foundation, 2, 'FND_CONFIG_INVALID_VALUE', { version: 3, rps: 7 });

    // A valid file again: healthy, a new version.
    await replaceFile(file, JSON.stringify({ limits: { rps: 9 }, mode: 'safe' }));
    await expect.poll(() => config.version, POLL).toBe(4);
    expect(config.snapshot()).toMatchObject({ limits: { rps: 9 }, mode: 'safe' });
    expect(config.status().fileState).toBe('ok');
    expect(config.health().status).toBe('healthy');
    expect(await configHealth(foundation)).toBe('healthy');
    expect((await config.history()).map((v) => v.kind)).toEqual(['file', 'file', 'file', 'initial']);
    expect(await reloadFailures(foundation)).toHaveLength(2);

    // A runtime override still wins over the file, and a later file edit keeps it.
    await config.update('limits.rps', 50);
    await replaceFile(file, JSON.stringify({ limits: { rps: 10, burst: 3 }, mode: 'safe' }));
    await expect.poll(() => config.version, POLL).toBe(6);
    expect(config.snapshot().limits).toEqual({ rps: 50, burst: 3 });
  });

  it('reloads a YAML file', async () => {
    const file = join(dir, 'app.yaml');
    await writeFile(file, 'limits:\n  rps: 5\n');
    foundation = makeFoundation(file);
    const config = foundation.config;
    await foundation.start();
    expect(config.get('limits.rps')).toBe(5);
    await replaceFile(file, 'limits:\n  rps: 15\n  burst: 2\nmode: fast\n');
    await expect.poll(() => config.version, POLL).toBe(2);
    expect(config.snapshot()).toMatchObject({ limits: { rps: 15, burst: 2 }, mode: 'fast' });
    expect((await config.history({ limit: 1 }))[0]?.kind).toBe('file');
    // Not an object at the top level: refused.
    await replaceFile(file, '- just\n- a list\n');
    await expectRefused(foundation, 1, 'FND_CONFIG_FILE_INVALID', { version: 2, rps: 15 });
    await writeFile(file, 'limits:\n  rps: 16\n');
    await expect.poll(() => config.version, POLL).toBe(3);
    expect(config.health().status).toBe('healthy');
  });

  it("refuses a file edit a subscriber's prepare vetoes", async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 5 } }));
    foundation = makeFoundation(file);
    const config = foundation.config;
    await foundation.start();
    const kinds: string[] = [];
    config.subscribe('limits', {
      prepare: (proposal) => {
        kinds.push(proposal.kind);
        return proposal.proposed.limits.rps > 1000 ? { veto: 'rps above 1000 needs a review' } : undefined;
      },
    });
    await replaceFile(file, JSON.stringify({ limits: { rps: 5000 } }));
    await expectRefused(foundation, 1, 'FND_CONFIG_UPDATE_VETOED', { version: 1, rps: 5 });
    expect(config.status().lastError?.message).toContain('rps above 1000 needs a review');
    expect(kinds).toEqual(['file']);
    await replaceFile(file, JSON.stringify({ limits: { rps: 500 } }));
    await expect.poll(() => config.version, POLL).toBe(2);
    expect(config.get('limits.rps')).toBe(500);
    expect(config.health().status).toBe('healthy');
  });
});
