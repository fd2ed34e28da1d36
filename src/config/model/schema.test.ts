import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compilePatterns } from './patterns.js';
import { createRedactor } from './redact.js';
import { invalidConfigError, validateSchema } from './schema.js';

const schema = z.object({
  port: z.number().int().default(3000),
  db: z.object({ password: z.string().min(8), hosts: z.array(z.string()) }),
});

const fake = (validate: (value: unknown) => unknown): StandardSchemaV1 => ({
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: validate as StandardSchemaV1['~standard']['validate'],
  },
});

describe('validateSchema', () => {
  it('returns the output value (schema defaults applied)', () => {
    expect(validateSchema(schema, { db: { password: '12345678', hosts: [] } })).toEqual({
      ok: true,
      value: { port: 3000, db: { password: '12345678', hosts: [] } },
    });
  });

  it('returns issues with dotted paths', () => {
    const result = validateSchema(schema, { port: 'x', db: { password: 'short', hosts: ['a', 1] } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual(['db.hosts.1', 'db.password', 'port']);
    expect(validateSchema(schema, 42)).toMatchObject({ ok: false, issues: [{ path: '' }] });
  });

  it('joins PropertyKey and { key } segments', () => {
    const s = fake(() => ({
      issues: [{ message: 'm', path: ['a', { key: 0 }, Symbol('s'), { key: 'b' }] }],
    }));
    expect(validateSchema(s, {})).toEqual({ ok: false, issues: [{ path: 'a.0.s.b', message: 'm' }] });
  });

  it('turns a throwing validator into a root issue', () => {
    const s = fake(() => {
      throw new Error('boom');
    });
    expect(validateSchema(s, {})).toEqual({ ok: false, issues: [{ path: '', message: 'boom' }] });
    const t = fake(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'str';
    });
    expect(validateSchema(t, {})).toMatchObject({ ok: false, issues: [{ path: '' }] });
  });

  it('refuses asynchronous validation without an unhandled rejection', () => {
    const s = fake(() => Promise.reject(new Error('late')));
    expect(() => validateSchema(s, {})).toThrow(
      expect.objectContaining({ code: 'FND_CONFIG_INVALID_STRUCTURE' }),
    );
    const zAsync = z.object({ a: z.string().refine(async () => Promise.resolve(true)) });
    expect(() => validateSchema(zAsync, { a: 'x' })).toThrow(
      expect.objectContaining({ code: 'FND_CONFIG_INVALID_STRUCTURE' }),
    );
  });
});

describe('invalidConfigError', () => {
  const redactor = createRedactor(compilePatterns(['db.password']));

  it('names the first issue and counts the rest', () => {
    const error = invalidConfigError(
      [
        { path: 'port', message: 'Expected number' },
        { path: '', message: 'root problem' },
        { path: 'x', message: 'y' },
      ],
      redactor,
    );
    expect(error.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(error.message).toBe('Configuration is invalid: port: Expected number (and 2 more)');
    expect(error.context['issues']).toHaveLength(3);
    expect(invalidConfigError([{ path: '', message: 'm' }], redactor).message).toBe(
      'Configuration is invalid: (root): m',
    );
    expect(invalidConfigError([], redactor).message).toBe('Configuration is invalid');
    expect(invalidConfigError([{ path: 'a', message: 'm' }], redactor, 'Update refused').message).toBe(
      'Update refused: a: m',
    );
  });

  it('hides the messages of secret paths and keeps at most 20 issues', () => {
    const issues = [
      { path: 'db.password', message: 'got "hunter2"' },
      ...Array.from({ length: 30 }, (_, i) => ({ path: `k${i}`, message: 'bad' })),
    ];
    const error = invalidConfigError(issues, redactor);
    expect(error.message).toBe('Configuration is invalid: db.password: invalid secret value (and 30 more)');
    expect(JSON.stringify(error.context)).not.toContain('hunter2');
    expect(error.context['issues']).toHaveLength(20);
  });

  it('works end to end with zod issues', () => {
    const result = validateSchema(schema, { db: { password: 'hunter2', hosts: [] } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = invalidConfigError(result.issues, redactor);
    expect(error.message).toContain('db.password: invalid secret value');
  });
});
