/**
 * Retention policies, pure: validation (`FND_EVENTS_INVALID_POLICY`), the rule each policy compiles to
 * (the events it governs), and when whole time partitions may be dropped. No I/O.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { isEventType } from '../model/validate-event.js';
import type { RetentionPolicy, RetentionRule, TypePattern } from './types.js';

/** Most policies in one set. */
export const MAX_RETENTION_POLICIES = 100;

const POLICY_KEYS: ReadonlySet<string> = new Set(['types', 'maxAgeMs', 'maxCount']);

function invalid(field: string, reason: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_POLICY', {
    message: `Invalid retention policy: ${field} ${reason}`,
    context: { field, reason },
  });
}

/** Parses a type pattern (`order.created`, `order.*`, `*`), or `undefined` when it is not one. */
export function parseTypePattern(value: unknown): TypePattern | undefined {
  if (value === '*') return { kind: 'all' };
  if (typeof value !== 'string') return undefined;
  if (value.endsWith('.*')) {
    const base = value.slice(0, -2);
    return isEventType(base) ? { kind: 'prefix', prefix: `${base}.` } : undefined;
  }
  return isEventType(value) ? { kind: 'exact', type: value } : undefined;
}

function positiveInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(field, 'must be a positive integer');
  }
  return value;
}

/**
 * Validates a policy set: an array of at most {@link MAX_RETENTION_POLICIES} objects with only the keys
 * `types` (a type pattern, each pattern at most once), `maxAgeMs` and `maxCount` (positive integers, at
 * least one of them). Throws `FND_EVENTS_INVALID_POLICY` (context: field, reason) on anything else.
 */
export function validatePolicies(input: unknown): readonly RetentionPolicy[] {
  if (!Array.isArray(input)) throw invalid('policies', 'must be an array');
  if (input.length > MAX_RETENTION_POLICIES) {
    throw invalid('policies', `must hold at most ${MAX_RETENTION_POLICIES} policies`);
  }
  const seen = new Set<string>();
  const out: RetentionPolicy[] = [];
  input.forEach((raw: unknown, i) => {
    const field = `policies[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalid(field, 'must be an object');
    const obj = raw as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!POLICY_KEYS.has(key)) throw invalid(`${field}.${key}`, 'is not a known field');
    }
    const types = obj.types;
    if (parseTypePattern(types) === undefined) {
      throw invalid(`${field}.types`, 'must be an event type, a prefix pattern like order.*, or *');
    }
    const pattern = types as string;
    if (seen.has(pattern)) throw invalid(`${field}.types`, `repeats the pattern ${pattern}`);
    seen.add(pattern);
    const maxAgeMs = positiveInteger(obj.maxAgeMs, `${field}.maxAgeMs`);
    const maxCount = positiveInteger(obj.maxCount, `${field}.maxCount`);
    if (maxAgeMs === undefined && maxCount === undefined) {
      throw invalid(field, 'needs maxAgeMs or maxCount');
    }
    out.push(
      Object.freeze({
        types: pattern,
        ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
        ...(maxCount === undefined ? {} : { maxCount }),
      }),
    );
  });
  return Object.freeze(out);
}

/** Specificity of a pattern: exact types first, then longer prefixes, `*` last. */
function rank(pattern: TypePattern): number {
  if (pattern.kind === 'exact') return Number.MAX_SAFE_INTEGER;
  return pattern.kind === 'prefix' ? pattern.prefix.length : -1;
}

/** Whether `pattern` matches `type`. */
export function matchesPattern(pattern: TypePattern, type: string): boolean {
  if (pattern.kind === 'all') return true;
  return pattern.kind === 'exact' ? type === pattern.type : type.startsWith(pattern.prefix);
}

/** Whether every type `inner` matches is also matched by `outer` (`inner` is within `outer`). */
function within(inner: TypePattern, outer: TypePattern): boolean {
  if (outer.kind === 'all') return true;
  if (inner.kind === 'all') return false;
  const text = inner.kind === 'exact' ? inner.type : inner.prefix;
  return outer.kind === 'prefix'
    ? text.startsWith(outer.prefix)
    : inner.kind === 'exact' && text === outer.type;
}

/**
 * Compiles validated policies into rules: each policy governs the events its pattern matches minus those a
 * more specific policy's pattern matches (two patterns either nest or are disjoint, so "more specific" is
 * well defined).
 */
export function compileRules(policies: readonly RetentionPolicy[]): readonly RetentionRule[] {
  const parsed = policies.map((policy) => ({
    policy,
    pattern: parseTypePattern(policy.types) as TypePattern,
  }));
  return parsed.map(({ policy, pattern }) =>
    Object.freeze({
      policy,
      pattern,
      excluded: parsed
        .filter((o) => o.policy !== policy && rank(o.pattern) > rank(pattern) && within(o.pattern, pattern))
        .map((o) => o.pattern),
    }),
  );
}

/** Whether `rule` governs an event of `type`. */
export function governs(rule: RetentionRule, type: string): boolean {
  return matchesPattern(rule.pattern, type) && !rule.excluded.some((p) => matchesPattern(p, type));
}

/**
 * The time before which whole partitions may be dropped, or `undefined`: only with a `*` policy that has a
 * `maxAgeMs` and when every other policy has a `maxAgeMs` no longer than it (then every event older than
 * `now - maxAgeMs` of `*` is deleted by some policy anyway; a count limit only ever deletes more). Otherwise
 * retention deletes row by row inside the partitions.
 */
export function partitionDropBefore(rules: readonly RetentionRule[], now: number): number | undefined {
  const star = rules.find((r) => r.pattern.kind === 'all');
  const starAge = star?.policy.maxAgeMs;
  if (starAge === undefined) return undefined;
  for (const rule of rules) {
    const age = rule.policy.maxAgeMs;
    if (age === undefined || age > starAge) return undefined;
  }
  return now - starAge;
}
