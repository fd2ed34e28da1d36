/**
 * The examples of docs/config.md, run as written (with a temporary file and a memory store): when one of them
 * stops working, this fails.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundation } from '../../src/index.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  db: z.object({ url: z.string(), password: z.string() }),
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-docs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('docs/config.md examples', () => {
  it('defines, layers, explains, reads, changes, subscribes and rolls back', async () => {
    const file = join(dir, 'app.yaml');
    await writeFile(file, 'limits:\n  rps: 120\ndb:\n  url: postgres://db/app\n  password: hunter2\n');
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        schema,
        file,
        env: { prefix: 'APP_', env: { APP_LIMITS__RPS: '250' } },
        mutable: ['limits.*'],
        secrets: ['db.password'],
      },
    });
    await foundation.start();

    const rps: number = foundation.config.get('limits.rps');
    expect(rps).toBe(250);
    expect(foundation.config.explain('limits.rps')).toMatchObject({
      path: 'limits.rps',
      value: 250,
      source: 'env',
      envVar: 'APP_LIMITS__RPS',
      layers: [
        { source: 'file', value: 120 },
        { source: 'env', value: 250 },
      ],
      file,
      secret: false,
      mutable: true,
    });

    const seen: string[] = [];
    const unsubscribe = foundation.config.subscribe('limits', {
      prepare: ({ proposed }) => (proposed.limits.rps > 10_000 ? { veto: 'beyond capacity' } : undefined),
      onChange: ({ changes }) => {
        seen.push(...changes.map((change) => change.path));
      },
    });

    await foundation.config.update('limits.rps', 300, { reason: 'spike', actor: 'ops' });
    const dry = await foundation.config.updateBatch(
      [
        { path: 'limits.rps', value: 400 },
        { path: 'limits.burst', value: 50 },
      ],
      { expectedVersion: foundation.config.version, dryRun: true },
    );
    expect(dry).toMatchObject({ applied: false, dryRun: true, valid: true, version: 2 });
    await expect(foundation.config.update('limits.rps', 20_000)).rejects.toMatchObject({
      code: 'FND_CONFIG_UPDATE_VETOED',
    });
    await foundation.config.rollback(1);
    expect(foundation.config.get('limits.rps')).toBe(250);
    expect(seen).toEqual(['limits.rps', 'limits.rps']);
    unsubscribe();

    const history = await foundation.config.history();
    expect(history.map((version) => version.kind)).toEqual(['rollback', 'update', 'initial']);
    expect(JSON.stringify(await foundation.config.getVersion(1))).not.toContain('hunter2');
  });
});
