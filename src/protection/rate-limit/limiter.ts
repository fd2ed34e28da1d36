/**
 * The keyed rate limiter: one rule (token bucket, GCRA, sliding or fixed window) applied per key on a
 * {@link RateLimitStore} — by default a private {@link MemoryRateLimitStore}, whose synchronous path the
 * limiter uses directly (no store promise per decision). `consume` admits or refuses at once; `wait` queues
 * the caller (a bounded FIFO queue per key, a maximum wait, an `AbortSignal`) until the units are admitted.
 * Every refusal is a `FoundationError` `FND_PROTECT_LIMIT_EXCEEDED` whose context names
 * `{ layer: 'rateLimit', policy, key, retryAfterMs }`; a cancelled wait is `FND_PROTECT_CANCELLED`.
 * Queue wake-ups ride the shared {@link CoarseTimer}: no timer per call, none when nobody waits. `hold` feeds
 * a dependency's 429 / `Retry-After` back into the limiter (every decision on the key refuses until it ends;
 * waiters sleep until then), and `keys` lists the limiter's keys with their status, for operators.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { type Clock, systemClock } from '../../kernel/clock.js';
import { CoarseTimer, type CoarseTimeout } from '../coarse-timer.js';
import { MemoryRateLimitStore } from './memory-store.js';
import type { RateLimitDecision, RateLimitRule, RateLimitStore } from './types.js';

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** The policy name, in refusals (and the key prefix `<name>:` on a store passed in). */
  readonly name: string;
  /** The rule applied to every key (replaceable later with `configure`). */
  readonly rule: RateLimitRule;
  /**
   * Where state lives. Default: a private memory store (keys unprefixed). A store passed in may be shared by
   * several limiters and processes: keys are prefixed with `<name>:`.
   */
  readonly store?: RateLimitStore;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
  /** The shared coarse timer for queue wake-ups and wait limits (default: one of its own on `clock`). */
  readonly timer?: CoarseTimer;
  /** Waiters per key in `wait` (default 1000); beyond it `wait` refuses at once. */
  readonly maxQueue?: number;
  /** Keys of the default memory store (default 100 000). */
  readonly maxKeys?: number;
}

/** Options of {@link RateLimiter.wait}. */
export interface RateLimitWaitOptions {
  /** Longest wait in ms (default the rule's `windowMs`); a wait known to be longer is refused at once. */
  readonly maxWaitMs?: number;
  /** Aborting it ends the wait with `FND_PROTECT_CANCELLED` (nothing consumed). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly n: number;
  /** Monotonic ms after which the waiter gives up. */
  readonly deadline: number;
  readonly resolve: (decision: RateLimitDecision) => void;
  readonly reject: (error: FoundationError) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  expiry: CoarseTimeout | undefined;
  done: boolean;
}

interface KeyQueue {
  readonly key: string;
  waiters: Waiter[];
  head: number;
  live: number;
  pumping: boolean;
  wake: CoarseTimeout | undefined;
}

/**
 * A keyed rate limiter.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ name: 'api', rule: { algorithm: 'gcra', limit: 100, windowMs: 60_000 } });
 * await limiter.consume(userId);                                   // or throws FND_PROTECT_LIMIT_EXCEEDED
 * await limiter.wait(userId, 1, { maxWaitMs: 2000, signal });      // queues up to 2 s
 * ```
 */
export class RateLimiter {
  /** The policy name. */
  readonly name: string;
  #rule: RateLimitRule;
  readonly #store: RateLimitStore;
  /** The private memory store, when the limiter owns one (the synchronous path). */
  readonly #memory: MemoryRateLimitStore | undefined;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #timer: CoarseTimer;
  readonly #maxQueue: number;
  readonly #queues = new Map<string, KeyQueue>();

  /** @param options - name, rule, store, clock, timer and queue bound. */
  constructor(options: RateLimiterOptions) {
    const maxQueue = options.maxQueue ?? 1000;
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) {
      throw new FoundationError('FND_PROTECT_INVALID_POLICY', {
        message: 'maxQueue must be a non-negative integer',
        context: { option: 'maxQueue', value: maxQueue, policy: options.name },
      });
    }
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? new CoarseTimer(this.#clock);
    this.#maxQueue = maxQueue;
    if (options.store === undefined) {
      this.#memory = new MemoryRateLimitStore({
        clock: this.#clock,
        ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
      });
      this.#store = this.#memory;
      this.#prefix = '';
    } else {
      this.#memory = undefined;
      this.#store = options.store;
      this.#prefix = `${options.name}:`;
    }
    this.#rule = checkedRule(options.rule);
  }

  /** The rule in force. */
  get rule(): RateLimitRule {
    return this.#rule;
  }

  /**
   * Replaces the rule (a hot reload). Keys keep their state when the algorithm and window stay the same.
   * Throws `FND_PROTECT_INVALID_POLICY` for a bad rule (the old one stays).
   */
  configure(rule: RateLimitRule): void {
    this.#rule = checkedRule(rule);
  }

  /** Whether decisions are made in this process (the limiter's own memory store): {@link RateLimiter.tryConsume} works. */
  get local(): boolean {
    return this.#memory !== undefined;
  }

  /**
   * Decides at once, synchronously, on the limiter's own memory store: admits `n` units (default 1) for
   * `key` and returns the decision, or returns a refusal (`allowed: false`, `retryAfterMs`) recording nothing
   * — no promise, no error object. Ignores the waiters of {@link RateLimiter.wait}, like `consume`.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` for a bad key or unit count, or when the limiter
   * keeps its state in a store passed in (a shared store answers asynchronously: use `consume`).
   */
  tryConsume(key: string, n = 1): RateLimitDecision {
    const memory = this.#memory;
    if (memory === undefined) throw this.#notLocal();
    return memory.consumeSync(key, this.#rule, n);
  }

  /** The error of {@link RateLimiter.tryConsume} on a store passed in (kept out of the hot path's bytecode). */
  #notLocal(): FoundationError {
    return new FoundationError('FND_PROTECT_INVALID_POLICY', {
      message: `Rate limiter "${this.name}" keeps its state in a ${this.#store.kind} store: use consume()`,
      context: { policy: this.name, store: this.#store.kind },
    });
  }

  /**
   * The refusal `consume` would reject with for a refused decision of {@link RateLimiter.tryConsume}.
   */
  refusal(key: string, decision: RateLimitDecision): FoundationError {
    return this.#refusal(key, decision.retryAfterMs);
  }

  /**
   * Admits `n` units (default 1) for `key` now, or rejects with `FND_PROTECT_LIMIT_EXCEEDED` (context
   * `retryAfterMs`: the exact wait for token bucket, GCRA and the windows when nothing else is taken).
   * Does not queue: waiters of {@link RateLimiter.wait} are not served before it.
   */
  consume(key: string, n = 1): Promise<RateLimitDecision> {
    const memory = this.#memory;
    if (memory !== undefined) {
      let decision: RateLimitDecision;
      try {
        decision = memory.consumeSync(key, this.#rule, n);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the store's FoundationError, unchanged
        return Promise.reject(error);
      }
      return decision.allowed
        ? Promise.resolve(decision)
        : Promise.reject(this.#refusal(key, decision.retryAfterMs));
    }
    return this.#store.consume(this.#prefix + key, this.#rule, n).then((decision) => {
      if (decision.allowed) return decision;
      throw this.#refusal(key, decision.retryAfterMs);
    });
  }

  /**
   * Whether `n` units (default 1) would be admitted now, consuming nothing (never rejects for a refusal).
   * On the default memory store `retryAfterMs` is exact for `n`; on a store passed in (whose port reads
   * status for 0 units) a refused check's `retryAfterMs` is the time until the full allowance is back.
   */
  async check(key: string, n = 1): Promise<RateLimitDecision> {
    const memory = this.#memory;
    if (memory !== undefined) return memory.statusSync(key, this.#rule, n);
    const status = await this.#store.status(this.#prefix + key, this.#rule);
    const allowed = n <= status.remaining;
    return { ...status, allowed, retryAfterMs: allowed ? 0 : status.resetMs };
  }

  /** The key's state: the decision for 0 units (remaining allowance, time to full allowance). */
  status(key: string): Promise<RateLimitDecision> {
    const memory = this.#memory;
    if (memory !== undefined) {
      try {
        return Promise.resolve(memory.statusSync(key, this.#rule, 0));
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the store's FoundationError, unchanged
        return Promise.reject(error);
      }
    }
    return this.#store.status(this.#prefix + key, this.#rule);
  }

  /** Forgets the key: its full allowance is back. Waiters of the key are served again from the start. */
  async reset(key: string): Promise<void> {
    await this.#store.reset(this.#prefix + key);
    const queue = this.#queues.get(key);
    if (queue !== undefined) this.#kick(queue);
  }

  /**
   * Holds `key` for `ms` (e.g. a dependency answered 429 with `Retry-After`; see `parseRetryAfter`): until
   * then every decision on the key refuses with `retryAfterMs` at least the hold's remainder, in every
   * process sharing the store. Holds only extend; {@link RateLimiter.reset} clears them. The key's queue re-checks its
   * head at once: a head that cannot wait out the hold is refused (`reason: 'max_wait'`) and the next one
   * checked, until one sleeps until the hold ends (the waiters behind it give up at their `maxWaitMs`).
   * Throws `FND_PROTECT_INVALID_POLICY` unless `ms` is a finite positive number ≤ 24 h (option `ms`).
   */
  async hold(key: string, ms: number): Promise<void> {
    await this.#store.hold(this.#prefix + key, ms);
    const queue = this.#queues.get(key);
    if (queue !== undefined) this.#kick(queue);
  }

  /**
   * This limiter's keys that hold state or a hold, sorted, at most `limit` (1 to 1000, default 100), each
   * with its {@link RateLimiter.status} — for operators (`GET /api/protection`). On a shared store only keys under this
   * limiter's prefix are listed, without it.
   */
  async keys(limit = 100): Promise<Array<{ key: string; decision: RateLimitDecision }>> {
    const prefix = this.#prefix;
    const found = await this.#store.keys(limit, prefix);
    return Promise.all(
      found.map(async (stored) => {
        const key = stored.slice(prefix.length);
        return { key, decision: await this.status(key) };
      }),
    );
  }

  /** Waiters queued on `key` (0 when none). */
  waiting(key: string): number {
    return this.#queues.get(key)?.live ?? 0;
  }

  /**
   * Admits `n` units (default 1) for `key`, waiting in the key's FIFO queue when they are not available now.
   * Rejects with `FND_PROTECT_LIMIT_EXCEEDED` when the wait would exceed `maxWaitMs` (at once when known
   * beforehand; `reason: 'max_wait'`) or the queue is full (`reason: 'queue_full'`), with
   * `FND_PROTECT_CANCELLED` when `signal` aborts. Nothing is consumed for a rejected wait.
   */
  async wait(key: string, n = 1, options: RateLimitWaitOptions = {}): Promise<RateLimitDecision> {
    const maxWaitMs = options.maxWaitMs ?? this.#rule.windowMs;
    if (typeof maxWaitMs !== 'number' || Number.isNaN(maxWaitMs) || maxWaitMs < 0) {
      throw new FoundationError('FND_PROTECT_INVALID_POLICY', {
        message: 'maxWaitMs must be a non-negative number',
        context: { option: 'maxWaitMs', value: maxWaitMs, policy: this.name },
      });
    }
    const { signal } = options;
    const aborted = (): boolean => signal?.aborted ?? false;
    if (aborted()) throw this.#cancelled(key);
    const start = this.#clock.monotonic();
    if (!this.#queues.has(key)) {
      const decision = await this.#store.consume(this.#prefix + key, this.#rule, n);
      if (decision.allowed) return decision;
      if (decision.retryAfterMs > maxWaitMs) throw this.#refusal(key, decision.retryAfterMs, 'max_wait');
      if (aborted()) throw this.#cancelled(key);
    }
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = { key, waiters: [], head: 0, live: 0, pumping: false, wake: undefined };
      this.#queues.set(key, queue);
    } else if (queue.live >= this.#maxQueue) {
      const status = await this.check(key, n);
      throw this.#refusal(key, status.retryAfterMs, 'queue_full');
    }
    const q = queue;
    return new Promise<RateLimitDecision>((resolve, reject) => {
      const waiter: Waiter = {
        n,
        deadline: start + maxWaitMs,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        expiry: undefined,
        done: false,
      };
      const remaining = waiter.deadline - this.#clock.monotonic();
      waiter.expiry = this.#timer.schedule(remaining, () => {
        this.#settle(q, waiter, this.#refusal(key, undefined, 'max_wait'));
      });
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#settle(q, waiter, this.#cancelled(key));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      q.waiters.push(waiter);
      q.live += 1;
      if (!q.pumping && q.wake === undefined) void this.#pump(q);
    });
  }

  /** Ends every wait with `FND_PROTECT_CANCELLED` and closes the private store (a passed-in store stays open). */
  async close(): Promise<void> {
    for (const queue of [...this.#queues.values()]) {
      queue.wake?.cancel();
      queue.wake = undefined;
      for (let i = queue.head; i < queue.waiters.length; i += 1) {
        const waiter = queue.waiters[i] as Waiter;
        if (!waiter.done) this.#settle(queue, waiter, this.#cancelled(queue.key));
      }
    }
    this.#queues.clear();
    if (this.#memory !== undefined) await this.#memory.close();
  }

  /** Serves the key's queue head first: admits waiters while units fit, then sleeps until the head's wait. */
  async #pump(queue: KeyQueue): Promise<void> {
    queue.pumping = true;
    try {
      for (;;) {
        const waiter = this.#head(queue);
        if (waiter === undefined) break;
        let decision: RateLimitDecision;
        try {
          decision = await this.#store.consume(this.#prefix + queue.key, this.#rule, waiter.n);
        } catch (error) {
          this.#settle(queue, waiter, error as FoundationError);
          continue;
        }
        // A waiter that gave up during the store round trip: units admitted for it are lost (never over-admitted).
        if (waiter.done) continue;
        if (decision.allowed) {
          this.#settle(queue, waiter, decision);
          continue;
        }
        if (decision.retryAfterMs > waiter.deadline - this.#clock.monotonic()) {
          this.#settle(queue, waiter, this.#refusal(queue.key, decision.retryAfterMs, 'max_wait'));
          continue;
        }
        queue.wake = this.#timer.schedule(decision.retryAfterMs, () => {
          queue.wake = undefined;
          void this.#pump(queue);
        });
        return;
      }
    } finally {
      queue.pumping = false;
    }
    if (queue.live === 0 && queue.wake === undefined && this.#queues.get(queue.key) === queue) {
      this.#queues.delete(queue.key);
    }
  }

  /** The oldest live waiter (dropping settled ones from the front). */
  #head(queue: KeyQueue): Waiter | undefined {
    while (queue.head < queue.waiters.length) {
      const waiter = queue.waiters[queue.head] as Waiter;
      if (!waiter.done) return waiter;
      queue.head += 1;
    }
    queue.waiters = [];
    queue.head = 0;
    return undefined;
  }

  /** Re-runs the queue now (after a reset, or when a waiter left while the queue slept). */
  #kick(queue: KeyQueue): void {
    if (queue.pumping) return;
    queue.wake?.cancel();
    queue.wake = undefined;
    void this.#pump(queue);
  }

  #settle(queue: KeyQueue, waiter: Waiter, outcome: RateLimitDecision | FoundationError): void {
    if (waiter.done) return;
    waiter.done = true;
    queue.live -= 1;
    waiter.expiry?.cancel();
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (outcome instanceof FoundationError) {
      waiter.reject(outcome);
      // The head left while the queue slept for it: the next waiter may fit sooner.
      if (!queue.pumping && queue.wake !== undefined) this.#kick(queue);
    } else {
      waiter.resolve(outcome);
    }
  }

  #refusal(
    key: string,
    retryAfterMs: number | undefined,
    reason?: 'max_wait' | 'queue_full',
  ): FoundationError {
    return new FoundationError('FND_PROTECT_LIMIT_EXCEEDED', {
      message: `Rate limit of "${this.name}" reached`,
      context: {
        layer: 'rateLimit',
        policy: this.name,
        key,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(reason === undefined ? {} : { reason }),
      },
    });
  }

  #cancelled(key: string): FoundationError {
    return new FoundationError('FND_PROTECT_CANCELLED', {
      message: `Wait for rate limit "${this.name}" cancelled`,
      context: { layer: 'rateLimit', policy: this.name, key },
    });
  }
}

/** Checks a rule as every store would (a throwaway decision on an empty memory store). */
function checkedRule(rule: RateLimitRule): RateLimitRule {
  new MemoryRateLimitStore({ maxKeys: 1 }).statusSync('rule-check', rule, 0);
  return rule;
}
