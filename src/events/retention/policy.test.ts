import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileRules,
  governs,
  matchesPattern,
  parseTypePattern,
  partitionDropBefore,
  validatePolicies,
} from './policy.js';
import { deleteBatchSql, nthNewestSql } from './retention-sql.js';

const DAY = 86_400_000;

describe('retention policies', () => {
  it('validates and freezes a policy set', () => {
    const policies = validatePolicies([
      { types: '*', maxAgeMs: DAY },
      { types: 'order.*', maxCount: 5, maxAgeMs: 2 * DAY },
    ]);
    expect(policies).toEqual([
      { types: '*', maxAgeMs: DAY },
      { types: 'order.*', maxAgeMs: 2 * DAY, maxCount: 5 },
    ]);
    expect(Object.isFrozen(policies) && Object.isFrozen(policies[0])).toBe(true);
    expect(validatePolicies([])).toEqual([]);
  });

  it('rejects too many policies with the field and reason', () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ types: `t${i}`, maxCount: 1 }));
    let error: unknown;
    try {
      validatePolicies(many);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'FND_EVENTS_INVALID_POLICY', context: { field: 'policies' } });
  });

  it('gives every type to exactly the most specific matching policy (property)', () => {
    const segment = fc.constantFrom('a', 'b', 'c');
    const type = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
    const pattern = fc.oneof(
      type,
      type.map((t) => `${t}.*`),
      fc.constant('*'),
    );
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { maxLength: 6 }), type, (patterns, t) => {
        const rules = compileRules(validatePolicies(patterns.map((p) => ({ types: p, maxCount: 1 }))));
        const governing = rules.filter((r) => governs(r, t));
        const matching = rules.filter((r) => matchesPattern(r.pattern, t));
        expect(governing.length).toBe(matching.length === 0 ? 0 : 1);
        const best = governing[0];
        if (best === undefined) return;
        const spec = (p: string) => (p === '*' ? -1 : p.endsWith('.*') ? p.length - 1 : 1e9);
        for (const m of matching)
          expect(spec(best.policy.types)).toBeGreaterThanOrEqual(spec(m.policy.types));
      }),
    );
  });

  it('parses patterns like the query DSL', () => {
    expect(parseTypePattern('order.*')).toEqual({ kind: 'prefix', prefix: 'order.' });
    expect(parseTypePattern('order')).toEqual({ kind: 'exact', type: 'order' });
    expect(parseTypePattern('*')).toEqual({ kind: 'all' });
    for (const bad of ['Order', 'order.', '.*', 'a.*.b', '', 5, null])
      expect(parseTypePattern(bad)).toBeUndefined();
  });

  it('allows dropping whole partitions only when no policy outlives the * age limit', () => {
    const now = 100 * DAY;
    const drop = (p: unknown) => partitionDropBefore(compileRules(validatePolicies(p)), now);
    expect(drop([{ types: '*', maxAgeMs: 30 * DAY }])).toBe(70 * DAY);
    expect(drop([{ types: '*', maxAgeMs: 30 * DAY, maxCount: 5 }])).toBe(70 * DAY);
    expect(
      drop([
        { types: '*', maxAgeMs: 30 * DAY },
        { types: 'a.*', maxAgeMs: DAY, maxCount: 3 },
      ]),
    ).toBe(70 * DAY);
    expect(
      drop([
        { types: '*', maxAgeMs: 30 * DAY },
        { types: 'audit.*', maxAgeMs: 365 * DAY },
      ]),
    ).toBeUndefined();
    expect(
      drop([
        { types: '*', maxAgeMs: 30 * DAY },
        { types: 'audit.*', maxCount: 10 },
      ]),
    ).toBeUndefined();
    expect(drop([{ types: '*', maxCount: 10 }])).toBeUndefined();
    expect(drop([{ types: 'a.*', maxAgeMs: DAY }])).toBeUndefined();
  });

  it('compiles parameterized SQL whose SQLite placeholders follow the text order', () => {
    const [star, audit] = compileRules(
      validatePolicies([
        { types: '*', maxAgeMs: DAY },
        { types: 'audit.*', maxCount: 3 },
      ]),
    );
    if (star === undefined || audit === undefined) throw new Error('rules');
    const del = deleteBatchSql('sqlite', star, { beforeTime: 42 }, 7);
    expect(del.text).toBe(
      'DELETE FROM foundation_events WHERE position IN (SELECT position FROM foundation_events WHERE time < ? AND TRUE AND NOT ((type >= ? AND type < ?)) ORDER BY time, position LIMIT ?)',
    );
    expect(del.values).toEqual([42, 'audit.', 'audit/', 7]);
    const pg = deleteBatchSql('postgres', audit, { beforePosition: 9 }, 7);
    expect(pg.values).toEqual([9, 'audit.', 'audit/', 7]);
    expect(pg.text).toContain('position < $1::bigint AND (type >= $2::text AND type < $3::text)');
    expect(nthNewestSql('postgres', audit, 3).values).toEqual(['audit.', 'audit/', 2]);
  });
});
