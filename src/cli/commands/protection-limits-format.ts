/**
 * Terminal rendering for `foundation protection limits|pools|reset-limit`: the limiters table of
 * `GET /api/protection/limits` (and the table of their keys), the pools table of `GET /api/protection/pools`
 * and the one-line result of `POST /api/protection/limits/reset` — read defensively from the control bus's JSON
 * (unknown shapes print as `-`). Keys come from callers: they are printed escaped and shortened.
 *
 * @module
 */
import { list, record, text, type Json } from '../json-read.js';
import { table } from '../ops-format.js';
import { ruleText, shortDuration } from './protection-format.js';

/** Longest key printed in full; longer ones are cut with `…`. */
export const KEY_SHOWN_CHARS = 60;

/**
 * A caller's key for a terminal: as is when it is plain text, else JSON-quoted with every control, format or
 * unpaired surrogate character escaped as `\uXXXX` (no terminal escape sequence or bidi override gets
 * through); cut to {@link KEY_SHOWN_CHARS} characters with `…`.
 */
export function keyText(key: unknown): string {
  if (typeof key !== 'string') return '-';
  const cut = key.length > KEY_SHOWN_CHARS ? `${key.slice(0, KEY_SHOWN_CHARS)}…` : key;
  if (cut !== '' && !/[\p{C}\s"\\]/u.test(cut)) return cut;
  const escaped = cut
    .replace(/["\\]/g, (c) => `\\${c}`)
    .replace(/[\p{C}\s]/gu, (c) =>
      c === ' ' ? ' ' : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
    );
  return `"${escaped}"`;
}

/** `rule:api_calls` or `policy:api`. */
export function limiterName(limiter: Json): string {
  return `${text(limiter.kind)}:${text(limiter.name)}`;
}

/** The retry-after of a key: `-` when a unit is admissible now. */
function retryText(ms: unknown): string {
  return ms === 0 ? '-' : shortDuration(ms);
}

/** The KEYS cell: how many keys were listed, `N+` when the listing was cut at `asked`, `-` when not asked. */
function keyCount(limiter: Json, asked: number): string {
  if (!Array.isArray(limiter.keys)) return '-';
  const count = limiter.keys.length;
  return count >= asked && asked > 0 ? `${String(count)}+` : String(count);
}

/**
 * The limiters table of `GET /api/protection/limits?keys=<asked>` (LIMITER, RULE, STORE, USED BY, KEYS), then
 * — when some limiter has keys — a blank line and the keys table (LIMITER, KEY, REMAINING, RETRY AFTER,
 * FULL IN), each limiter's keys as listed (sorted by key).
 */
export function formatLimits(body: unknown, asked: number): string[] {
  const limiters = list(record(body).limiters);
  if (limiters.length === 0) {
    return ['No rate limiters (configure foundation.rateLimits.rules or a policy with rateLimit).'];
  }
  const rows = limiters.map((limiter) => {
    const users = Array.isArray(limiter.policies) ? limiter.policies.map(text) : [];
    return [
      limiterName(limiter),
      `${ruleText(limiter.rule)}${limiter.configured === false ? ' (removed from config)' : ''}`,
      text(limiter.store),
      users.length === 0 ? '-' : users.join(','),
      keyCount(limiter, asked),
    ];
  });
  const lines = table(['LIMITER', 'RULE', 'STORE', 'USED BY', 'KEYS'], rows);
  const keyRows = limiters.flatMap((limiter) =>
    list(limiter.keys).map((state) => [
      limiterName(limiter),
      keyText(state.key),
      text(state.remaining),
      retryText(state.retryAfterMs),
      retryText(state.resetMs),
    ]),
  );
  if (keyRows.length === 0) return lines;
  return [...lines, '', ...table(['LIMITER', 'KEY', 'REMAINING', 'RETRY AFTER', 'FULL IN'], keyRows)];
}

/** The failures cell of a pool: `-` without any, else `N create, M destroy`. */
function poolFailures(pool: Json): string {
  const { createFailures, destroyFailures } = pool;
  if (createFailures === 0 && destroyFailures === 0) return '-';
  return `${text(createFailures)} create, ${text(destroyFailures)} destroy`;
}

/**
 * The pools table of `GET /api/protection/pools`: POLICY, SIZE (`inUse/size of max`, `+overflow` when the
 * pool may overflow), IDLE, WAITING, CREATING, FAILURES (consecutive failed creations, failed destroys).
 */
export function formatPools(body: unknown): string[] {
  const pools = list(record(body).pools);
  if (pools.length === 0) return ['No pools (configure a policy with pool).'];
  const rows = pools.map((pool) => {
    const overflow =
      typeof pool.maxOverflow === 'number' && pool.maxOverflow > 0 ? `+${pool.maxOverflow}` : '';
    return [
      `${text(pool.policy)}${pool.drained === true ? ' (drained)' : ''}`,
      `${text(pool.inUse)}/${text(pool.size)} of ${text(pool.max)}${overflow}`,
      text(pool.idle),
      text(pool.waiting),
      text(pool.creating),
      poolFailures(pool),
    ];
  });
  return table(['POLICY', 'SIZE', 'IDLE', 'WAITING', 'CREATING', 'FAILURES'], rows);
}

/** The one-line result of `POST /api/protection/limits/reset`. */
export function formatLimitReset(body: unknown): string[] {
  const answer = record(body);
  const state = record(answer.state);
  return [`reset ${limiterName(answer)} key ${keyText(answer.key)}: ${text(state.remaining)} remaining`];
}
