/**
 * What operators see of a foundation's rate limiters and pools (`GET /api/protection/limits`, `/pools`, the
 * dashboard, `foundation protection limits|pools`): every limiter — the named rules of
 * `foundation.rateLimits.rules` and the policies' own rules — with its rule, the policies using it and, on
 * request, its keys with their state; every policy's pool with its counts.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { ProtectionRegistry } from './protect.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { NamedRateLimiters } from './rate-limit/named-limiters.js';
import type { RateLimitRule } from './rate-limit/types.js';
import type { PoolStatus } from './pool/pool-types.js';

/** Which limiter: a named rule, or a policy's own rule. */
export interface LimiterRef {
  readonly kind: 'rule' | 'policy';
  readonly name: string;
}

/** One key of a limiter and its state now. */
export interface LimiterKeyState {
  readonly key: string;
  /** Units admissible now. */
  readonly remaining: number;
  /** Ms until one unit is admitted (0 when some are). */
  readonly retryAfterMs: number;
  /** Ms until the full allowance is back. */
  readonly resetMs: number;
}

/** One limiter as operators see it. */
export interface LimiterListing extends LimiterRef {
  readonly rule: RateLimitRule;
  /** Where its state lives. */
  readonly store: 'memory' | 'redis' | 'postgres';
  /** False for a named rule removed from the config (its limiter keeps its last rule). */
  readonly configured: boolean;
  /** The policies whose rateLimit layer uses it, sorted. */
  readonly policies: string[];
  /** Its keys with state (at most the `keys` asked for), sorted; absent when not asked. */
  readonly keys?: LimiterKeyState[];
}

/** One policy's pool. */
export type PoolListing = { readonly policy: string } & Omit<PoolStatus, 'name'>;

/** The registry and the named limiters of one foundation. */
export interface LimitsSource {
  readonly registry: Pick<ProtectionRegistry, 'list' | 'rateLimiter'>;
  readonly rateLimits: Pick<NamedRateLimiters, 'list' | 'get' | 'storeKind'>;
}

/** Most keys listed per limiter. */
export const MAX_LISTED_KEYS = 1000;

function usersOf(source: LimitsSource): { rules: Map<string, string[]>; own: string[] } {
  const rules = new Map<string, string[]>();
  const own: string[] = [];
  for (const policy of source.registry.list()) {
    for (const layer of policy.layers) {
      if (layer.kind !== 'rateLimit') continue;
      if (layer.shared === true && typeof layer.limiter === 'string') {
        const users = rules.get(layer.limiter) ?? [];
        users.push(policy.name);
        rules.set(layer.limiter, users);
      } else own.push(policy.name);
    }
  }
  return { rules, own };
}

async function keysOf(limiter: RateLimiter, limit: number): Promise<LimiterKeyState[]> {
  const found = await limiter.keys(limit);
  return Promise.all(
    found.map(async ({ key, decision }) => ({
      key,
      remaining: decision.remaining,
      // The status is for 0 units; an exhausted key's wait is the wait for one.
      retryAfterMs:
        decision.remaining > 0
          ? decision.retryAfterMs
          : Math.max(decision.retryAfterMs, (await limiter.check(key, 1)).retryAfterMs),
      resetMs: decision.resetMs,
    })),
  );
}

/**
 * Every limiter: the named rules (and the policies naming them), then the policies' own rules, each sorted
 * by name. With `keys` > 0, each limiter's keys (at most `keys`, ≤ {@link MAX_LISTED_KEYS}) are read from its
 * store.
 */
export async function listLimiters(source: LimitsSource, keys = 0): Promise<LimiterListing[]> {
  const limit = Math.min(Math.max(0, Math.floor(keys)), MAX_LISTED_KEYS);
  const store = source.rateLimits.storeKind;
  const { rules, own } = usersOf(source);
  const listings: Array<Promise<LimiterListing>> = [];
  for (const named of source.rateLimits.list()) {
    listings.push(
      (async () => ({
        kind: 'rule' as const,
        name: named.name,
        rule: named.rule,
        store,
        configured: named.configured,
        policies: (rules.get(named.name) ?? []).sort(),
        ...(limit > 0 && named.configured
          ? { keys: await keysOf(source.rateLimits.get(named.name), limit) }
          : {}),
      }))(),
    );
  }
  for (const policy of own.sort()) {
    const limiter = source.registry.rateLimiter(policy);
    listings.push(
      (async () => ({
        kind: 'policy' as const,
        name: policy,
        rule: limiter.rule,
        store,
        configured: true,
        policies: [policy],
        ...(limit > 0 ? { keys: await keysOf(limiter, limit) } : {}),
      }))(),
    );
  }
  return Promise.all(listings);
}

/**
 * The limiter `ref` names.
 *
 * @throws FoundationError `FND_DATA_NOT_FOUND` when there is no such rule, or no such policy with an own rule.
 */
export function limiterOf(source: LimitsSource, ref: LimiterRef): RateLimiter {
  if (ref.kind === 'rule') {
    if (source.rateLimits.list().some((named) => named.name === ref.name && named.configured)) {
      return source.rateLimits.get(ref.name);
    }
  } else if (usersOf(source).own.includes(ref.name)) {
    return source.registry.rateLimiter(ref.name);
  }
  throw new FoundationError('FND_DATA_NOT_FOUND', {
    message: `No rate limiter of ${ref.kind} ${ref.name} (see GET /api/protection/limits)`,
    context: { [ref.kind]: ref.name },
  });
}

/** Every policy's pool with its counts, sorted by policy. */
export function listPools(source: Pick<LimitsSource, 'registry'>): PoolListing[] {
  const pools: PoolListing[] = [];
  for (const policy of source.registry.list()) {
    for (const layer of policy.layers) {
      if (layer.kind !== 'pool') continue;
      const counts: Record<string, unknown> = { ...layer };
      delete counts.kind;
      pools.push({ policy: policy.name, ...(counts as Omit<PoolStatus, 'name'>) });
    }
  }
  return pools;
}
