/**
 * The PostgreSQL store's round planner: every decision is planned exactly once; a statement holds at most 64
 * decisions of one signature on distinct keys; no key appears twice in a round; the decisions left for later
 * keep their order, and a key's decisions keep theirs across rounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchSignature, MAX_BATCH, planRound, wireKey, type BatchItem } from './postgres-batch.js';
import type { RateLimitRule } from './types.js';

interface Item extends BatchItem {
  readonly id: number;
}

const RULES: readonly RateLimitRule[] = [
  { algorithm: 'fixed_window', limit: 10, windowMs: 1000 },
  { algorithm: 'gcra', limit: 10, windowMs: 1000 },
  { algorithm: 'token_bucket', limit: 10, windowMs: 1000, burst: 20 },
  { algorithm: 'token_bucket', limit: 10, windowMs: 1000 },
];

function item(id: number, key: string, rule: RateLimitRule = RULES[0]!, n = 1): Item {
  return { id, key, rule, n };
}

/** All rounds of `pending`, as the store runs them. */
function rounds(pending: readonly Item[]): Item[][][] {
  const out: Item[][][] = [];
  let rest: readonly Item[] = pending;
  while (rest.length > 0) {
    const { statements, later } = planRound(rest);
    out.push(statements);
    rest = later;
  }
  return out;
}

describe('planRound', () => {
  it('puts same-rule decisions on distinct keys in one statement, in the order asked', () => {
    const pending = [item(0, 'b'), item(1, 'a'), item(2, 'c')];
    const { statements, later } = planRound(pending);
    expect(statements.map((s) => s.map((d) => d.id))).toEqual([[0, 1, 2]]);
    expect(later).toEqual([]);
  });

  it('splits at 64 decisions per statement', () => {
    const pending = Array.from({ length: 150 }, (_, i) => item(i, `k${String(i)}`));
    const { statements, later } = planRound(pending);
    expect(statements.map((s) => s.length)).toEqual([64, 64, 22]);
    expect(statements.flat().map((d) => d.id)).toEqual(pending.map((d) => d.id));
    expect(later).toEqual([]);
    expect(MAX_BATCH).toBe(64);
  });

  it('defers a repeated key, and every later decision on it, to the next round', () => {
    const pending = [item(0, 'a'), item(1, 'b'), item(2, 'a'), item(3, 'c'), item(4, 'a'), item(5, 'b')];
    expect(rounds(pending).map((r) => r.map((s) => s.map((d) => d.id)))).toEqual([
      [[0, 1, 3]],
      [[2, 5]],
      [[4]],
    ]);
  });

  it('separates rules (the same values count as the same rule) and unit counts', () => {
    const copy: RateLimitRule = { ...RULES[0]! };
    const pending = [
      item(0, 'a', RULES[0]),
      item(1, 'b', copy),
      item(2, 'c', RULES[1]),
      item(3, 'd', RULES[0], 2),
      item(4, 'e', RULES[2]),
      item(5, 'f', RULES[3]),
      item(6, 'g', RULES[1]),
    ];
    const { statements } = planRound(pending);
    expect(statements.map((s) => s.map((d) => d.id))).toEqual([[0, 1], [2, 6], [3], [4], [5]]);
    expect(batchSignature(item(0, 'x', RULES[2]))).toBe('token_bucket/10/1000/20/1');
    expect(batchSignature(item(0, 'x', RULES[0], 3))).toBe('fixed_window/10/1000/10/3');
  });

  it('a key asked under two rules in one turn waits for the next round the second time', () => {
    const pending = [item(0, 'a', RULES[0]), item(1, 'a', RULES[1])];
    expect(rounds(pending).map((r) => r.map((s) => s.map((d) => d.id)))).toEqual([[[0]], [[1]]]);
  });

  it('counts keys that differ only in lone surrogates as one key (one row on the server)', () => {
    expect(wireKey('x\uD800')).toBe('x\uFFFD');
    expect(wireKey('a\uDFFFb\uD800')).toBe('a\uFFFDb\uFFFD');
    expect(wireKey('ok \uD83D\uDE00')).toBe('ok \uD83D\uDE00');
    const pending = [item(0, 'x\uD800'), item(1, 'x\uDFFF'), item(2, 'y')];
    expect(rounds(pending).map((r) => r.map((s) => s.map((d) => d.id)))).toEqual([[[0, 2]], [[1]]]);
  });

  it('plans every decision once, within the limits, keeping each key in order (property)', () => {
    const arbItem = fc.record({
      key: fc.integer({ min: 0, max: 80 }),
      rule: fc.integer({ min: 0, max: RULES.length - 1 }),
      n: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(arbItem, { maxLength: 400 }), (raw) => {
        const pending = raw.map((r, i) => item(i, `k${String(r.key)}`, RULES[r.rule], r.n));
        const all = rounds(pending);
        const seen: number[] = [];
        const lastRoundOfKey = new Map<string, { round: number; id: number }>();
        for (const [round, statements] of all.entries()) {
          const keysInRound = new Set<string>();
          for (const s of statements) {
            expect(s.length).toBeGreaterThan(0);
            expect(s.length).toBeLessThanOrEqual(MAX_BATCH);
            expect(new Set(s.map((d) => batchSignature(d))).size).toBe(1);
            for (const d of s) {
              expect(keysInRound.has(wireKey(d.key))).toBe(false);
              keysInRound.add(wireKey(d.key));
              const before = lastRoundOfKey.get(d.key);
              if (before !== undefined) {
                expect(before.round).toBeLessThan(round);
                expect(before.id).toBeLessThan(d.id);
              }
              lastRoundOfKey.set(d.key, { round, id: d.id });
              seen.push(d.id);
            }
          }
        }
        expect(seen.sort((a, b) => a - b)).toEqual(pending.map((d) => d.id));
      }),
      { numRuns: 200 },
    );
  });
});
