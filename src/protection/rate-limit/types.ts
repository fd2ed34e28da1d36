/**
 * The rate limiter's shared types: rules, decisions and the store port that memory, Redis and PostgreSQL
 * implement (each decision atomic: one Lua script on Redis, one statement on PostgreSQL). Times in ms.
 *
 * @module
 */

/** The algorithms. */
export type RateLimitAlgorithm = 'token_bucket' | 'gcra' | 'sliding_window' | 'fixed_window';

/** A rule: `limit` units per `windowMs` (token bucket and GCRA: a steady rate of limit/windowMs with `burst`). */
export interface RateLimitRule {
  readonly algorithm: RateLimitAlgorithm;
  /** Units admitted per window (steady rate = limit / windowMs). Positive integer. */
  readonly limit: number;
  readonly windowMs: number;
  /** Token bucket capacity / GCRA burst tolerance, in units. Default `limit`. */
  readonly burst?: number;
}

/** The answer to one decision. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Units still admissible now (after this decision). */
  readonly remaining: number;
  /** When refused: ms until `n` units would be admitted (exact for token bucket and GCRA). 0 when allowed. */
  readonly retryAfterMs: number;
  /** Ms until the key is back to its full allowance. */
  readonly resetMs: number;
  readonly limit: number;
}

/** Where limiter state lives. Every method is one atomic decision (no read-then-write race across processes). */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis' | 'postgres';
  /** Admits `n` units for `key` under `rule` when they fit (recording them), else refuses (recording nothing). */
  consume(key: string, rule: RateLimitRule, n: number): Promise<RateLimitDecision>;
  /** The decision `consume(key, rule, 0)` would give, recording nothing. */
  status(key: string, rule: RateLimitRule): Promise<RateLimitDecision>;
  /** Forgets the key's state: its full allowance is back. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}
