/** The rarer paths of the pure config models: environment words and numbers, file I/O errors, JSON errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { readEnvLayer } from './env.js';
import { readConfigFile, readConfigFileSync } from './file.js';
import { jsonErrorOffset } from './json-locate.js';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('readEnvLayer', () => {
  it('refuses an empty separator', () => {
    expect(refusal(() => readEnvLayer({ prefix: 'APP_', separator: '', env: { APP_A: '1' } }, {}))).toEqual({
      code: 'FND_CONFIG_INVALID_STRUCTURE',
      message: 'The environment separator must not be empty',
    });
  });

  it('reads untyped words and numbers: false, -0 as 0, a number too large for a double as text', () => {
    const layer = readEnvLayer(
      { prefix: 'APP_', env: { APP_OFF: 'false', APP_ZERO: '-0', APP_HUGE: '1e999', APP_PI: ' 3.5 ' } },
      {},
    );
    expect(layer.value).toEqual({ off: false, zero: 0, huge: '1e999', pi: 3.5 });
    expect(Object.is(layer.value.zero, -0)).toBe(false);
    expect(layer.vars.get('huge')).toBe('APP_HUGE');
  });
});

describe('reading a config file through a path that is not a directory', () => {
  // A path below a regular file fails with ENOTDIR: neither missing nor readable.
  const dir = mkdtempSync(join(tmpdir(), 'config-enotdir-'));
  writeFileSync(join(dir, 'plain'), 'x');
  const path = join(dir, 'plain', 'app.json');
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses it with FND_CONFIG_FILE_INVALID naming the system code (sync)', () => {
    expect(refusal(() => readConfigFileSync(path, 1024))).toEqual({
      code: 'FND_CONFIG_FILE_INVALID',
      message: `Configuration file ${path} cannot be read (ENOTDIR)`,
    });
  });

  it('refuses it the same way (async)', async () => {
    await expect(readConfigFile(path, 1024)).rejects.toMatchObject({
      code: 'FND_CONFIG_FILE_INVALID',
      message: `Configuration file ${path} cannot be read (ENOTDIR)`,
    });
  });
});

describe('jsonErrorOffset', () => {
  it('accepts \\u escapes and points at a bad one', () => {
    expect(jsonErrorOffset('{"a": "\\u00e9"}')).toBeUndefined();
    expect(jsonErrorOffset('{"a": "\\u00zz"}')).toBe(8);
  });

  it('points at a raw control character in a string, a missing colon and a trailing comma', () => {
    expect(jsonErrorOffset('{"a": "x\ty"}')).toBe(8);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
  });
});
