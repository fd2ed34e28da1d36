/**
 * How the PostgreSQL rate-limit store groups the decisions asked in one turn of the event loop into
 * statements (see `postgres-store.ts`): pure planning, no I/O.
 *
 * @module
 */
import { ruleCapacity } from './checks.js';
import type { RateLimitDecision, RateLimitRule } from './types.js';

/** Most decisions in one statement. */
export const MAX_BATCH = 64;

/** A decision to plan: its key, rule and unit count. */
export interface BatchItem {
  readonly key: string;
  readonly rule: RateLimitRule;
  readonly n: number;
}

/** A `consume` waiting for the end of this turn of the event loop, and its caller's promise. */
export interface PendingConsume extends BatchItem {
  readonly resolve: (decision: RateLimitDecision) => void;
  readonly reject: (error: unknown) => void;
}

/** What decisions must share to go in one statement: the rule's parameters and the unit count. */
export function batchSignature(d: BatchItem): string {
  const { algorithm, limit, windowMs } = d.rule;
  return `${algorithm}/${String(limit)}/${String(windowMs)}/${String(ruleCapacity(d.rule))}/${String(d.n)}`;
}

const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * `key` as PostgreSQL receives it: the driver encodes strings as UTF-8, which turns a lone surrogate into
 * U+FFFD, so two keys that differ only there are one row (and must not share a statement).
 */
export function wireKey(key: string): string {
  return key.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * One round of `pending` (in the order asked): statements of at most {@link MAX_BATCH} decisions with the same
 * signature and distinct keys (as {@link wireKey} sends them) — no key twice in the round, whatever the
 * statement — and the decisions left for the following round (a key already taken, and every later decision
 * on it), in order.
 */
export function planRound<T extends BatchItem>(
  pending: readonly T[],
): {
  statements: T[][];
  later: T[];
} {
  const open = new Map<string, T[]>();
  const statements: T[][] = [];
  const taken = new Set<string>();
  const later: T[] = [];
  for (const d of pending) {
    const key = wireKey(d.key);
    if (taken.has(key)) {
      later.push(d);
      continue;
    }
    taken.add(key);
    const signature = batchSignature(d);
    let statement = open.get(signature);
    if (statement === undefined || statement.length >= MAX_BATCH) {
      statement = [];
      open.set(signature, statement);
      statements.push(statement);
    }
    statement.push(d);
  }
  return { statements, later };
}
