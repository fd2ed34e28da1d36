/**
 * Garbage at creation: every bad source (a corrupt or oversized file, a non-object YAML document, a file with
 * prototype-polluting keys or nested too deep, a malformed environment variable) and every malformed option
 * makes `createConfig` throw a catalog error — synchronously, before any store is touched — and pollutes
 * nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoundationError } from '../errors/index.js';
import { createConfig } from './config.js';
import type { ConfigOptions, ConfigVersionStore } from './types.js';

const schema = z.object({
  limits: z.object({ rps: z.number().int().positive().default(100) }).prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  tags: z.array(z.string()).default([]),
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-creation-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A store that fails the test if anything touches it. */
function untouchableStore(): ConfigVersionStore {
  const touched = (): never => {
    throw new Error('the store was touched');
  };
  return {
    kind: 'memory',
    open: touched,
    close: touched,
    latest: touched,
    get: touched,
    list: touched,
    since: touched,
    append: touched,
    watch: touched,
  };
}

/** Runs `createConfig(options)` and returns its catalog error (failing if it does not throw one). */
function creationError(options: Partial<ConfigOptions>): FoundationError {
  try {
    createConfig({ schema, ...options }, { store: untouchableStore() });
  } catch (error) {
    expect(error).toBeInstanceOf(FoundationError);
    return error as FoundationError;
  }
  throw new Error('expected createConfig to throw');
}

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('createConfig refuses garbage sources', () => {
  it('refuses a corrupt JSON file, locating the error without quoting the text', async () => {
    const error = creationError({ file: await file('app.json', '{ "limits": { "rps": "SECRETISH" ') });
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(error.context).toMatchObject({ line: 1, format: 'json' });
    expect(JSON.stringify([error.message, error.context])).not.toContain('SECRETISH');
  });

  it.each([
    ['a list', '- a\n- b\n'],
    ['a number', '42\n'],
    ['a string', 'hello\n'],
    ['several documents', 'mode: fast\n---\nmode: safe\n'],
  ])('refuses a YAML file holding %s', async (_label, text) => {
    expect(creationError({ file: await file('app.yaml', text) }).code).toBe('FND_CONFIG_FILE_INVALID');
  });

  it.each([
    ['__proto__ at the top', '{"__proto__": {"polluted": true}}'],
    ['constructor.prototype below', '{"limits": {"constructor": {"prototype": {"polluted": true}}}}'],
    ['prototype', '{"tags": [], "prototype": {"polluted": true}}'],
  ])('refuses a JSON file with %s', async (_label, text) => {
    const error = creationError({ file: await file('app.json', text) });
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect((error.cause as FoundationError).code).toBe('FND_CONFIG_INVALID_PATH');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('refuses a YAML file with a __proto__ key', async () => {
    const error = creationError({ file: await file('app.yaml', '__proto__:\n  polluted: true\n') });
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an oversized file (the default 1 MiB and a configured limit)', async () => {
    const big = await file('big.json', JSON.stringify({ tags: ['x'.repeat(1100 * 1024)] }));
    expect(creationError({ file: big })).toMatchObject({
      code: 'FND_CONFIG_FILE_INVALID',
      context: { limit: 1024 * 1024 },
    });
    const small = await file('small.json', JSON.stringify({ tags: ['x'.repeat(200)] }));
    expect(creationError({ file: small, limits: { maxFileBytes: 100 } })).toMatchObject({
      code: 'FND_CONFIG_FILE_INVALID',
      context: { limit: 100 },
    });
  });

  it.each([
    ['JSON objects 40 deep', 'deep.json', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`],
    ['JSON objects 100 000 deep', 'deeper.json', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
    ['YAML flow sequences 5 000 deep', 'deep.yaml', `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`],
  ])('refuses a file nested too deep: %s', async (_label, name, text) => {
    expect(creationError({ file: await file(name, text) }).code).toBe('FND_CONFIG_FILE_INVALID');
  });

  it('refuses a YAML alias bomb, invalid UTF-8, a directory and an unknown extension', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    await mkdir(join(dir, 'dir.json'));
    for (const path of [
      await file('bomb.yaml', bomb),
      await file('bad.json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
      join(dir, 'dir.json'),
      await file('app.toml', 'mode = "fast"'),
    ]) {
      expect(creationError({ file: path }).code).toBe('FND_CONFIG_FILE_INVALID');
    }
  });

  it('refuses a missing required file and a file value the schema refuses', async () => {
    expect(creationError({ file: { path: join(dir, 'none.json'), required: true } }).code).toBe(
      'FND_CONFIG_FILE_INVALID',
    );
    expect(creationError({ file: await file('app.json', '{"limits":{"rps":-1}}') }).code).toBe(
      'FND_CONFIG_INVALID_VALUE',
    );
  });

  it.each([
    ['a number that is not one', { APP_LIMITS__RPS: 'many' }],
    ['a value the schema refuses', { APP_MODE: 'turbo' }],
    ['an array that is not JSON', { APP_TAGS: '[1,' }],
    ['a name mapping to __proto__', { APP___PROTO____POLLUTED: '1' }],
    ['a name mapping to constructor.prototype', { APP_CONSTRUCTOR__PROTOTYPE__POLLUTED: '1' }],
    ['an empty segment', { APP_LIMITS____RPS: '1' }],
    ['nothing after the prefix', { APP_: '1' }],
    ['an oversized value', { APP_MODE: 'x'.repeat(70_000) }],
  ])('refuses a malformed environment variable: %s', (_label, env) => {
    const error = creationError({ env: { prefix: 'APP_', env } });
    expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
    expect(JSON.stringify([error.message, error.context])).not.toContain('many');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('createConfig refuses malformed options', () => {
  it.each<[string, Partial<ConfigOptions>]>([
    ['a file that is a number', { file: 42 as never }],
    ['a file object without a path', { file: { required: true } as never }],
    ['a file with a non-boolean watch', { file: { path: 'a.json', watch: 'yes' } as never }],
    ['an env that is a string', { env: 'APP_' as never }],
    ['an empty env prefix (the whole environment)', { env: { prefix: '' } }],
    ['an env prefix that is not a string', { env: { prefix: 7 } as never }],
    ['env variables that are not an object', { env: { prefix: 'APP_', env: 'x' } as never }],
    ['mutable paths given as one string', { mutable: 'mode' as never }],
    ['secret paths given as one string', { secrets: 'tags' as never }],
    ['a non-string secret pattern', { secrets: [42] as never }],
    ['a negative file size limit', { limits: { maxFileBytes: -1 } }],
    ['a fractional depth limit', { limits: { maxDepth: 2.5 } }],
    ['a non-numeric batch limit', { limits: { maxChanges: '10' } as never }],
    ['limits that are not an object', { limits: 5 as never }],
    ['defaults that are not an object', { defaults: 'nope' as never }],
    ['arguments that are an array', { arguments: [1] as never }],
  ])('refuses %s with FND_CONFIG_INVALID_STRUCTURE', (_label, options) => {
    expect(creationError(options).code).toBe('FND_CONFIG_INVALID_STRUCTURE');
  });

  it('refuses options that are not an object, and a missing or fake schema', () => {
    for (const options of [null, 'schema', { schema: undefined }, { schema: { validate: () => true } }]) {
      expect(() => createConfig(options as never)).toThrow(
        expect.objectContaining({ code: 'FND_CONFIG_INVALID_STRUCTURE' }),
      );
    }
  });

  it('refuses functions and prototype keys in defaults and arguments', () => {
    expect(creationError({ defaults: { mode: (() => 'fast') as never } }).code).toBe(
      'FND_CONFIG_INVALID_VALUE',
    );
    expect(creationError({ arguments: JSON.parse('{"__proto__": {"polluted": 1}}') as never }).code).toBe(
      'FND_CONFIG_INVALID_PATH',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
