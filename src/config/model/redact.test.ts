import { describe, expect, it } from 'vitest';
import { REDACTED } from '../types.js';
import { compilePatterns } from './patterns.js';
import { createRedactor } from './redact.js';

describe('createRedactor', () => {
  const r = createRedactor(compilePatterns(['db.password', 'apiKeys', '**.token']));
  const tree = Object.freeze({
    db: Object.freeze({ host: 'h', password: 'pw' }),
    apiKeys: Object.freeze({ a: 'k1', b: 'k2' }),
    services: Object.freeze({ x: Object.freeze({ token: 't', url: 'u' }) }),
    plain: Object.freeze({ n: 1 }),
  });

  it('knows secret paths (covers)', () => {
    expect(r.isSecret('db.password')).toBe(true);
    expect(r.isSecret('apiKeys.a')).toBe(true);
    expect(r.isSecret('services.x.token')).toBe(true);
    expect(r.isSecret('db')).toBe(false);
    expect(r.isSecret('db.host')).toBe(false);
  });

  it('replaces secret subtrees whole and shares the rest', () => {
    const out = r.redactTree(tree);
    expect(out).toEqual({
      db: { host: 'h', password: REDACTED },
      apiKeys: REDACTED,
      services: { x: { token: REDACTED, url: 'u' } },
      plain: { n: 1 },
    });
    expect(out['plain']).toBe(tree.plain);
    expect(tree.db.password).toBe('pw');
  });

  it('redacts a subtree given with its prefix', () => {
    expect(r.redactTree({ host: 'h', password: 'pw' }, 'db')).toEqual({ host: 'h', password: REDACTED });
    expect(r.redactTree({ a: 'k', b: { c: 1 } }, 'apiKeys')).toEqual({ a: REDACTED, b: REDACTED });
    const plain = { n: 1 };
    expect(r.redactTree(plain, 'plain')).toBe(plain);
  });

  it('redacts single values; undefined stays undefined', () => {
    expect(r.redactValue('db.password', 'pw')).toBe(REDACTED);
    expect(r.redactValue('db.password', undefined)).toBeUndefined();
    expect(r.redactValue('apiKeys', { a: 'x' })).toBe(REDACTED);
    expect(r.redactValue('db', { password: 'pw', host: 'h' })).toEqual({ password: REDACTED, host: 'h' });
    expect(r.redactValue('db.host', 'h')).toBe('h');
    expect(r.redactValue('', { db: { password: 'x' } })).toEqual({ db: { password: REDACTED } });
  });

  it('redacts changes, keeping additions and removals visible', () => {
    const changes = [
      { path: 'db.password', old: undefined, new: 'new-pw' },
      { path: 'db.host', old: 'a', new: 'b' },
      { path: 'services', old: { x: { token: 't' } }, new: undefined },
      { path: 'apiKeys.a', old: 'k', new: 'k2' },
    ];
    const out = r.redactChanges(changes);
    expect(out).toEqual([
      { path: 'db.password', old: undefined, new: REDACTED },
      { path: 'db.host', old: 'a', new: 'b' },
      { path: 'services', old: { x: { token: REDACTED } }, new: undefined },
      { path: 'apiKeys.a', old: REDACTED, new: REDACTED },
    ]);
    expect(out[1]).toBe(changes[1]);
    expect(JSON.stringify(out)).not.toMatch(/new-pw|"k2?"|"t"/);
  });

  it('with no patterns returns trees as they are', () => {
    const none = createRedactor(compilePatterns([]));
    expect(none.redactTree(tree)).toBe(tree);
    expect(none.isSecret('db.password')).toBe(false);
    expect(none.redactValue('x', 'v')).toBe('v');
    const changes = [{ path: 'a', old: 1, new: 2 }];
    expect(none.redactChanges(changes)).toEqual(changes);
  });
});
