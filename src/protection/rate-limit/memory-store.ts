/**
 * The in-process rate-limit store: one `Map` entry per key holding a model state (token bucket, GCRA,
 * sliding or fixed window), forgotten lazily once it no longer weighs on any decision, and a bounded number
 * of keys: past `maxKeys`, a lapsed or the least recently used key goes (approximated by the CLOCK / second-chance
 * policy — an entry used since it was last passed over is moved to the back once instead of evicted — so a
 * hit costs one flag write, not a `Map` reinsertion). `consumeSync` / `statusSync` are the hot path:
 * synchronous, no promise, one `Map` lookup, and one allocation — the decision returned: the key's state is
 * mutable numbers on its entry, updated in place by memory-models.ts (the pure models' arithmetic, held to
 * their decisions by a property test). Time is `clock.now()` floored to whole ms; on the real `systemClock`
 * a decision reads the process-wide coarse system time instead (kernel/coarse-clock.ts: `Date.now()` at most
 * about once per ms or per 32 reads), which may lag the truth by about a millisecond — safe, as every model
 * treats an earlier `now` conservatively (less refill, the old window, a hold still in force: it may refuse
 * slightly longer, never admit more; a `retryAfterMs` may be over by the lag). An injected clock is read on
 * every decision. A clock that steps back never gives allowance back. No timer of its own. A hold
 * ({@link MemoryRateLimitStore.hold}) is one field of the key's entry (`holdUntil`), read with the precise
 * clock, so a decision reads one more field, nothing else.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import { type Clock, systemClock } from '../../kernel/clock.js';
import { type CoarseClock, coarseSystemTime } from '../../kernel/coarse-clock.js';
import {
  cellIdleAt,
  cellKind,
  decideCell,
  decideKind,
  type CellKind,
  type ModelCell,
} from './memory-models.js';
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

/** A key's entry: its model state as mutable numbers (`t`, `u`, `v`: see memory-models.ts), rule and hold. */
interface Entry extends ModelCell {
  /** Whether `t`, `u`, `v` hold a state (false for a key that has only a hold). */
  hasState: boolean;
  /** The rule the state was recorded under. */
  rule: RateLimitRule;
  /** Used since the eviction sweep last passed it. */
  used: boolean;
  /** Ms (floored clock time) until which every decision refuses; 0 when never held. */
  holdUntil: number;
}

/** The rule of an entry created by a hold (it has no state, so the rule is never applied). */
const HOLD_ONLY_RULE: RateLimitRule = Object.freeze({ algorithm: 'fixed_window', limit: 1, windowMs: 1 });

/** The ms from which an entry no longer weighs on any decision (its state lapsed and its hold over). */
function entryIdleAt(entry: Entry): number {
  const stateIdle = entry.hasState ? cellIdleAt(entry, entry.rule) : 0;
  return Math.max(stateIdle, entry.holdUntil);
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
  /** The coarse system time when the clock is the real `systemClock` (held in a field: no module-binding load per read). */
  readonly #coarse: CoarseClock | undefined;
  /** The last rule checked (a rule object is checked once while it keeps being used). */
  #checked: RateLimitRule | undefined;
  /** The capacity of {@link #checked} (the most units one decision may ask). */
  #capacity = 0;
  /** The algorithm of {@link #checked}, for the in-place models' `decideKind`. */
  #kind: CellKind = 0;
  #closed = false;

  /** @param options - clock and key bound. */
  constructor(options: MemoryRateLimitStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!positiveInteger(maxKeys)) {
      throw invalidPolicy('maxKeys must be a positive integer', { option: 'maxKeys', value: maxKeys });
    }
    this.#clock = options.clock ?? systemClock;
    this.#coarse = this.#clock === systemClock ? coarseSystemTime : undefined;
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
    const entry = this.#entries.get(key);
    // The common case, kept small enough to inline: a known key whose state was recorded under this very
    // rule (so it is checked, and the model and capacity are this rule's), units to take, no hold in force.
    if (
      entry !== undefined &&
      entry.rule === rule &&
      rule === this.#checked &&
      n > 0 &&
      n <= this.#capacity &&
      Math.floor(n) === n
    ) {
      const now = this.#now();
      if (entry.holdUntil <= now) {
        if (!entry.used) entry.used = true;
        return decideKind(this.#kind, entry, entry, rule, n, now);
      }
    }
    return this.#decide(key, entry, rule, n, true);
  }

  /** The decision {@link MemoryRateLimitStore.consumeSync} would give for `n` units (default 0), recording nothing. */
  statusSync(key: string, rule: RateLimitRule, n = 0): RateLimitDecision {
    return this.#decide(key, this.#entries.get(key), rule, n, false);
  }

  /** {@link MemoryRateLimitStore.consumeSync} as a promise (the store port). */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async consume(key: string, rule: RateLimitRule, n: number): Promise<RateLimitDecision> {
    return this.consumeSync(key, rule, n);
  }

  /** {@link MemoryRateLimitStore.statusSync} as a promise (the store port; `n` beyond the port: default 0). */
  // eslint-disable-next-line @typescript-eslint/require-await -- the port is async; a throw becomes a rejection
  async status(key: string, rule: RateLimitRule, n = 0): Promise<RateLimitDecision> {
    return this.statusSync(key, rule, n);
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
    this.#entries.set(key, {
      t: 0,
      u: 0,
      v: 0,
      hasState: false,
      rule: HOLD_ONLY_RULE,
      used: false,
      holdUntil: until,
    });
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

  /** The decision time: the coarse system time on the real system clock, else the clock's, in whole ms. */
  #now(): number {
    const coarse = this.#coarse;
    return coarse !== undefined ? coarse.now() : Math.floor(this.#clock.now());
  }

  /** A decision on `key`, whose entry (`undefined` when none) the caller looked up. */
  #decide(
    key: string,
    entry: Entry | undefined,
    rule: RateLimitRule,
    n: number,
    record: boolean,
  ): RateLimitDecision {
    if (rule !== this.#checked) {
      checkRateLimitRule(rule);
      this.#checked = rule;
      this.#capacity = ruleCapacity(rule);
      this.#kind = cellKind(rule.algorithm);
    }
    // A key already held was checked when it was stored.
    if (entry === undefined) checkRateLimitKey(key);
    // `n` a safe integer from 0 to the capacity (≤ 2^50): NaN and non-numbers fail a comparison or the floor.
    if (!(n >= 0 && n <= this.#capacity && Math.floor(n) === n)) {
      throw invalidPolicy(
        `Units must be an integer from 0 to the rule's capacity (${String(this.#capacity)})`,
        {
          option: 'n',
          value: typeof n === 'number' ? n : typeof n,
          capacity: this.#capacity,
        },
      );
    }
    const now = this.#now();
    const write = record && n > 0;
    const kind = this.#kind;
    if (entry === undefined) {
      if (!write) return decideKind(kind, undefined, undefined, rule, n, now);
      const created: Entry = { t: 0, u: 0, v: 0, hasState: true, rule, used: false, holdUntil: 0 };
      const decision = decideKind(kind, undefined, created, rule, n, now);
      if (decision.allowed) {
        if (this.#entries.size >= this.#maxKeys) this.#evictOne(now);
        this.#entries.set(key, created);
      }
      return decision;
    }
    if (!entry.used) entry.used = true;
    // A lapsed state needs no special case: every model treats any elapsed time exactly.
    const src =
      entry.hasState &&
      (entry.rule === rule ||
        (entry.rule.algorithm === rule.algorithm && entry.rule.windowMs === rule.windowMs))
        ? entry
        : undefined;
    if (entry.holdUntil > now) return held(src, rule, n, now, entry.holdUntil);
    if (!write) return decideKind(kind, src, undefined, rule, n, now);
    // The models read all of `src` before writing `dst`: the same entry may be both.
    const decision = decideKind(kind, src, entry, rule, n, now);
    // An entry whose rule is this one already has state (a hold-only entry's rule is private).
    if (decision.allowed && entry.rule !== rule) {
      entry.hasState = true;
      entry.rule = rule;
    }
    return decision;
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
  src: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
  holdUntil: number,
): RateLimitDecision {
  const base = decideCell(src, undefined, rule, n, now);
  const left = holdUntil - now;
  const resetMs = base.allowed ? decideCell(src, undefined, rule, 0, now).resetMs : base.resetMs;
  return {
    allowed: false,
    remaining: 0,
    retryAfterMs: Math.max(left, base.allowed ? 0 : base.retryAfterMs),
    resetMs: Math.max(left, resetMs),
    limit: base.limit,
  };
}
