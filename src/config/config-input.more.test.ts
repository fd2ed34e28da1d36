/**
 * The rarer refusals of config input checks (through a started config, so each refusal is shown to leave the
 * stored versions unchanged), and the rare shapes the state builder copes with: a validator whose output is
 * `undefined` or not an object, a written object over a stored leaf, leaf paths at the root.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/index.js';
import { createConfig } from './config.js';
import { checkConfigOptions, checkVersion } from './config-input.js';
import { buildState, emptyLayers, firstUnknownKey, leafPaths } from './config-state.js';
import { refusalOf } from '../../test/helpers/refusal.js';

const schema = z.object({
  limits: z.object({ rps: z.number().int().positive().default(100) }).prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
});

async function rejectedBy(promise: Promise<unknown>): Promise<FoundationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FoundationError);
    return error as FoundationError;
  }
  throw new Error('expected a refusal');
}

const bothValueAndUnset: Record<string, unknown> = { path: 'mode', unset: true, value: 'safe' };

const open: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const config of open.splice(0)) await config.stop();
});

async function startedConfig() {
  const config = createConfig(
    { schema, mutable: ['limits.*', 'mode'] },
    { clock: new FakeClock(), node: 'n1' },
  );
  open.push(config);
  await config.start();
  await config.update('mode', 'fast');
  return config;
}

describe('update input refusals leave the config and its history unchanged', () => {
  const cases: Array<
    [string, (config: Awaited<ReturnType<typeof startedConfig>>) => Promise<unknown>, string]
  > = [
    [
      'unset that is not a boolean',
      (c) => c.updateBatch([{ path: 'mode', unset: 'yes' } as never]),
      'Change "mode": unset must be a boolean',
    ],
    [
      'unset together with a value',
      (c) => c.updateBatch([bothValueAndUnset as never]),
      'Change "mode" has both a value and unset',
    ],
    [
      'a change without a value',
      (c) => c.updateBatch([{ path: 'mode' } as never]),
      'Change "mode" has no value',
    ],
    [
      'options that are not an object',
      (c) => c.update('mode', 'safe', 'because' as never),
      'Update options must be an object',
    ],
    [
      'dryRun that is not a boolean',
      (c) => c.update('mode', 'safe', { dryRun: 'yes' } as never),
      'dryRun must be a boolean',
    ],
  ];

  for (const [name, run, message] of cases) {
    it(`refuses ${name}`, async () => {
      const config = await startedConfig();
      const error = await rejectedBy(run(config));
      expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
      expect(error.message).toBe(message);
      expect(config.version).toBe(2);
      expect(config.get('mode')).toBe('fast');
      expect((await config.history()).map((v) => v.version)).toEqual([2, 1]);
    });
  }

  it('unsets a runtime value with { unset: true }', async () => {
    const config = await startedConfig();
    const result = await config.updateBatch([{ path: 'mode', unset: true }]);
    expect(result).toMatchObject({
      applied: true,
      version: 3,
      changes: [{ path: 'mode', old: 'fast', new: 'safe' }],
    });
    expect(config.get('mode')).toBe('safe');
  });

  it('refuses a version argument that is not a number, naming its type', async () => {
    const config = await startedConfig();
    const error = await rejectedBy(config.getVersion('2' as never));
    expect(error.code).toBe('FND_CONFIG_VERSION_NOT_FOUND');
    expect(error.context).toEqual({ version: 'string' });
    expect(refusalOf(() => checkVersion(0)).context).toEqual({ version: 0 });
    expect(config.version).toBe(2);
  });
});

describe('createConfig option refusals', () => {
  it('refuses an env separator that is not a string', () => {
    const error = refusalOf(() =>
      createConfig(
        { schema, env: { prefix: 'APP_', separator: 1 as never, env: {} } },
        { clock: new FakeClock() },
      ),
    );
    expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
    expect(error.message).toBe('createConfig: env.separator must be a string');
    expect(error.context).toEqual({ option: 'env.separator' });
  });

  it('refuses an unknown limit, naming at most 50 characters of it', () => {
    const key = `x${'y'.repeat(80)}`;
    const error = refusalOf(() => {
      checkConfigOptions({ schema, limits: { [key]: 1 } });
    });
    expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
    expect(error.context).toEqual({ option: `limits.${key.slice(0, 50)}` });
    expect(error.message).toBe(`createConfig: limits.${key.slice(0, 50)} is not a known limit`);
  });
});

function standard(validate: (value: unknown) => StandardSchemaV1.Result<unknown>): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'test', validate } };
}

describe('buildState with unusual validator outputs', () => {
  it('reads an undefined output as {}', () => {
    const built = buildState(
      standard(() => ({ value: undefined })),
      emptyLayers(),
    );
    expect(built.ok && built.state.json).toEqual({});
  });

  it('reads a non-object output as {}', () => {
    const built = buildState(
      standard(() => ({ value: 42 })),
      emptyLayers(),
    );
    expect(built.ok && built.state.json).toEqual({});
  });

  it('keeps an object the schema turned into a leaf as known (no unknown child reported)', () => {
    const built = buildState(
      standard(() => ({ value: { a: 1 } })),
      emptyLayers(),
    );
    if (!built.ok) throw new Error('expected a state');
    expect(firstUnknownKey('a', { b: 1 }, built.state.json, built.state.index)).toBeUndefined();
    expect(firstUnknownKey('zz', { b: 1 }, built.state.json, built.state.index)).toBe('zz');
  });

  it('lists leaf paths from the root', () => {
    expect(leafPaths('', { a: 1, b: { c: 2, d: {} } })).toEqual(['a', 'b.c', 'b.d']);
    expect(leafPaths('x', 3)).toEqual(['x']);
  });
});
