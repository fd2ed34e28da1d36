/**
 * The in-process rate-limit store: one `Map` entry per key holding a model state (token bucket, GCRA,
 * sliding or fixed window), forgotten lazily once it no longer weighs on any decision, and a bounded number
 * of keys: past `maxKeys`, a lapsed or the least recently used key goes (approximated by the CLOCK / second-chance
 * policy — an entry used since it was last passed over is moved to the back once instead of evicted — so a
 * hit costs one flag write, not a `Map` reinsertion). `consumeSync` / `statusSync` are the hot path:
 * synchronous, no promise, one `Map` lookup. Time is `clock.now()` floored to whole ms; a clock that steps
 * back never gives allowance back. No timer. A hold ({@link MemoryRateLimitStore.hold}) is one field of the
 * key's entry (`holdUntil`), so a decision reads one more field, nothing else.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import { type Clock, systemClock } from '../../kernel/clock.js';
import { decideFixedWindow, fixedWindowIdleAt, type FixedWindowState } from './fixed-window.js';
import { decideGcra, gcraIdleAt, type GcraState } from './gcra.js';
import { decideSlidingWindow, slidingWindowIdleAt, type SlidingWindowState } from './sliding-window.js';
import { decideTokenBucket, tokenBucketIdleAt, type TokenBucketState } from './token-bucket.js';
import {
  checkRateLimitHold,
  checkRateLimitKey,
  checkRateLimitListing,
  checkRateLimitRule,
  positiveInteger,
  ruleCapacity,
} from './checks.js';
import type { RateLimitDecision, RateLimitRule, RateLimitStore } from './types.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Time source (default the system clock). */
  readonly clock?: Clock;
  /** Most keys kept at once (default 100 000); past it the least recently used go. */
  readonly maxKeys?: number;
}

type AnyState = TokenBucketState | GcraState | SlidingWindowState | FixedWindowState;

interface Entry {
  /** The model state; undefined for a key that has only a hold. */
  state: AnyState | undefined;
  rule: RateLimitRule;
  /** Used since the eviction sweep last passed it. */
  used: boolean;
  /** Ms (floored clock time) until which every decision refuses; 0 when never held. */
  holdUntil: number;
}

/** The rule of an entry created by a hold (its state is undefined, so the rule is never applied). */
const HOLD_ONLY_RULE: RateLimitRule = Object.freeze({ algorithm: 'fixed_window', limit: 1, windowMs: 1 });

/** The ms from which an entry no longer weighs on any decision (its state lapsed and its hold over). */
function entryIdleAt(entry: Entry): number {
  const stateIdle = entry.state === undefined ? 0 : idleAt(entry.state, entry.rule);
  return Math.max(stateIdle, entry.holdUntil);
}

/** One decision of `rule`'s algorithm and the ms from which the new state stops mattering. */
function decide(
  state: AnyState | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): { readonly decision: RateLimitDecision; readonly nextState: AnyState } {
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

function idleAt(state: AnyState, rule: RateLimitRule): number {
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

/**
 * Rate-limit state in this process. A key's state carries over a rule change (a hot reload) when the
 * algorithm and `windowMs` stay the same (a new limit or burst applies to the units already taken);
 * otherwise the key starts afresh under the new rule. Rules are treated as immutable once used.
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore({ maxKeys: 10_000 });
 * const rule = { algorithm: 'gcra', limit: 100, windowMs: 60_000 } as const;
 * const d = store.consumeSync('user:42', rule, 1); // { allowed, remaining, retryAfterMs, resetMs, limit }
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** The store kind. */
  readonly kind = 'memory' as const;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();
  /** The last rule checked (a rule object is checked once while it keeps being used). */
  #checked: RateLimitRule | undefined;
  #closed = false;

  /** @param options - clock and key bound. */
  constructor(options: MemoryRateLimitStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!positiveInteger(maxKeys)) {
      throw invalidPolicy('maxKeys must be a positive integer', { option: 'maxKeys', value: maxKeys });
    }
    this.#clock = options.clock ?? systemClock;
    this.#maxKeys = maxKeys;
  }

  /** Keys currently held (including ones whose state has lapsed and not been swept yet). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Admits `n` units for `key` under `rule` when they fit (recording them), else refuses (recording
   * nothing). Synchronous. Throws `FND_PROTECT_INVALID_POLICY` for a bad key, rule or `n` (an integer from 0
   * to the rule's capacity).
   */
  consumeSync(key: string, rule: RateLimitRule, n: number): RateLimitDecision {
    return this.#decide(key, rule, n, true);
  }

  /** The decision {@link MemoryRateLimitStore.consumeSync} would give for `n` units (default 0), recording nothing. */
  statusSync(key: string, rule: RateLimitRule, n = 0): RateLimitDecision {
    return this.#decide(key, rule, n, false);
  }

  /** {@link MemoryRateLimitStore.consumeSync} as a promise (the store port). */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async consume(key: string, rule: RateLimitRule, n: number): Promise<RateLimitDecision> {
    return this.#decide(key, rule, n, true);
  }

  /** {@link MemoryRateLimitStore.statusSync} as a promise (the store port; `n` beyond the port: default 0). */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async status(key: string, rule: RateLimitRule, n = 0): Promise<RateLimitDecision> {
    return this.#decide(key, rule, n, false);
  }

  /** {@link MemoryRateLimitStore.hold} synchronously. */
  holdSync(key: string, ms: number): void {
    checkRateLimitKey(key);
    checkRateLimitHold(ms);
    const now = Math.floor(this.#clock.now());
    const until = now + Math.ceil(ms);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      entry.used = true;
      if (until > entry.holdUntil) entry.holdUntil = until;
      return;
    }
    if (this.#entries.size >= this.#maxKeys) this.#evictOne(now);
    this.#entries.set(key, { state: undefined, rule: HOLD_ONLY_RULE, used: false, holdUntil: until });
  }

  /**
   * Holds `key` for `ms` (see the port): every decision refuses until then. A held key counts towards
   * `maxKeys` and may be evicted like any other under pressure.
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async hold(key: string, ms: number): Promise<void> {
    this.holdSync(key, ms);
  }

  /** {@link MemoryRateLimitStore.keys} synchronously. */
  keysSync(limit: number, prefix = ''): string[] {
    checkRateLimitListing(limit, prefix);
    const now = Math.floor(this.#clock.now());
    const found: string[] = [];
    for (const [key, entry] of this.#entries) {
      if (key.startsWith(prefix) && entryIdleAt(entry) > now) found.push(key);
    }
    found.sort();
    return found.length > limit ? found.slice(0, limit) : found;
  }

  /** Keys with state or a hold that still weighs on decisions, starting with `prefix`, sorted, at most `limit`. */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async keys(limit: number, prefix = ''): Promise<string[]> {
    return this.keysSync(limit, prefix);
  }

  /** Forgets `key` synchronously. */
  resetSync(key: string): void {
    checkRateLimitKey(key);
    this.#entries.delete(key);
  }

  /** Forgets `key`: its full allowance is back. */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async reset(key: string): Promise<void> {
    this.resetSync(key);
  }

  /** Drops every key; later calls still work (on an empty store). */
  close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    return Promise.resolve();
  }

  /** Whether {@link MemoryRateLimitStore.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #decide(key: string, rule: RateLimitRule, n: number, record: boolean): RateLimitDecision {
    if (rule !== this.#checked) {
      checkRateLimitRule(rule);
      this.#checked = rule;
    }
    // A key already held was checked when it was stored.
    const entry = this.#entries.get(key);
    if (entry === undefined) checkRateLimitKey(key);
    if (!Number.isSafeInteger(n) || n < 0 || n > ruleCapacity(rule)) {
      throw invalidPolicy(
        `Units must be an integer from 0 to the rule's capacity (${String(ruleCapacity(rule))})`,
        {
          option: 'n',
          value: typeof n === 'number' ? n : typeof n,
          capacity: ruleCapacity(rule),
        },
      );
    }
    const now = Math.floor(this.#clock.now());
    let state: AnyState | undefined;
    if (entry !== undefined) {
      entry.used = true;
      // A lapsed state needs no special case: every model treats any elapsed time exactly.
      const same =
        entry.rule === rule ||
        (entry.rule.algorithm === rule.algorithm && entry.rule.windowMs === rule.windowMs);
      if (same) state = entry.state;
    }
    const result = decide(state, rule, n, now);
    if (entry !== undefined && entry.holdUntil > now) return held(result.decision, state, rule, now, entry);
    if (record && n > 0 && result.decision.allowed) {
      if (entry !== undefined) {
        entry.state = result.nextState;
        entry.rule = rule;
      } else {
        if (this.#entries.size >= this.#maxKeys) this.#evictOne(now);
        this.#entries.set(key, { state: result.nextState, rule, used: false, holdUntil: 0 });
      }
    }
    return result.decision;
  }

  /** Evicts one key: the first lapsed or not-recently-used one in insertion order (CLOCK). */
  #evictOne(now: number): void {
    const entries = this.#entries;
    for (;;) {
      const next = entries.entries().next();
      if (next.done === true) return;
      const [key, entry] = next.value;
      entries.delete(key);
      if (!entry.used || entryIdleAt(entry) <= now) return;
      entry.used = false;
      entries.set(key, entry);
    }
  }
}

/**
 * A decision on a held key: refused, nothing recorded, `remaining` 0; the wait is the larger of the hold's
 * remainder and the algorithm's own (for the units asked), the reset the larger of the hold's remainder and
 * the time until the state (without these units) is full again.
 */
function held(
  base: RateLimitDecision,
  state: AnyState | undefined,
  rule: RateLimitRule,
  now: number,
  entry: Entry,
): RateLimitDecision {
  const left = entry.holdUntil - now;
  const resetMs = base.allowed ? decide(state, rule, 0, now).decision.resetMs : base.resetMs;
  return {
    allowed: false,
    remaining: 0,
    retryAfterMs: Math.max(left, base.allowed ? 0 : base.retryAfterMs),
    resetMs: Math.max(left, resetMs),
    limit: base.limit,
  };
}
