/**
 * The rate limiter's shared types: rules, decisions and the store port that memory, Redis and PostgreSQL
 * implement (each decision atomic: one Lua script on Redis, one statement on PostgreSQL). Times in ms.
 *
 * @module
 */

/** Longest hold ({@link RateLimitStore.hold}): 24 hours, in ms. */
export const MAX_RATE_LIMIT_HOLD_MS = 86_400_000;

/** Most keys one {@link RateLimitStore.keys} call lists. */
export const MAX_RATE_LIMIT_KEYS_LISTED = 1000;

/** The algorithms. */
export type RateLimitAlgorithm = 'token_bucket' | 'gcra' | 'sliding_window' | 'fixed_window';

/** A rule: `limit` units per `windowMs` (token bucket and GCRA: a steady rate of limit/windowMs with `burst`). */
export interface RateLimitRule {
  /** How units are counted: `token_bucket`, `gcra`, `sliding_window` or `fixed_window`. */
  readonly algorithm: RateLimitAlgorithm;
  /** Units admitted per window (steady rate = limit / windowMs). Positive integer. */
  readonly limit: number;
  /** The window the limit applies to, ms. Positive integer. */
  readonly windowMs: number;
  /** Token bucket capacity / GCRA burst tolerance, in units. Default `limit`. */
  readonly burst?: number;
}

/** The answer to one decision. */
export interface RateLimitDecision {
  /** Whether the units were admitted (and recorded); a refusal records nothing. */
  readonly allowed: boolean;
  /** Units still admissible now (after this decision). */
  readonly remaining: number;
  /** When refused: ms until `n` units would be admitted (exact for token bucket and GCRA). 0 when allowed. */
  readonly retryAfterMs: number;
  /** Ms until the key is back to its full allowance. */
  readonly resetMs: number;
  /** The rule's `limit`: units admitted per window. */
  readonly limit: number;
}

/** Where limiter state lives. Every method is one atomic decision (no read-then-write race across processes). */
export interface RateLimitStore {
  /** Which backend keeps the state: `memory` (this process), `redis` or `postgres` (shared by processes). */
  readonly kind: 'memory' | 'redis' | 'postgres';
  /** Admits `n` units for `key` under `rule` when they fit (recording them), else refuses (recording nothing). */
  consume(key: string, rule: RateLimitRule, n: number): Promise<RateLimitDecision>;
  /** The decision `consume(key, rule, 0)` would give, recording nothing. */
  status(key: string, rule: RateLimitRule): Promise<RateLimitDecision>;
  /** Forgets the key's state and its hold: its full allowance is back. */
  reset(key: string): Promise<void>;
  /**
   * Holds `key` for `ms` (429-style feedback from a dependency, e.g. its `Retry-After`): from now until
   * now + `ms` every decision on the key, under any rule, refuses and records nothing, with `remaining: 0`
   * and `retryAfterMs` at least the hold's remainder (the larger of it and the algorithm's own wait); `status`
   * shows the same. Holds only extend: a shorter hold never shortens a longer one; `reset` clears it. `ms`:
   * a finite positive number ≤ {@link MAX_RATE_LIMIT_HOLD_MS}, else `FND_PROTECT_INVALID_POLICY` (option `ms`).
   */
  hold(key: string, ms: number): Promise<void>;
  /**
   * Keys that currently hold state or a hold (not lapsed), starting with `prefix` (default all), sorted
   * ascending (UTF-16 code units), at most `limit` (an integer from 1 to {@link MAX_RATE_LIMIT_KEYS_LISTED}) —
   * for operators. On Redis, when more keys match than `limit`, which ones come back follows its SCAN order.
   */
  keys(limit: number, prefix?: string): Promise<string[]>;
  /**
   * Releases what the store owns (its Redis connection; the memory store drops its keys; the PostgreSQL
   * store leaves the caller's storage open).
   */
  close(): Promise<void>;
}
