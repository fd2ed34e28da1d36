/**
 * The rate-limit layer of `protect()`: each attempt takes one unit of its call's key (`execute(fn, { key })`,
 * default the policy's name) from a {@link RateLimiter} — the policy's own (an own rule in its `rateLimit`
 * entry, state in the foundation's rate-limit store) or a shared named one (`rule: 'api_calls'`, a rule of
 * `foundation.rateLimits.rules`, one limiter for every policy naming it). `onLimit: 'reject'` refuses at once
 * with `FND_PROTECT_LIMIT_EXCEEDED` (context `{ layer: 'rateLimit', policy, rule?, retryAfterMs }`, which a
 * retry layer above follows); `'wait'` queues the attempt (FIFO per key, `maxWaitMs`, cancelled with the call).
 * Refusals are published on `protection:rejected`.
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import { isFoundationError } from '../../errors/index.js';
import type { CallState } from '../call-state.js';
import type { CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';
import { refuse } from '../timeout/refuse.js';
import type { Layer, LayerStatus } from '../types.js';
import { RateLimiter } from './limiter.js';
import type { RateLimitAlgorithm, RateLimitRule, RateLimitStore } from './types.js';

/** Options of {@link createRateLimitLayer} (the `rateLimit` entry of a named policy). */
export interface RateLimitLayerOptions {
  /** A named rule of `foundation.rateLimits.rules` (its limiter is shared); excludes an own rule. */
  readonly rule?: string;
  /** The own rule's algorithm (default `token_bucket`). */
  readonly algorithm?: RateLimitAlgorithm;
  /** The own rule's units per window. */
  readonly limit?: number;
  /** The own rule's window, ms. */
  readonly windowMs?: number;
  /** The own rule's bucket capacity / GCRA burst (default `limit`). */
  readonly burst?: number;
  /** `reject` (default) or `wait`. */
  readonly onLimit?: 'reject' | 'wait';
  /** Longest wait with `onLimit: 'wait'`, ms (default the rule's window). */
  readonly maxWaitMs?: number;
  /** Waiters per key with `onLimit: 'wait'` (default 1000); beyond, refused at once. */
  readonly maxQueue?: number;
}

/** What the layer needs besides its options. */
export interface RateLimitLayerContext {
  /** The policy's name: the default key, the own limiter's name, and the `policy` of refusals. */
  readonly policy: string;
  /** The clock the own rule's limiter reads time from. */
  readonly clock: Clock;
  /** The shared coarse timer for queue wake-ups and wait limits (default: one of its own on `clock`). */
  readonly timer?: CoarseTimer;
  /** Where an own rule keeps its state (default a private memory store). */
  readonly store?: RateLimitStore;
  /** The shared limiter of a named rule (throws `FND_PROTECT_INVALID_POLICY` for an unknown name). */
  readonly limiter?: (rule: string) => RateLimiter;
}

/** The rate-limit layer, reconfigurable at run time. */
export interface RateLimitLayer extends Layer {
  /** Always `rateLimit`: the layer's kind in the pipeline order. */
  readonly kind: 'rateLimit';
  /** New options: an own rule is replaced in place (keys keep their state when algorithm and window stay). */
  configure(options: RateLimitLayerOptions): void;
  /** The limiter the layer takes units from (for operators: `keys()`, `reset(key)`, `hold(key, ms)`). */
  limiter(): RateLimiter;
  /**
   * The live state: the limiter's name, whether it is a shared named rule, its rule, the `onLimit` mode, and
   * how many attempts were admitted and refused since the layer was created.
   */
  status(): LayerStatus & {
    readonly kind: 'rateLimit';
    readonly limiter: string;
    readonly shared: boolean;
    readonly rule: RateLimitRule;
    readonly onLimit: 'reject' | 'wait';
    readonly admitted: number;
    readonly refused: number;
  };
}

interface Settings {
  readonly limiter: RateLimiter;
  readonly shared: boolean;
  readonly wait: boolean;
  readonly maxWaitMs: number | undefined;
}

function ownRule(options: RateLimitLayerOptions): RateLimitRule {
  const { limit, windowMs, burst, algorithm = 'token_bucket' } = options;
  if (limit === undefined || windowMs === undefined) {
    throw invalidPolicy('rateLimit needs rule, or both limit and windowMs', { option: 'rateLimit.limit' });
  }
  return burst === undefined ? { algorithm, limit, windowMs } : { algorithm, limit, windowMs, burst };
}

function checkMode(options: RateLimitLayerOptions): 'reject' | 'wait' {
  const mode: unknown = options.onLimit ?? 'reject';
  if (mode !== 'reject' && mode !== 'wait') {
    throw invalidPolicy('rateLimit.onLimit must be "reject" or "wait"', { option: 'rateLimit.onLimit' });
  }
  const { maxWaitMs } = options;
  if (maxWaitMs !== undefined && !(typeof maxWaitMs === 'number' && maxWaitMs > 0 && maxWaitMs < Infinity)) {
    throw invalidPolicy('rateLimit.maxWaitMs must be a positive number of ms', {
      option: 'rateLimit.maxWaitMs',
    });
  }
  return mode;
}

/** Creates a rate-limit layer. Bad options throw `FND_PROTECT_INVALID_POLICY` naming the option. */
export function createRateLimitLayer(
  options: RateLimitLayerOptions,
  context: RateLimitLayerContext,
): RateLimitLayer {
  const { policy } = context;
  let own: RateLimiter | undefined;
  let ownQueue: number | undefined;

  const settle = (next: RateLimitLayerOptions): Settings => {
    const mode = checkMode(next);
    if (next.rule !== undefined) {
      if (next.limit !== undefined || next.windowMs !== undefined || next.algorithm !== undefined) {
        throw invalidPolicy('rateLimit takes rule or an own rule, not both', { option: 'rateLimit.rule' });
      }
      if (context.limiter === undefined) {
        throw invalidPolicy(`rateLimit.rule "${next.rule}": no named rules here`, {
          option: 'rateLimit.rule',
        });
      }
      return {
        limiter: context.limiter(next.rule),
        shared: true,
        wait: mode === 'wait',
        maxWaitMs: next.maxWaitMs,
      };
    }
    const rule = ownRule(next);
    const maxQueue = next.maxQueue ?? 1000;
    if (own === undefined || ownQueue !== maxQueue) {
      // A new queue bound needs a new limiter; its state is in the store, shared with the old one's keys.
      own = new RateLimiter({
        name: policy,
        rule,
        clock: context.clock,
        maxQueue,
        ...(context.timer === undefined ? {} : { timer: context.timer }),
        ...(context.store === undefined ? {} : { store: context.store }),
      });
      ownQueue = maxQueue;
    } else {
      own.configure(rule);
    }
    return { limiter: own, shared: false, wait: mode === 'wait', maxWaitMs: next.maxWaitMs };
  };

  let settings = settle(options);
  let admitted = 0;
  let refused = 0;

  const refusal = (error: unknown, limiter: RateLimiter, shared: boolean): unknown => {
    if (!isFoundationError(error) || error.code !== 'FND_PROTECT_LIMIT_EXCEEDED') return error;
    refused += 1;
    const retryAfterMs = error.context.retryAfterMs;
    return refuse(
      'FND_PROTECT_LIMIT_EXCEEDED',
      `Rate limit of "${policy}" exceeded`,
      {
        layer: 'rateLimit',
        policy,
        ...(shared ? { rule: limiter.name } : {}),
        ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
      },
      error,
    );
  };

  return {
    kind: 'rateLimit',
    configure(next: RateLimitLayerOptions): void {
      settings = settle(next);
    },
    limiter: () => settings.limiter,
    status() {
      const { limiter, shared, wait } = settings;
      return {
        kind: 'rateLimit',
        limiter: limiter.name,
        shared,
        rule: limiter.rule,
        onLimit: wait ? 'wait' : 'reject',
        admitted,
        refused,
      };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const { limiter, shared, wait, maxWaitMs } = settings;
      const key = call.key ?? policy;
      if (!wait && limiter.local) {
        // The limiter's own memory store decides synchronously: no promise before the call goes on.
        let decision;
        try {
          decision = limiter.tryConsume(key, 1);
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the limiter's FoundationError, unchanged
          return Promise.reject(error);
        }
        if (!decision.allowed) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a FoundationError
          return Promise.reject(refusal(limiter.refusal(key, decision), limiter, shared));
        }
        admitted += 1;
        return next(call);
      }
      const decided = wait
        ? limiter.wait(key, 1, {
            signal: call.signal,
            ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
          })
        : limiter.consume(key, 1);
      return decided.then(
        () => {
          admitted += 1;
          return next(call);
        },
        (error: unknown) => {
          throw refusal(error, limiter, shared);
        },
      );
    },
  };
}
