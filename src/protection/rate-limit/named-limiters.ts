/**
 * The named rate limiters of a foundation: one {@link RateLimiter} per rule of `foundation.rateLimits.rules`
 * (the original's `default_rules`: `api_calls`, `db_queries`, `file_operations`), created on first use, on the
 * foundation's rate-limit store, and kept in step with the config — a changed rule applies in place (keys keep
 * their state when algorithm and window stay), a removed rule keeps its limiter on its last rule for whoever
 * holds it but is no longer handed out.
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import type { CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';
import { checkRateLimitRule } from './checks.js';
import { RateLimiter } from './limiter.js';
import type { RateLimitRule, RateLimitStore } from './types.js';

/** Options of {@link NamedRateLimiters}. */
export interface NamedRateLimitersOptions {
  /** Reads the current rules (name → rule). */
  readonly rules: () => Readonly<Record<string, RateLimitRule>>;
  /** The clock every limiter reads time from. */
  readonly clock: Clock;
  /** The shared coarse timer for queue wake-ups (default: each limiter one of its own on `clock`). */
  readonly timer?: CoarseTimer;
  /**
   * Where the limiters keep state (keys prefixed `<rule>:`). Default: each limiter its own memory store
   * (this process only).
   */
  readonly store?: RateLimitStore;
}

/** One named limiter, as operators see it. */
export interface NamedLimiterListing {
  /** The rule's name (its key under `foundation.rateLimits.rules`), also the limiter's name. */
  readonly name: string;
  /** The rule the limiter applies now. */
  readonly rule: RateLimitRule;
  /** Whether the rule is still in the config (a removed one keeps its last rule). */
  readonly configured: boolean;
}

const MAX_NAMES_SHOWN = 50;

/** The named rate limiters of one foundation. */
export class NamedRateLimiters {
  readonly #options: NamedRateLimitersOptions;
  readonly #limiters = new Map<string, RateLimiter>();

  /** @param options - the rules, clock, timer and store. */
  constructor(options: NamedRateLimitersOptions) {
    this.#options = options;
  }

  /** The store kind the limiters use (`memory` when each has its own). */
  get storeKind(): RateLimitStore['kind'] {
    return this.#options.store?.kind ?? 'memory';
  }

  /** The configured rule names, sorted. */
  names(): string[] {
    return Object.keys(this.#options.rules()).sort();
  }

  /**
   * The limiter of rule `name` (created on first use).
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when `foundation.rateLimits.rules` has no such rule
   * (the message lists the configured names).
   */
  get(name: string): RateLimiter {
    const existing = this.#limiters.get(name);
    const rules = this.#options.rules();
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (rule === undefined) {
      const names = Object.keys(rules).sort();
      const shown = names.slice(0, MAX_NAMES_SHOWN);
      throw invalidPolicy(
        `No rate-limit rule "${name.slice(0, 64)}" in foundation.rateLimits.rules; configured: ${
          shown.length === 0 ? 'none' : shown.join(', ')
        }${names.length > shown.length ? ', …' : ''}`,
        { option: 'rateLimit.rule', configured: shown },
      );
    }
    if (existing !== undefined) return existing;
    const { clock, timer, store } = this.#options;
    const limiter = new RateLimiter({
      name,
      rule,
      clock,
      ...(timer === undefined ? {} : { timer }),
      ...(store === undefined ? {} : { store }),
    });
    this.#limiters.set(name, limiter);
    return limiter;
  }

  /** Every configured rule and every limiter created for a rule since removed, sorted by name. */
  list(): NamedLimiterListing[] {
    const rules = this.#options.rules();
    const names = new Set([...Object.keys(rules), ...this.#limiters.keys()]);
    return [...names].sort().map((name) => {
      const configured = Object.hasOwn(rules, name);
      const rule = configured
        ? (rules[name] as RateLimitRule)
        : (this.#limiters.get(name)?.rule as RateLimitRule);
      return { name, rule, configured };
    });
  }

  /**
   * Checks every rule of `rules` (as each limiter would), changing nothing.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` naming the rule and the option.
   */
  validate(rules: Readonly<Record<string, RateLimitRule>>): void {
    for (const [name, rule] of Object.entries(rules)) {
      try {
        checkRateLimitRule(rule);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw invalidPolicy(`Rate-limit rule "${name}": ${message}`, { rule: name });
      }
    }
  }

  /** Applies the current rules to the limiters created so far (a removed rule's limiter keeps its last rule). */
  reconfigure(): void {
    const rules = this.#options.rules();
    for (const [name, limiter] of this.#limiters) {
      const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
      if (rule !== undefined && rule !== limiter.rule) limiter.configure(rule);
    }
  }

  /** Ends every limiter's waiters and closes the shared store. */
  async close(): Promise<void> {
    await Promise.all([...this.#limiters.values()].map((limiter) => limiter.close()));
    await this.#options.store?.close();
  }
}
