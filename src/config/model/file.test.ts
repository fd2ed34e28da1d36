import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { configFileFormat, parseConfigText, readConfigFile, readConfigFileSync } from './file.js';
import { jsonErrorOffset, locateOffset } from './json-locate.js';

const SECRET = 'p4ss-SECRET-word';

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string; context: Record<string, unknown>; cause?: unknown };
  }
  throw new Error('expected a throw');
};

const noSecret = (error: { message: string; context: unknown; cause?: unknown }): void => {
  expect(error.message).not.toContain(SECRET);
  expect(JSON.stringify(error.context)).not.toContain(SECRET);
  const cause = error.cause as { message?: string } | undefined;
  expect(String(cause?.message)).not.toContain(SECRET);
};

describe('configFileFormat', () => {
  it('goes by the extension, any case', () => {
    expect(configFileFormat('a/b.json')).toBe('json');
    expect(configFileFormat('C.JSON')).toBe('json');
    expect(configFileFormat('x.yaml')).toBe('yaml');
    expect(configFileFormat('x.YML')).toBe('yaml');
    for (const bad of ['x.toml', 'x', 'json', 'x.json.bak', '']) {
      expect(errorOf(() => configFileFormat(bad)).code).toBe('FND_CONFIG_FILE_INVALID');
    }
  });
});

describe('parseConfigText', () => {
  it('parses JSON and YAML into frozen objects', () => {
    const json = parseConfigText('{"a": {"b": [1, 2]}, "c": null}', 'json', 'c.json');
    expect(json).toEqual({ a: { b: [1, 2] }, c: null });
    expect(Object.isFrozen(json['a'])).toBe(true);
    const yaml = parseConfigText('a:\n  b: [1, 2]\nc: ~\nd: yes\ne: 0x10\nt: 2001-12-14\n', 'yaml', 'c.yaml');
    expect(yaml).toEqual({ a: { b: [1, 2] }, c: null, d: 'yes', e: 16, t: '2001-12-14' });
  });

  it('treats empty text and a null YAML document as {}', () => {
    expect(parseConfigText('', 'json', 'f.json')).toEqual({});
    expect(parseConfigText('  \n', 'json', 'f.json')).toEqual({});
    expect(parseConfigText('', 'yaml', 'f.yaml')).toEqual({});
    expect(parseConfigText('# only a comment\n', 'yaml', 'f.yaml')).toEqual({});
    expect(parseConfigText('~', 'yaml', 'f.yaml')).toEqual({});
    expect(parseConfigText('\uFEFF{"a":1}', 'json', 'f.json')).toEqual({ a: 1 });
  });

  it('locates JSON syntax errors without quoting the text', () => {
    const error = errorOf(() => parseConfigText(`{"a": 1,\n  "b": ${SECRET}}`, 'json', 'conf.json'));
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(error.context).toMatchObject({ file: 'conf.json', line: 2, column: 8 });
    expect(error.message).toContain('conf.json');
    expect(error.message).toContain('line 2');
    expect(error.cause).toBeInstanceOf(SyntaxError);
    noSecret(error);
  });

  it('locates YAML syntax errors without quoting the text', () => {
    const error = errorOf(() => parseConfigText(`a: 1\nb: [${SECRET}\n`, 'yaml', 'conf.yaml'));
    expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(error.context['line']).toBe(3);
    noSecret(error);
    const dup = errorOf(() => parseConfigText(`a: ${SECRET}\na: 2\n`, 'yaml', 'conf.yaml'));
    expect(dup.context).toMatchObject({ line: 2, reason: 'DUPLICATE_KEY' });
    noSecret(dup);
    expect(errorOf(() => parseConfigText('a: 1\n---\nb: 2\n', 'yaml', 'x.yaml')).code).toBe(
      'FND_CONFIG_FILE_INVALID',
    );
  });

  it('refuses a top level that is not an object', () => {
    for (const [text, format] of [
      ['[1, 2]', 'json'],
      ['"s"', 'json'],
      ['42', 'json'],
      ['null', 'json'],
      ['- 1\n- 2\n', 'yaml'],
      ['just text', 'yaml'],
    ] as const) {
      if (text === 'null') {
        expect(parseConfigText(text, format, 'f')).toEqual({});
        continue;
      }
      expect(errorOf(() => parseConfigText(text, format, 'f')).code).toBe('FND_CONFIG_FILE_INVALID');
    }
  });

  it('refuses values that are not JSON, forbidden keys, and too deep nesting', () => {
    const cases: Array<[string, 'json' | 'yaml']> = [
      ['a: .inf\n', 'yaml'],
      ['a: !!binary aGVsbG8=\n', 'yaml'],
      ['{"a": {"__proto__": {"x": 1}}}', 'json'],
      ['constructor: 1\n', 'yaml'],
      ['{"a":[[[[[1]]]]]}', 'json'],
    ];
    for (const [text, format] of cases) {
      const error = errorOf(() => parseConfigText(text, format, 'f', 4));
      expect(error.code).toBe('FND_CONFIG_FILE_INVALID');
      expect(error.cause).toBeInstanceOf(Error);
    }
    expect(parseConfigText('{"a":[[[1]]]}', 'json', 'f', 4)).toEqual({ a: [[[1]]] });
  });

  it('refuses YAML alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array.from({ length: 20 }, () => `*${prev}`).join(', ')}]`);
    }
    expect(errorOf(() => parseConfigText(lines.join('\n'), 'yaml', 'bomb.yaml')).code).toBe(
      'FND_CONFIG_FILE_INVALID',
    );
  });
});

describe('jsonErrorOffset', () => {
  it('agrees with JSON.parse on validity (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const offset = jsonErrorOffset(text);
        expect(offset === undefined).toBe(valid);
        if (offset !== undefined) expect(offset).toBeLessThanOrEqual(text.length);
      }),
    );
  });

  it('finds the offending character', () => {
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('{"a":1} x')).toBe(8);
    expect(jsonErrorOffset('"\\x"')).toBe(2);
    expect(jsonErrorOffset('01')).toBe(1);
    expect(locateOffset('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(locateOffset('', 0)).toEqual({ line: 1, column: 1 });
  });
});

describe('readConfigFile / readConfigFileSync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fnd-config-file-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string | Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads JSON and YAML files', async () => {
    const json = write('a.json', '{"a": 1}');
    const yaml = write('b.yml', 'b: two\n');
    expect(readConfigFileSync(json, 1000)).toEqual({ state: 'ok', value: { a: 1 }, text: '{"a": 1}' });
    expect(await readConfigFile(yaml, 1000)).toEqual({ state: 'ok', value: { b: 'two' }, text: 'b: two\n' });
  });

  it('reports a missing file as missing', async () => {
    expect(readConfigFileSync(join(dir, 'nope.json'), 1000)).toEqual({ state: 'missing' });
    expect(await readConfigFile(join(dir, 'nope.yaml'), 1000)).toEqual({ state: 'missing' });
  });

  it('refuses a file larger than the limit', async () => {
    const path = write('big.json', `{"a": "${'x'.repeat(100)}"}`);
    const sync = errorOf(() => readConfigFileSync(path, 50));
    expect(sync.code).toBe('FND_CONFIG_FILE_INVALID');
    expect(sync.context['limit']).toBe(50);
    await expect(readConfigFile(path, 50)).rejects.toMatchObject({ code: 'FND_CONFIG_FILE_INVALID' });
  });

  it('refuses a directory', async () => {
    const path = join(dir, 'adir.json');
    mkdirSync(path);
    expect(errorOf(() => readConfigFileSync(path, 1000)).code).toBe('FND_CONFIG_FILE_INVALID');
    await expect(readConfigFile(path, 1000)).rejects.toMatchObject({ code: 'FND_CONFIG_FILE_INVALID' });
  });

  it('refuses invalid UTF-8, bad syntax and a bad extension', async () => {
    const bin = write('bin.json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(errorOf(() => readConfigFileSync(bin, 1000)).code).toBe('FND_CONFIG_FILE_INVALID');
    const bad = write('bad.json', `{"k": ${SECRET}`);
    const error = errorOf(() => readConfigFileSync(bad, 1000));
    expect(error.context['file']).toBe(bad);
    noSecret(error);
    await expect(readConfigFile(bad, 1000)).rejects.toMatchObject({ code: 'FND_CONFIG_FILE_INVALID' });
    const txt = write('conf.txt', '{}');
    expect(errorOf(() => readConfigFileSync(txt, 1000)).code).toBe('FND_CONFIG_FILE_INVALID');
  });
});
