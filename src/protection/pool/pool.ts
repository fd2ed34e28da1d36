/**
 * The resource pool: `acquire` / `release` / `use(fn)`, `min` warm resources, `max` permanent ones and
 * `maxOverflow` temporary ones (poolboy's semantics: an overflow resource is destroyed when it comes back and
 * nobody waits), FIFO waiters with a timeout and an `AbortSignal`, validation on borrow of every resource that
 * was used or sat idle, idle eviction and a maximum lifetime, creation failures that back off (doubling, capped)
 * instead of spinning, and `drain()`. Timers: acquire timeouts, the backoff and the idle sweep all ride on one
 * shared {@link CoarseTimer}; no timer per acquire, and the sweep is armed only while resources are idle.
 * The caller's function runs in the caller's async context (`use` awaits in the caller's own chain).
 *
 * @module
 */
import { type Clock, systemClock } from '../../kernel/clock.js';
import { type CoarseTimeout, CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';
import { sweepIdle } from './idle-sweep.js';
import { type Lease, type LeaseOwner, type PoolEntry, PoolLease } from './lease.js';
import { acquireCancelled, acquireTimeout, poolDrained, poolFull } from './pool-errors.js';
import {
  type PoolOptions,
  type ResolvedPoolOptions,
  createBackoffMs,
  resolvePoolOptions,
} from './pool-options.js';
import type { AcquireOptions, Pool, PoolStatus } from './pool-types.js';
import { Waiter } from './waiter.js';
import { WaiterQueue } from './waiter-queue.js';

export type { AcquireOptions, Pool, PoolStatus } from './pool-types.js';

function validTimeout(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

class ResourcePool<R> implements Pool<R>, LeaseOwner<R> {
  readonly name: string;
  readonly #o: ResolvedPoolOptions<R>;
  readonly #clock: Clock;
  readonly #timer: CoarseTimer;
  readonly #capacity: number;
  readonly #ages: boolean;
  /** Idle resources, oldest idle first (lent from the end: the warmest one). */
  #idle: PoolEntry<R>[] = [];
  readonly #waiters = new WaiterQueue<Waiter<R>>();
  /** Waiters out of the queue while their resource is validated (their deadline and signal still apply). */
  readonly #validating = new Set<Waiter<R>>();
  #waiting = 0;
  #inUse = 0;
  #creating = 0;
  #destroying = 0;
  #failures = 0;
  #destroyFailures = 0;
  #lastCreateError: unknown;
  #backoff: CoarseTimeout | undefined;
  #sweep: CoarseTimeout | undefined;
  /** The one timer of every waiter's deadline, armed for the earliest one. */
  #waitTimer: CoarseTimeout | undefined;
  #waitTimerAt = Number.POSITIVE_INFINITY;
  #started = false;
  #closed = false;
  #drain: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: ResolvedPoolOptions<R>, clock: Clock, timer: CoarseTimer) {
    this.name = options.name;
    this.#o = options;
    this.#clock = clock;
    this.#timer = timer;
    this.#capacity = options.max + options.maxOverflow;
    this.#ages =
      options.idleTimeoutMs !== Number.POSITIVE_INFINITY ||
      options.maxLifetimeMs !== Number.POSITIVE_INFINITY;
  }

  start(): void {
    this.#started = true;
    this.#grow();
  }

  acquire(options?: AcquireOptions): Promise<Lease<R>> {
    if (this.#closed) return Promise.reject(poolDrained(this.name));
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(acquireCancelled(this.name, signal.reason));
    this.#started = true;
    if (this.#waiting === 0 && this.#o.validate === undefined) {
      const entry = this.#takeIdle();
      if (entry !== undefined) {
        this.#inUse += 1;
        return Promise.resolve(new PoolLease(this, entry));
      }
    }
    const timeoutMs = options?.timeoutMs ?? this.#o.acquireTimeoutMs;
    if (!validTimeout(timeoutMs)) {
      return Promise.reject(
        invalidPolicy('acquire timeoutMs must be a finite number ≥ 0 (ms)', { option: 'timeoutMs' }),
      );
    }
    if (
      this.#idle.length === 0 &&
      this.#idle.length + this.#inUse + this.#creating >= this.#capacity &&
      this.#waiting >= this.#o.maxWaiting
    ) {
      return Promise.reject(poolFull(this.name, this.#capacity, this.#o.maxWaiting));
    }
    return new Promise<Lease<R>>((resolve, reject) => {
      const waiter = new Waiter<R>(resolve, reject);
      const now = this.#clock.monotonic();
      waiter.timeoutMs = timeoutMs;
      waiter.deadline = now + timeoutMs;
      if (waiter.deadline < this.#waitTimerAt) this.#armWaitTimer(waiter.deadline, now);
      if (signal !== undefined) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          this.#cancel(waiter, signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#waiting += 1;
      this.#dispatch();
    });
  }

  async use<T>(fn: (resource: R) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    const lease = await this.acquire(options);
    try {
      return await fn(lease.resource);
    } finally {
      lease.release();
    }
  }

  drain(): Promise<void> {
    if (this.#drain !== undefined) return this.#drain;
    this.#closed = true;
    this.#drain = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    const error = poolDrained(this.name);
    for (const waiter of [...this.#waiters.takeAll(), ...this.#validating]) {
      waiter.settle();
      waiter.reject(error);
    }
    this.#validating.clear();
    this.#waiting = 0;
    this.#backoff?.cancel();
    this.#backoff = undefined;
    this.#waitTimer?.cancel();
    this.#waitTimer = undefined;
    this.#waitTimerAt = Number.POSITIVE_INFINITY;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    const idle = this.#idle;
    this.#idle = [];
    for (const entry of idle) this.#discard(entry);
    this.#checkDrained();
    return this.#drain;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }

  status(): PoolStatus {
    const size = this.#idle.length + this.#inUse;
    return {
      name: this.name,
      size,
      idle: this.#idle.length,
      inUse: this.#inUse,
      waiting: this.#waiting,
      overflow: Math.max(0, size - this.#o.max),
      creating: this.#creating,
      createFailures: this.#failures,
      destroyFailures: this.#destroyFailures,
      min: this.#o.min,
      max: this.#o.max,
      maxOverflow: this.#o.maxOverflow,
      drained: this.#closed,
    };
  }

  /** A lease gave its resource back. */
  leaseReturned(entry: PoolEntry<R>): void {
    if (this.#closed || this.#expired(entry)) {
      this.#inUse -= 1;
      this.#discard(entry);
      this.#grow();
      return;
    }
    const waiter = this.#waiting > 0 ? this.#waiters.shift() : undefined;
    if (waiter !== undefined) {
      // Handed over directly: stays in use.
      this.#tookWaiter();
      this.#lend(waiter, entry);
      return;
    }
    this.#inUse -= 1;
    if (this.#idle.length + this.#inUse + 1 > this.#o.max) this.#discard(entry);
    else this.#toIdle(entry);
  }

  /** A lease gave its resource back broken. */
  leaseDestroyed(entry: PoolEntry<R>): void {
    this.#inUse -= 1;
    this.#discard(entry);
    this.#grow();
  }

  /** Lends idle resources to waiters, then creates what is missing. */
  #dispatch(): void {
    while (this.#waiting > 0) {
      const entry = this.#takeIdle();
      if (entry === undefined) break;
      const waiter = this.#waiters.shift();
      if (waiter === undefined) {
        this.#idle.push(entry);
        break;
      }
      this.#tookWaiter();
      this.#inUse += 1;
      this.#lend(waiter, entry);
    }
    this.#grow();
  }

  /** Lends a used resource (counted in use) to `waiter`, validating it first when the pool validates. */
  #lend(waiter: Waiter<R>, entry: PoolEntry<R>): void {
    const validate = this.#o.validate;
    if (validate === undefined) {
      this.#grant(waiter, entry);
      return;
    }
    this.#validating.add(waiter);
    if (waiter.deadline < this.#waitTimerAt) this.#armWaitTimer(waiter.deadline, this.#clock.monotonic());
    new Promise<boolean>((resolve) => {
      resolve(validate(entry.resource));
    }).then(
      (ok) => {
        this.#validated(waiter, entry, ok);
      },
      () => {
        this.#validated(waiter, entry, false);
      },
    );
  }

  #validated(waiter: Waiter<R>, entry: PoolEntry<R>, ok: boolean): void {
    if (this.#validating.delete(waiter)) this.#disarmIfNoneWaits();
    if (ok && !waiter.settled && !this.#closed) {
      this.#grant(waiter, entry);
      return;
    }
    if (ok) {
      // Its borrower left (timeout, abort, drain) while it was checked: back to the pool.
      this.leaseReturned(entry);
      return;
    }
    this.#inUse -= 1;
    this.#discard(entry);
    if (!waiter.settled) {
      this.#waiters.unshift(waiter);
      this.#waiting += 1;
    }
    this.#dispatch();
  }

  #grant(waiter: Waiter<R>, entry: PoolEntry<R>): void {
    waiter.settle();
    waiter.resolve(new PoolLease(this, entry));
  }

  /** The warmest idle resource that is not too old (too old ones are destroyed on the way). */
  #takeIdle(): PoolEntry<R> | undefined {
    for (let entry = this.#idle.pop(); entry !== undefined; entry = this.#idle.pop()) {
      if (!this.#expired(entry)) return entry;
      this.#discard(entry);
    }
    return undefined;
  }

  #expired(entry: PoolEntry<R>): boolean {
    return (
      this.#o.maxLifetimeMs !== Number.POSITIVE_INFINITY &&
      this.#clock.monotonic() - entry.createdAt >= this.#o.maxLifetimeMs
    );
  }

  #toIdle(entry: PoolEntry<R>): void {
    if (!this.#ages) {
      this.#idle.push(entry);
      return;
    }
    const now = this.#clock.monotonic();
    entry.idleSince = now;
    this.#idle.push(entry);
    if (this.#sweep === undefined) {
      const delay = Math.min(this.#o.idleTimeoutMs, entry.createdAt + this.#o.maxLifetimeMs - now);
      this.#arm(delay);
    }
  }

  #arm(delayMs: number): void {
    this.#sweep = this.#timer.schedule(delayMs, () => {
      this.#runSweep();
    });
  }

  /** Destroys idle resources past their idle timeout (keeping `min`) or lifetime; re-arms while some stay idle. */
  #runSweep(): void {
    this.#sweep = undefined;
    if (this.#closed) return;
    const now = this.#clock.monotonic();
    const total = this.#idle.length + this.#inUse + this.#creating;
    const { kept, evicted, next } = sweepIdle(this.#idle, now, total, this.#o);
    this.#idle = kept;
    for (const entry of evicted) this.#discard(entry);
    if (kept.length > 0 && next !== Number.POSITIVE_INFINITY) this.#arm(next - now);
    this.#grow();
  }

  /**
   * Starts the creations the waiters (and `min`) need, within capacity, unless a backoff is pending; after a
   * failed creation, a single one until a creation succeeds again.
   */
  #grow(): void {
    if (this.#closed || this.#backoff !== undefined) return;
    let want = this.#waiting - this.#creating;
    if (this.#started) {
      const belowMin = this.#o.min - (this.#idle.length + this.#inUse + this.#creating);
      if (belowMin > want) want = belowMin;
    }
    // After a failure, one creation at a time probes the server until one succeeds.
    if (this.#failures > 0) want = this.#creating > 0 ? 0 : Math.min(want, 1);
    while (want > 0 && this.#idle.length + this.#inUse + this.#creating < this.#capacity) {
      want -= 1;
      this.#create();
    }
  }

  #create(): void {
    this.#creating += 1;
    new Promise<R>((resolve) => {
      resolve(this.#o.create());
    }).then(
      (resource) => {
        this.#created(resource);
      },
      (error: unknown) => {
        this.#createFailed(error);
      },
    );
  }

  #created(resource: R): void {
    this.#creating -= 1;
    this.#failures = 0;
    this.#lastCreateError = undefined;
    const now = this.#clock.monotonic();
    const entry: PoolEntry<R> = { resource, createdAt: now, idleSince: now };
    if (this.#closed) {
      this.#discard(entry);
      return;
    }
    const waiter = this.#waiting > 0 ? this.#waiters.shift() : undefined;
    if (waiter !== undefined) {
      // Fresh: lent without validation.
      this.#tookWaiter();
      this.#inUse += 1;
      this.#grant(waiter, entry);
    } else if (this.#idle.length + this.#inUse + 1 > this.#o.max) {
      this.#discard(entry);
    } else {
      this.#toIdle(entry);
    }
    this.#grow();
  }

  #createFailed(error: unknown): void {
    this.#creating -= 1;
    this.#failures += 1;
    this.#lastCreateError = error;
    if (this.#closed) {
      this.#checkDrained();
      return;
    }
    if (this.#backoff === undefined) {
      this.#backoff = this.#timer.schedule(createBackoffMs(this.#o.createRetry, this.#failures), () => {
        this.#backoff = undefined;
        this.#dispatch();
      });
    }
  }

  #discard(entry: PoolEntry<R>): void {
    this.#destroying += 1;
    new Promise<void>((resolve) => {
      resolve(this.#o.destroy(entry.resource));
    })
      .catch(() => {
        this.#destroyFailures += 1;
      })
      .finally(() => {
        this.#destroying -= 1;
        this.#checkDrained();
      });
  }

  /** One waiter left the queue; the waiters' timer is disarmed once none waits. */
  #tookWaiter(): void {
    this.#waiting -= 1;
    this.#disarmIfNoneWaits();
  }

  /** Disarms the waiters' timer when nobody waits (queued or validated). */
  #disarmIfNoneWaits(): void {
    if (this.#waiting === 0 && this.#waitTimer !== undefined && this.#validating.size === 0) {
      this.#waitTimer.cancel();
      this.#waitTimer = undefined;
      this.#waitTimerAt = Number.POSITIVE_INFINITY;
    }
  }

  /** Arms the waiters' timer for monotonic time `at` (replacing a later one). */
  #armWaitTimer(at: number, now: number): void {
    this.#waitTimer?.cancel();
    this.#waitTimerAt = at;
    this.#waitTimer = this.#timer.schedule(at - now, () => {
      this.#expireWaiters();
    });
  }

  /** Refuses every waiter past its deadline (FIFO order); re-arms for the earliest remaining deadline. */
  #expireWaiters(): void {
    this.#waitTimer = undefined;
    this.#waitTimerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.monotonic();
    let next = Number.POSITIVE_INFINITY;
    for (const waiter of [...this.#waiters.live(), ...this.#validating]) {
      if (waiter.deadline <= now) {
        waiter.settle();
        if (!this.#validating.delete(waiter)) this.#tookWaiter();
        waiter.reject(acquireTimeout(this.name, waiter.timeoutMs, this.#lastCreateError));
      } else if (waiter.deadline < next) {
        next = waiter.deadline;
      }
    }
    this.#waiters.compact(this.#waiting);
    if (next !== Number.POSITIVE_INFINITY) this.#armWaitTimer(next, now);
  }

  #cancel(waiter: Waiter<R>, reason: unknown): void {
    if (waiter.settled) return;
    waiter.settle();
    if (this.#validating.delete(waiter)) this.#disarmIfNoneWaits();
    else this.#tookWaiter();
    this.#waiters.compact(this.#waiting);
    waiter.reject(acquireCancelled(this.name, reason));
  }

  #checkDrained(): void {
    if (
      this.#drained !== undefined &&
      this.#inUse === 0 &&
      this.#creating === 0 &&
      this.#destroying === 0 &&
      this.#idle.length === 0
    ) {
      const resolve = this.#drained;
      this.#drained = undefined;
      resolve();
    }
  }
}

/**
 * Creates a pool. Nothing is created before `start()` or the first `acquire`; bad options are refused with
 * `FND_PROTECT_INVALID_POLICY`.
 *
 * @example
 * ```ts
 * const pool = createPool({
 *   create: async () => { const c = new pg.Client(url); await c.connect(); return c; },
 *   destroy: (c) => c.end(),
 *   validate: async (c) => (await c.query('SELECT 1')).rowCount === 1,
 *   max: 10,
 * });
 * const rows = await pool.use((c) => c.query('SELECT now()'));
 * ```
 */
export function createPool<R>(options: PoolOptions<R>): Pool<R> {
  const resolved = resolvePoolOptions(options);
  const clock = options.clock ?? systemClock;
  return new ResourcePool(resolved, clock, options.timer ?? new CoarseTimer(clock));
}
