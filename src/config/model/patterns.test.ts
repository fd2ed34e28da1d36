import { describe, expect, it } from 'vitest';
import { compilePatterns } from './patterns.js';

const codeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
};

describe('compilePatterns', () => {
  it('matches exact paths', () => {
    const m = compilePatterns(['db.password', 'api']);
    expect(m.matches('db.password')).toBe(true);
    expect(m.matches('api')).toBe(true);
    expect(m.matches('db')).toBe(false);
    expect(m.matches('db.password.x')).toBe(false);
    expect(m.matches('db.passwordx')).toBe(false);
    expect(m.patterns).toEqual(['db.password', 'api']);
  });

  it('* is exactly one segment', () => {
    const m = compilePatterns(['services.*.token']);
    expect(m.matches('services.a.token')).toBe(true);
    expect(m.matches('services.token')).toBe(false);
    expect(m.matches('services.a.b.token')).toBe(false);
    expect(m.covers('services.a.token.x')).toBe(true);
    expect(m.touches('services.a')).toBe(true);
    expect(m.touches('services')).toBe(true);
    expect(m.touches('other')).toBe(false);
  });

  it('** is zero or more segments', () => {
    const m = compilePatterns(['**.password']);
    expect(m.matches('password')).toBe(true);
    expect(m.matches('db.password')).toBe(true);
    expect(m.matches('a.b.c.password')).toBe(true);
    expect(m.matches('a.b.c')).toBe(false);
    expect(m.covers('a.password.x')).toBe(true);
    expect(m.touches('a.b')).toBe(true);
    expect(m.touches('')).toBe(true);
    const mid = compilePatterns(['a.**.z']);
    expect(mid.matches('a.z')).toBe(true);
    expect(mid.matches('a.b.c.z')).toBe(true);
    expect(mid.matches('b.z')).toBe(false);
    expect(mid.touches('b')).toBe(false);
    const all = compilePatterns(['limits.**']);
    expect(all.matches('limits')).toBe(true);
    expect(all.matches('limits.rps')).toBe(true);
    expect(all.covers('limits.rps.x')).toBe(true);
    expect(all.matches('other')).toBe(false);
  });

  it('covers: the path or an ancestor matches', () => {
    const m = compilePatterns(['db']);
    expect(m.covers('db')).toBe(true);
    expect(m.covers('db.password')).toBe(true);
    expect(m.covers('dbx')).toBe(false);
    expect(m.covers('')).toBe(false);
    expect(m.covers('x.db')).toBe(false);
  });

  it('touches: covered, or a descendant could match', () => {
    const m = compilePatterns(['db.password']);
    expect(m.touches('db')).toBe(true);
    expect(m.touches('')).toBe(true);
    expect(m.touches('db.password')).toBe(true);
    expect(m.touches('db.password.x')).toBe(true);
    expect(m.touches('db.user')).toBe(false);
    expect(m.touches('api')).toBe(false);
  });

  it('an empty list matches nothing', () => {
    const m = compilePatterns([]);
    expect(m.matches('a')).toBe(false);
    expect(m.covers('a.b')).toBe(false);
    expect(m.touches('')).toBe(false);
  });

  it('answers the same from its cache, past the cache bound', () => {
    const m = compilePatterns(['a.*']);
    for (let i = 0; i < 10_050; i++) expect(m.matches(`a.k${i}`)).toBe(true);
    expect(m.matches('a.k1')).toBe(true);
    expect(m.matches('b.k1')).toBe(false);
  });

  it.each([
    [''],
    ['a..b'],
    ['a.***'],
    ['a.__proto__'],
    ['a b'],
    ['x'.repeat(300)],
    [42 as unknown as string],
  ])('refuses the bad pattern %j', (pattern) => {
    expect(codeOf(() => compilePatterns(['ok', pattern]))).toBe('FND_CONFIG_INVALID_STRUCTURE');
  });
});
