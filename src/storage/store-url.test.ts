import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/foundation-error.js';
import { thrown } from '../testing/capture.js';
import {
  DEFAULT_STORE_URL,
  describeStore,
  isValidSchemaName,
  parseStoreUrl,
  redactUrl,
  toStoreLocation,
} from './store-url.js';
import type { StoreLocation } from './types.js';

const GOOD: ReadonlyArray<readonly [string, StoreLocation]> = [
  ['memory:', { kind: 'memory' }],
  ['MEMORY:', { kind: 'memory' }],
  [
    'sqlite:./.foundation/foundation.db',
    { kind: 'sqlite', path: './.foundation/foundation.db', synchronous: 'NORMAL', busyTimeoutMs: 5000 },
  ],
  ['sqlite::memory:', { kind: 'sqlite', path: ':memory:', synchronous: 'NORMAL', busyTimeoutMs: 5000 }],
  ['sqlite:data.db', { kind: 'sqlite', path: 'data.db', synchronous: 'NORMAL', busyTimeoutMs: 5000 }],
  [
    'sqlite:/var/lib/app/x.db',
    { kind: 'sqlite', path: '/var/lib/app/x.db', synchronous: 'NORMAL', busyTimeoutMs: 5000 },
  ],
  [
    'sqlite:///var/lib/app/x.db',
    { kind: 'sqlite', path: '/var/lib/app/x.db', synchronous: 'NORMAL', busyTimeoutMs: 5000 },
  ],
  [
    'sqlite:./a.db?synchronous=FULL&busyTimeoutMs=250',
    { kind: 'sqlite', path: './a.db', synchronous: 'FULL', busyTimeoutMs: 250 },
  ],
  [
    'sqlite:./a.db?synchronous=normal',
    { kind: 'sqlite', path: './a.db', synchronous: 'NORMAL', busyTimeoutMs: 5000 },
  ],
  [
    'sqlite::memory:?busyTimeoutMs=0',
    { kind: 'sqlite', path: ':memory:', synchronous: 'NORMAL', busyTimeoutMs: 0 },
  ],
  [
    'postgres://postgres@127.0.0.1:5432/test',
    {
      kind: 'postgres',
      connectionString: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'foundation',
      poolSize: 10,
      queryTimeoutMs: 30_000,
    },
  ],
  [
    'postgresql://u:secret@db.example:6543/app?schema=tenant_1&poolSize=3&sslmode=require&queryTimeoutMs=2500',
    {
      kind: 'postgres',
      connectionString: 'postgresql://u:secret@db.example:6543/app?sslmode=require',
      schema: 'tenant_1',
      poolSize: 3,
      queryTimeoutMs: 2500,
    },
  ],
  [
    'postgres:///app?host=/var/run/postgresql&schema=_x',
    {
      kind: 'postgres',
      connectionString: 'postgres:///app?host=%2Fvar%2Frun%2Fpostgresql',
      schema: '_x',
      poolSize: 10,
      queryTimeoutMs: 30_000,
    },
  ],
];

const GARBAGE: readonly string[] = [
  '',
  '   ',
  'memory',
  'memory:x',
  'memory:?a=1',
  'mysql://root@localhost/db',
  'redis://localhost',
  './file.db',
  'sqlite:',
  'sqlite:?synchronous=FULL',
  'sqlite://',
  'sqlite:a.db?synchronous=OFF',
  'sqlite:a.db?synchronous=FULL&synchronous=NORMAL',
  'sqlite:a.db?busyTimeoutMs=-1',
  'sqlite:a.db?busyTimeoutMs=1.5',
  'sqlite:a.db?busyTimeoutMs=600001',
  'sqlite:a.db?busyTimeoutMs=',
  'sqlite:a.db?cache=shared',
  'sqlite:a.db?=1',
  'sqlite:a.db?synchronous=%E0%A4%A',
  'sqlite:a\0b.db',
  'postgres://',
  'postgres://host:99999/db',
  'postgres://host/db?schema=Upper',
  'postgres://host/db?schema=1abc',
  'postgres://host/db?schema=a-b',
  'postgres://host/db?schema=pg_catalog',
  `postgres://host/db?schema=${'a'.repeat(64)}`,
  'postgres://host/db?schema=a;DROP',
  'postgres://host/db?schema=',
  'postgres://host/db?poolSize=0',
  'postgres://host/db?poolSize=101',
  'postgres://host/db?poolSize=ten',
  'postgres://host/db?queryTimeoutMs=99',
  'postgres://host/db?queryTimeoutMs=3600001',
  'postgres://host/db?queryTimeoutMs=soon',
  'postgres://host/db?schema=a&schema=b',
  'postgres://host/db#frag',
  'postgres://[::1/db',
];

describe('parseStoreUrl', () => {
  it.each(GOOD)('parses %s', (url, expected) => {
    expect(parseStoreUrl(url)).toEqual(expected);
  });

  it.each(GARBAGE.map((url) => [url]))('rejects %j with FND_STORAGE_INVALID_URL', (url) => {
    const error = thrown(() => parseStoreUrl(url));
    expect(error).toBeInstanceOf(FoundationError);
    expect(error).toMatchObject({ code: 'FND_STORAGE_INVALID_URL' });
    expect((error as FoundationError).message).toMatch(/store URL/);
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 42, {}, ['memory:'], Symbol('x')]) {
      const error = thrown(() => parseStoreUrl(value as string));
      expect(error).toMatchObject({ code: 'FND_STORAGE_INVALID_URL' });
    }
  });

  it('parses the default URL to a SQLite file with NORMAL synchronous', () => {
    expect(parseStoreUrl(DEFAULT_STORE_URL)).toEqual({
      kind: 'sqlite',
      path: './.foundation/foundation.db',
      synchronous: 'NORMAL',
      busyTimeoutMs: 5000,
    });
  });

  it('names the reason in the message', () => {
    expect(thrown(() => parseStoreUrl('postgres://h/db?poolSize=0'))).toMatchObject({
      message: expect.stringContaining('poolSize must be between 1 and 100') as unknown,
    });
    expect(thrown(() => parseStoreUrl('ftp://x'))).toMatchObject({
      message: expect.stringContaining('unknown scheme "ftp"') as unknown,
      context: { reason: 'unknown scheme "ftp"' },
    });
  });

  it('never shows the password of a rejected URL, in the message or the context', () => {
    const urls = [
      'postgres://admin:hunter2secret@host/db?schema=BAD',
      'postgres://admin:hunter2secret@host:99999/db',
      'postgresql://admin:hunter2secret@host/db?poolSize=0',
      'postgres://admin:hunter2/secret@host/db?schema=BAD',
      'postgres://admin:hunter2@secret@host/db#x',
      'mysql://admin:hunter2secret@host/db',
      'postgres://admin@host/db?password=hunter2secret&schema=BAD',
    ];
    for (const url of urls) {
      const error = thrown(() => parseStoreUrl(url)) as FoundationError;
      expect(error.code).toBe('FND_STORAGE_INVALID_URL');
      expect(error.message).not.toContain('hunter2');
      expect(JSON.stringify(error.context)).not.toContain('hunter2');
      expect(error.message).toContain('admin');
    }
  });

  it('property: any string either parses or throws FND_STORAGE_INVALID_URL', () => {
    const prefixes = fc.constantFrom(
      '',
      'memory:',
      'sqlite:',
      'sqlite::memory:',
      'postgres://',
      'postgresql://u:p@',
    );
    fc.assert(
      fc.property(prefixes, fc.string({ unit: 'binary', maxLength: 60 }), (prefix, rest) => {
        try {
          const location = parseStoreUrl(prefix + rest);
          expect(['memory', 'sqlite', 'postgres']).toContain(location.kind);
        } catch (error) {
          expect(error).toBeInstanceOf(FoundationError);
          expect((error as FoundationError).code).toBe('FND_STORAGE_INVALID_URL');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: a password is never echoed by a failure', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9]{6,20}$/).map((s) => `Zq9${s}`);
    const tail = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(secret, tail, (password, garbage) => {
        try {
          parseStoreUrl(`postgres://user:${password}@host/db?${garbage}`);
        } catch (error) {
          const e = error as FoundationError;
          expect(e.code).toBe('FND_STORAGE_INVALID_URL');
          expect(e.message).not.toContain(password);
          expect(JSON.stringify(e.context)).not.toContain(password);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('isValidSchemaName', () => {
  it('accepts lowercase identifiers up to 63 characters, not pg_*', () => {
    expect(isValidSchemaName('foundation')).toBe(true);
    expect(isValidSchemaName('_a1')).toBe(true);
    expect(isValidSchemaName('a'.repeat(63))).toBe(true);
    expect(isValidSchemaName('a'.repeat(64))).toBe(false);
    expect(isValidSchemaName('pg_temp')).toBe(false);
    expect(isValidSchemaName('Foundation')).toBe(false);
    expect(isValidSchemaName('"x"')).toBe(false);
    expect(isValidSchemaName('')).toBe(false);
  });
});

describe('redactUrl', () => {
  it('hides the userinfo password and password parameters', () => {
    expect(redactUrl('postgres://u:pw@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('postgres://u:p@w@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://h/db?user=u&password=pw&x=1')).toBe(
      'postgres://h/db?user=u&password=***&x=1',
    );
    expect(redactUrl('sqlite:./a.db')).toBe('sqlite:./a.db');
  });
});

describe('describeStore', () => {
  it('shows each kind without credentials', () => {
    expect(describeStore(parseStoreUrl('memory:'))).toBe('memory:');
    expect(describeStore(parseStoreUrl('sqlite:./x.db?synchronous=FULL'))).toBe('sqlite:./x.db');
    expect(describeStore(parseStoreUrl('postgres://u:pw@h:5432/db?poolSize=4&schema=s1'))).toBe(
      'postgres://u@h:5432/db?schema=s1',
    );
    expect(describeStore(parseStoreUrl('postgres://u@h/db?password=pw'))).toBe(
      'postgres://u@h/db?schema=foundation',
    );
  });
});

describe('toStoreLocation', () => {
  it('parses strings and checks objects', () => {
    expect(toStoreLocation('memory:')).toEqual({ kind: 'memory' });
    const sqlite: StoreLocation = { kind: 'sqlite', path: 'a.db', synchronous: 'FULL', busyTimeoutMs: 10 };
    expect(toStoreLocation(sqlite)).toEqual(sqlite);
    const pg: StoreLocation = {
      kind: 'postgres',
      connectionString: 'postgres://h/db',
      schema: 's',
      poolSize: 2,
    };
    expect(toStoreLocation(pg)).toEqual({ ...pg, queryTimeoutMs: 30_000 });
  });

  it('rejects objects with unsafe or out-of-range fields', () => {
    const bad: unknown[] = [
      null,
      { kind: 'redis' },
      { kind: 'sqlite', path: '', synchronous: 'FULL', busyTimeoutMs: 1 },
      { kind: 'sqlite', path: 'a.db', synchronous: 'OFF; DROP', busyTimeoutMs: 1 },
      { kind: 'sqlite', path: 'a.db', synchronous: 'FULL', busyTimeoutMs: -5 },
      { kind: 'postgres', connectionString: 'postgres://h/db', schema: 'x"; DROP', poolSize: 2 },
      { kind: 'postgres', connectionString: 'postgres://h/db', schema: 's', poolSize: 0 },
      { kind: 'postgres', connectionString: '', schema: 's', poolSize: 1 },
      { kind: 'postgres', connectionString: 'postgres://h/db', schema: 's', poolSize: 1, queryTimeoutMs: 5 },
    ];
    for (const value of bad) {
      expect(thrown(() => toStoreLocation(value as StoreLocation))).toMatchObject({
        code: 'FND_STORAGE_INVALID_URL',
      });
    }
  });
});
