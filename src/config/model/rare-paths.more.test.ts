/**
 * Rare paths of the pure config models: issue paths without a path or with symbol keys, validators that
 * return functions, long error paths, class instances without a name, accessors in deep freezing, removal at
 * the root or at a missing path, over-long patterns, diff ordering of a parent and its child, and a file
 * whose size grows between `stat` and the read.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { diffJson } from './diff.js';
import { readConfigFile, readConfigFileSync } from './file.js';
import { jsonErrorOffset } from './json-locate.js';
import { deepFreeze, toJsonValue } from './json-value.js';
import { isForbiddenKey, removeAt } from './path.js';
import { compilePatterns } from './patterns.js';
import { issuePath, validateSchema } from './schema.js';

function refusal(fn: () => unknown): { code: string; message: string; context: unknown } {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError)
      return { code: error.code, message: error.message, context: error.context };
    throw error;
  }
  throw new Error('expected a refusal');
}

function schemaReturning(result: unknown): StandardSchemaV1 {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: () => result as StandardSchemaV1.Result<unknown>,
    },
  };
}

describe('schema issues', () => {
  it('names the root for an issue without a path, and a symbol key by its description or as empty', () => {
    expect(issuePath({ message: 'bad' })).toBe('');
    expect(issuePath({ message: 'bad', path: ['a', { key: Symbol('sym') }, Symbol(), 3] })).toBe('a.sym..3');
  });

  it('treats a function result with no `then` as a synchronous result', () => {
    const fn = Object.assign(() => undefined, { value: { ok: 1 } });
    expect(validateSchema(schemaReturning(fn), {})).toEqual({ ok: true, value: { ok: 1 } });
  });
});

describe('toJsonValue refusals', () => {
  it('shortens a path longer than 200 characters in the message', () => {
    const key = 'k'.repeat(250);
    const error = refusal(() => toJsonValue({ [key]: () => 1 }, { maxBytes: 1000, maxDepth: 5 }, ''));
    expect(error.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(error.message).toContain(`${'k'.repeat(200)}…`);
    expect(error.message).not.toContain('k'.repeat(201));
  });

  it('calls an instance of a nameless class "a class instance"', () => {
    const proto = Object.create(null) as object;
    const instance = Object.create(proto) as object;
    const error = refusal(() => toJsonValue({ a: instance }, { maxBytes: 1000, maxDepth: 5 }, ''));
    expect(error.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(error.message).toContain('a class instance is not a JSON value');
  });

  it('names the class of an instance', () => {
    class Widget {}
    const error = refusal(() => toJsonValue({ a: new Widget() }, { maxBytes: 1000, maxDepth: 5 }, ''));
    expect(error.message).toContain('a Widget is not a JSON value');
  });
});

describe('deepFreeze', () => {
  it('freezes data properties deeply and leaves an accessor alone', () => {
    const inner = { x: 1 };
    const tree: Record<string, unknown> = { inner };
    Object.defineProperty(tree, 'computed', { get: () => ({ y: 2 }), enumerable: true });
    expect(deepFreeze(tree)).toBe(tree);
    expect(Object.isFrozen(tree)).toBe(true);
    expect(Object.isFrozen(inner)).toBe(true);
    expect(Object.isFrozen(tree.computed)).toBe(false);
  });
});

describe('paths', () => {
  it('knows the forbidden keys', () => {
    expect(['__proto__', 'constructor', 'prototype', 'proto'].map(isForbiddenKey)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('removeAt returns the tree itself at the root and where nothing is stored', () => {
    const tree = Object.freeze({ a: Object.freeze({ b: 1 }) });
    expect(removeAt(tree, [])).toBe(tree);
    expect(removeAt(tree, ['a', 'c'])).toBe(tree);
    expect(removeAt(tree, ['a', 'b'])).toEqual({ a: {} });
  });

  it('refuses a pattern of more than 32 segments', () => {
    const pattern = Array.from({ length: 33 }, () => 'a').join('.');
    const error = refusal(() => compilePatterns([pattern]));
    expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
    expect(error.message).toContain('more than 32 segments');
  });
});

describe('diffJson ordering', () => {
  it('orders changes segment by segment (an added object is one change)', () => {
    const changes = diffJson({ a: { b: 1 } }, { a: { b: 2, c: { d: 1 } }, b: 1 });
    expect(changes.map((c) => c.path)).toEqual(['a.b', 'a.c', 'b']);
    const replaced = diffJson({ x: { y: 1 }, 'x-y': 2 }, { x: 3, 'x-y': 3 });
    expect(replaced.map((c) => c.path)).toEqual(['x', 'x-y']);
    expect(diffJson({ a: { b: 1 } }, { a: { b: 1, c: 2 } }, 'p').map((c) => c.path)).toEqual(['p.a.c']);
  });

  it('puts the shorter of two paths with the same segments first (keys holding dots)', () => {
    const changes = diffJson({ a: 1 }, { a: { b: 1 } }, '');
    expect(changes).toEqual([{ path: 'a', old: 1, new: { b: 1 } }]);
    const both = diffJson({ p: { q: 1 }, 'p.q': 0 }, { p: { q: 2 }, 'p.q': 1 });
    expect(both.map((c) => c.path)).toEqual(['p.q', 'p.q']);
  });
});

describe('jsonErrorOffset on literals and strings cut short', () => {
  it('points at the first character that breaks a literal, and at the end of an unterminated string', () => {
    expect(jsonErrorOffset('{"a": tru}')).toBe(9);
    expect(jsonErrorOffset('{"a": nul')).toBe(9);
    expect(jsonErrorOffset('{"a": "abc')).toBe(10);
    expect(jsonErrorOffset('{"a": [true, false, null]}')).toBeUndefined();
  });
});

describe('a file that grows between stat and read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-grow-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // procfs reports size 0 to stat but yields its contents on read: the size check after reading applies.
  const path = join(dir, 'grows.json');
  symlinkSync('/proc/self/status', path);

  it('is refused as too large by both readers', async () => {
    const sync = refusal(() => readConfigFileSync(path, 16));
    expect(sync.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(sync.message).toBe(`Configuration file ${path} is larger than 16 bytes`);
    let asyncError: unknown;
    try {
      await readConfigFile(path, 16);
    } catch (error) {
      asyncError = error;
    }
    expect(asyncError).toBeInstanceOf(FoundationError);
    expect((asyncError as FoundationError).code).toBe('FND_CONFIG_FILE_INVALID');
    expect((asyncError as FoundationError).context).toMatchObject({ file: path, limit: 16 });
  });
});
