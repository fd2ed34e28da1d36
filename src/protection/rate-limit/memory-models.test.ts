/**
 * The memory store's in-place models against the pure models (the reference, which also define what Redis
 * and PostgreSQL compute): over random sequences of operations — consume n, status, hold, reset, rule
 * changes (limit, burst, algorithm, window), clock steps forwards and backwards — on all four algorithms, the
 * memory store gives exactly the decisions, and lists exactly the keys, of a reference store built here from
 * the pure models.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { decideFixedWindow, fixedWindowIdleAt, type FixedWindowState } from './fixed-window.js';
import { decideGcra, gcraIdleAt, type GcraState } from './gcra.js';
import {
  cellIdleAt,
  cellKind,
  cellState,
  decideCell,
  decideKind,
  type ModelCell,
  type ModelState,
} from './memory-models.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { decideSlidingWindow, slidingWindowIdleAt, type SlidingWindowState } from './sliding-window.js';
import { decideTokenBucket, tokenBucketIdleAt, type TokenBucketState } from './token-bucket.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule } from './types.js';

const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token_bucket', 'gcra', 'sliding_window', 'fixed_window'];

function pureDecide(
  state: ModelState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): { readonly decision: RateLimitDecision; readonly nextState: ModelState } {
  switch (rule.algorithm) {
    case 'token_bucket':
      return decideTokenBucket(state as TokenBucketState | undefined, rule, n, now);
    case 'gcra':
      return decideGcra(state as GcraState | undefined, rule, n, now);
    case 'sliding_window':
      return decideSlidingWindow(state as SlidingWindowState | undefined, rule, n, now);
    case 'fixed_window':
      return decideFixedWindow(state as FixedWindowState | undefined, rule, n, now);
  }
}

function pureIdleAt(state: ModelState, rule: RateLimitRule): number {
  switch (rule.algorithm) {
    case 'token_bucket':
      return tokenBucketIdleAt(state as TokenBucketState, rule);
    case 'gcra':
      return gcraIdleAt(state as GcraState, rule);
    case 'sliding_window':
      return slidingWindowIdleAt(state as SlidingWindowState, rule);
    case 'fixed_window':
      return fixedWindowIdleAt(state as FixedWindowState, rule);
  }
}

/** The cell holding `state` (the inverse of `cellState`). */
function cellOf(state: ModelState): ModelCell {
  if ('scaled' in state) return { t: state.at, u: state.scaled, v: 0 };
  if ('debt' in state) return { t: state.at, u: state.debt, v: 0 };
  if ('curr' in state) return { t: state.start, u: state.prev, v: state.curr };
  return { t: state.start, u: state.count, v: 0 };
}

interface RefEntry {
  state: ModelState | undefined;
  rule: RateLimitRule | undefined;
  holdUntil: number;
}

/**
 * The reference: the memory store's documented semantics on the pure models (a state carries over a rule
 * with the same algorithm and window, a refusal or a status records nothing, a hold refuses with the larger
 * wait and reset), one immutable state object per key.
 */
class ReferenceStore {
  readonly #entries = new Map<string, RefEntry>();
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock.now());
  }

  decide(key: string, rule: RateLimitRule, n: number, record: boolean): RateLimitDecision {
    const now = this.#now();
    const entry = this.#entries.get(key);
    const carried =
      entry?.rule !== undefined &&
      entry.rule.algorithm === rule.algorithm &&
      entry.rule.windowMs === rule.windowMs
        ? entry.state
        : undefined;
    const { decision, nextState } = pureDecide(carried, rule, n, now);
    if (entry !== undefined && entry.holdUntil > now) {
      const left = entry.holdUntil - now;
      const resetMs = decision.allowed
        ? pureDecide(carried, rule, 0, now).decision.resetMs
        : decision.resetMs;
      return {
        allowed: false,
        remaining: 0,
        retryAfterMs: Math.max(left, decision.allowed ? 0 : decision.retryAfterMs),
        resetMs: Math.max(left, resetMs),
        limit: decision.limit,
      };
    }
    if (record && n > 0 && decision.allowed) {
      if (entry === undefined) this.#entries.set(key, { state: nextState, rule, holdUntil: 0 });
      else {
        entry.state = nextState;
        entry.rule = rule;
      }
    }
    return decision;
  }

  hold(key: string, ms: number): void {
    const until = this.#now() + Math.ceil(ms);
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, { state: undefined, rule: undefined, holdUntil: until });
    else if (until > entry.holdUntil) entry.holdUntil = until;
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  keys(): string[] {
    const now = this.#now();
    const found: string[] = [];
    for (const [key, entry] of this.#entries) {
      const stateIdle =
        entry.state === undefined || entry.rule === undefined ? 0 : pureIdleAt(entry.state, entry.rule);
      if (Math.max(stateIdle, entry.holdUntil) > now) found.push(key);
    }
    return found.sort();
  }
}

const ruleArb: fc.Arbitrary<RateLimitRule> = fc
  .record({
    algorithm: fc.constantFrom(...ALGORITHMS),
    limit: fc.integer({ min: 1, max: 8 }),
    windowMs: fc.constantFrom(1, 7, 100, 1000),
    burst: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  })
  .map(({ burst, ...rule }) => (burst === undefined ? rule : { ...rule, burst }));

type Op =
  | { readonly op: 'consume' | 'status'; readonly key: number; readonly rule: number; readonly n: number }
  | { readonly op: 'hold'; readonly key: number; readonly ms: number }
  | { readonly op: 'reset' | 'keys'; readonly key: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'boundary'; readonly rule: number; readonly offset: number }
  | { readonly op: 'back'; readonly ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('consume' as const),
      key: fc.nat(2),
      rule: fc.nat(3),
      n: fc.nat(12),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      key: fc.nat(2),
      rule: fc.nat(3),
      n: fc.nat(12),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('hold' as const),
      key: fc.nat(2),
      ms: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0.1, max: 500, noNaN: true })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constantFrom('reset' as const, 'keys' as const), key: fc.nat(2) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(fc.nat(5), fc.nat(300), fc.nat(3000)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('boundary' as const),
      rule: fc.nat(3),
      offset: fc.integer({ min: -1, max: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('back' as const), ms: fc.oneof(fc.nat(5), fc.nat(2000)) }),
  },
);

function capacity(rule: RateLimitRule): number {
  return rule.algorithm === 'token_bucket' || rule.algorithm === 'gcra'
    ? (rule.burst ?? rule.limit)
    : rule.limit;
}

describe('the memory store against the pure models', () => {
  it('property: the same decisions and keys for any sequence of operations, rules and clock steps', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(opArb, { maxLength: 120, size: 'max' }),
        (rules, start, ops) => {
          const clock = new FakeClock({ now: 1_700_000_000_000 + start });
          const store = new MemoryRateLimitStore({ clock });
          const reference = new ReferenceStore(clock);
          for (const op of ops) {
            switch (op.op) {
              case 'consume':
              case 'status': {
                const rule = rules[op.rule % rules.length] as RateLimitRule;
                const n = op.n % (capacity(rule) + 1);
                const key = `k${String(op.key)}`;
                const record = op.op === 'consume';
                const ours = record ? store.consumeSync(key, rule, n) : store.statusSync(key, rule, n);
                expect(ours).toEqual(reference.decide(key, rule, n, record));
                break;
              }
              case 'hold':
                store.holdSync(`k${String(op.key)}`, op.ms);
                reference.hold(`k${String(op.key)}`, op.ms);
                break;
              case 'reset':
                store.resetSync(`k${String(op.key)}`);
                reference.reset(`k${String(op.key)}`);
                break;
              case 'keys':
                expect(store.keysSync(10)).toEqual(reference.keys());
                break;
              case 'advance':
                clock.advance(op.ms);
                break;
              case 'boundary': {
                // To the next window boundary of a rule (or 1 ms either side): where windows roll over.
                const { windowMs } = rules[op.rule % rules.length] as RateLimitRule;
                const now = Math.floor(clock.now());
                clock.advance(Math.max(0, windowMs - (now % windowMs) + op.offset));
                break;
              }
              case 'back':
                clock.setWallTime(clock.now() - op.ms);
                break;
            }
          }
          expect(store.keysSync(10)).toEqual(reference.keys());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: one in-place decision equals the pure decision, and writes exactly its next state', () => {
    fc.assert(
      fc.property(
        ruleArb,
        fc.option(fc.record({ t: fc.integer({ min: -3000, max: 6000 }), u: fc.nat(80_000), v: fc.nat(12) }), {
          nil: undefined,
        }),
        fc.nat(12),
        // `now` near the state's time (window boundaries within reach, before it too), or anywhere.
        fc.oneof(fc.integer({ min: -1100, max: 2100 }), fc.integer({ min: -3000, max: 20_000 })),
        (rule, raw, rawN, delta) => {
          // Up to 2 units beyond the capacity too (the store refuses those before deciding; the models answer).
          const n = rawN % (capacity(rule) + 3);
          const now = raw === undefined ? delta : raw.t + delta;
          // A state the pure model could hold: window starts aligned to the window, counts within range.
          const src =
            raw === undefined
              ? undefined
              : rule.algorithm === 'fixed_window' || rule.algorithm === 'sliding_window'
                ? {
                    t: raw.t - (raw.t % rule.windowMs),
                    u: raw.u % (rule.limit + 1),
                    v: raw.v % (rule.limit + 1),
                  }
                : { t: raw.t, u: raw.u % (capacity(rule) * rule.windowMs + 1), v: 0 };
          const state = src === undefined ? undefined : cellState(src, rule.algorithm);
          const pure = pureDecide(state, rule, n, now);
          const dst: ModelCell = { t: -1, u: -1, v: -1 };
          const ours = decideKind(cellKind(rule.algorithm), src, dst, rule, n, now);
          expect(ours).toEqual(pure.decision);
          expect(decideCell(src, undefined, rule, n, now)).toEqual(pure.decision);
          if (ours.allowed) {
            expect(dst).toEqual(cellOf(pure.nextState));
            expect(cellIdleAt(dst, rule)).toBe(pureIdleAt(pure.nextState, rule));
          } else {
            expect(dst).toEqual({ t: -1, u: -1, v: -1 });
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the same entry may be read and written by one decision (a state carried into its own next state)', () => {
    const rule: RateLimitRule = { algorithm: 'sliding_window', limit: 4, windowMs: 100 };
    const cell: ModelCell = { t: 1000, u: 3, v: 1 };
    const pure = decideSlidingWindow({ start: 1000, prev: 3, curr: 1 }, rule, 1, 1050);
    expect(decideCell(cell, cell, rule, 1, 1050)).toEqual(pure.decision);
    expect(pure.decision.allowed).toBe(true);
    expect(cell).toEqual({ t: 1000, u: 3, v: 2 });
  });
});
