/**
 * The checks every rate-limit store runs on its input (memory, Redis, PostgreSQL alike): the key, the rule
 * and the units. Each refusal is `FND_PROTECT_INVALID_POLICY` naming the option, never the key itself.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import {
  MAX_RATE_LIMIT_HOLD_MS,
  MAX_RATE_LIMIT_KEYS_LISTED,
  type RateLimitAlgorithm,
  type RateLimitRule,
} from './types.js';

const ALGORITHMS: ReadonlySet<string> = new Set<RateLimitAlgorithm>([
  'token_bucket',
  'gcra',
  'sliding_window',
  'fixed_window',
]);

/** Longest key, in UTF-16 code units. */
export const MAX_RATE_LIMIT_KEY_LENGTH = 512;

/**
 * Largest `max(limit, burst) × windowMs`: the stores compute in integer units of 1/limit ms, which must stay
 * exact in a double (Lua) and a bigint (PostgreSQL).
 */
export const MAX_RATE_LIMIT_SPAN = 2 ** 50;

/**
 * The capacity a rule gives: `burst` (default `limit`) for token bucket and GCRA, `limit` for the windows.
 * A rule is assumed valid ({@link checkRateLimitCall}).
 */
export function ruleCapacity(rule: RateLimitRule): number {
  return rule.algorithm === 'token_bucket' || rule.algorithm === 'gcra'
    ? (rule.burst ?? rule.limit)
    : rule.limit;
}

/** Whether `value` is a safe integer ≥ 1. */
export function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/**
 * Checks one store call: a non-empty key of at most {@link MAX_RATE_LIMIT_KEY_LENGTH} characters without
 * NUL, a valid rule (known algorithm; `limit`, `windowMs`, `burst` positive safe integers within
 * {@link MAX_RATE_LIMIT_SPAN}) and `n` an integer from 0 to the rule's capacity (more could never be
 * admitted), as the memory store checks. Throws `FND_PROTECT_INVALID_POLICY` naming the offending option
 * (never the key itself).
 */
export function checkRateLimitKey(key: unknown): asserts key is string {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_RATE_LIMIT_KEY_LENGTH ||
    key.includes('\0')
  ) {
    throw invalidPolicy(
      `A rate limit key must be a non-empty string of at most ${String(MAX_RATE_LIMIT_KEY_LENGTH)} characters without NUL`,
      { option: 'key', type: typeof key, length: typeof key === 'string' ? key.length : undefined },
    );
  }
}

/** Checks a rule: a known algorithm; `limit`, `windowMs`, `burst` positive safe integers within the span. */
export function checkRateLimitRule(rule: unknown): asserts rule is RateLimitRule {
  if (typeof rule !== 'object' || rule === null) {
    throw invalidPolicy('A rate limit rule must be an object', { option: 'rule', type: typeof rule });
  }
  const r = rule as Partial<Record<keyof RateLimitRule, unknown>>;
  if (typeof r.algorithm !== 'string' || !ALGORITHMS.has(r.algorithm)) {
    throw invalidPolicy('Unknown rate limit algorithm', {
      option: 'algorithm',
      allowed: [...ALGORITHMS],
    });
  }
  for (const option of ['limit', 'windowMs'] as const) {
    if (!positiveInteger(r[option])) {
      throw invalidPolicy(`Rate limit ${option} must be a positive integer`, { option, value: r[option] });
    }
  }
  if (r.burst !== undefined && !positiveInteger(r.burst)) {
    throw invalidPolicy('Rate limit burst must be a positive integer', { option: 'burst', value: r.burst });
  }
  const valid = rule as RateLimitRule;
  const capacity = ruleCapacity(valid);
  if (Math.max(valid.limit, capacity) * valid.windowMs > MAX_RATE_LIMIT_SPAN) {
    throw invalidPolicy('Rate limit too large: max(limit, burst) × windowMs must not exceed 2^50', {
      option: 'windowMs',
      limit: valid.limit,
      burst: valid.burst,
      windowMs: valid.windowMs,
    });
  }
}

/** Checks units: an integer from 0 to the rule's capacity (more could never be admitted). */
export function checkRateLimitUnits(rule: RateLimitRule, n: unknown): asserts n is number {
  const capacity = ruleCapacity(rule);
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > capacity) {
    throw invalidPolicy(`Units must be an integer from 0 to the rule's capacity (${String(capacity)})`, {
      option: 'n',
      value: typeof n === 'number' ? n : typeof n,
      capacity,
    });
  }
}

/** Checks one store call: {@link checkRateLimitKey}, {@link checkRateLimitRule}, {@link checkRateLimitUnits}. */
export function checkRateLimitCall(key: unknown, rule: unknown, n: unknown): void {
  checkRateLimitKey(key);
  checkRateLimitRule(rule);
  checkRateLimitUnits(rule, n);
}

/** Checks a hold's length: a finite positive number ≤ {@link MAX_RATE_LIMIT_HOLD_MS} (option `ms`). */
export function checkRateLimitHold(ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_RATE_LIMIT_HOLD_MS) {
    throw invalidPolicy(
      `A rate limit hold must be a finite number of ms > 0 and ≤ ${String(MAX_RATE_LIMIT_HOLD_MS)}`,
      { option: 'ms', value: typeof ms === 'number' ? ms : typeof ms },
    );
  }
}

/**
 * Checks a key listing: `limit` an integer from 1 to {@link MAX_RATE_LIMIT_KEYS_LISTED} (option `limit`),
 * `prefix` a string of at most {@link MAX_RATE_LIMIT_KEY_LENGTH} characters without NUL (option `prefix`).
 */
export function checkRateLimitListing(limit: unknown, prefix: unknown): asserts limit is number {
  if (!positiveInteger(limit) || limit > MAX_RATE_LIMIT_KEYS_LISTED) {
    throw invalidPolicy(
      `A key listing limit must be an integer from 1 to ${String(MAX_RATE_LIMIT_KEYS_LISTED)}`,
      { option: 'limit', value: typeof limit === 'number' ? limit : typeof limit },
    );
  }
  if (typeof prefix !== 'string' || prefix.length > MAX_RATE_LIMIT_KEY_LENGTH || prefix.includes('\0')) {
    throw invalidPolicy(
      `A key prefix must be a string of at most ${String(MAX_RATE_LIMIT_KEY_LENGTH)} characters without NUL`,
      { option: 'prefix', type: typeof prefix },
    );
  }
}
