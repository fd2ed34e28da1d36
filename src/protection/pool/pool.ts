/**
 * The resource pool: `acquire` / `release` / `use(fn)`, `min` warm resources, `max` permanent ones and
 * `maxOverflow` temporary ones (poolboy's semantics: an overflow resource is destroyed when it comes back and
 * nobody waits), FIFO waiters with a timeout and an `AbortSignal`, validation on borrow of every resource that
 * was used or sat idle, idle eviction and a maximum lifetime, creation failures that back off (doubling, capped)
 * instead of spinning, and `drain()`. Timers: acquire timeouts, the backoff and the idle sweep all ride on one
 * shared {@link CoarseTimer}; no timer per acquire, and the sweep is armed only while resources are idle.
 * The caller's function runs in the caller's async context (`use` awaits in the caller's own chain).
 * This file holds the pool's accounting (lent, created, destroyed), creation with backoff and the drain; the
 * waiters live in `pool-waiters.ts`, the idle resources and their sweep in `pool-idle.ts`.
 *
 * @module
 */
import { type Clock, systemClock } from '../../kernel/clock.js';
import { type CoarseTimeout, CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';
import { type Lease, type LeaseOwner, type PoolEntry, PoolLease } from './lease.js';
import { acquireCancelled, poolDrained, poolFull } from './pool-errors.js';
import { IdleResources } from './pool-idle.js';
import {
  type PoolOptions,
  type ResolvedPoolOptions,
  createBackoffMs,
  resolvePoolOptions,
} from './pool-options.js';
import type { AcquireOptions, Pool, PoolStatus } from './pool-types.js';
import { PoolWaiters } from './pool-waiters.js';
import type { Waiter } from './waiter.js';

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
  readonly #idle: IdleResources<R>;
  readonly #waiters: PoolWaiters<R>;
  #inUse = 0;
  #creating = 0;
  #destroying = 0;
  #failures = 0;
  #destroyFailures = 0;
  #lastCreateError: unknown;
  #backoff: CoarseTimeout | undefined;
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
    this.#idle = new IdleResources<R>(options, clock, timer, {
      discard: (entry) => {
        this.#discard(entry);
      },
      busy: () => this.#inUse + this.#creating,
      closed: () => this.#closed,
      swept: () => {
        this.#grow();
      },
    });
    this.#waiters = new PoolWaiters<R>(options.name, clock, timer, () => this.#lastCreateError);
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
    if (this.#waiters.waiting === 0 && this.#o.validate === undefined) {
      const entry = this.#idle.take();
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
      this.#waiters.waiting >= this.#o.maxWaiting
    ) {
      return Promise.reject(poolFull(this.name, this.#capacity, this.#o.maxWaiting));
    }
    return new Promise<Lease<R>>((resolve, reject) => {
      this.#waiters.add(resolve, reject, timeoutMs, signal);
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
    this.#waiters.rejectAll(poolDrained(this.name));
    this.#backoff?.cancel();
    this.#backoff = undefined;
    for (const entry of this.#idle.clear()) this.#discard(entry);
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
      waiting: this.#waiters.waiting,
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
    if (this.#closed || this.#idle.expired(entry)) {
      this.#inUse -= 1;
      this.#discard(entry);
      this.#grow();
      return;
    }
    const waiter = this.#waiters.take();
    if (waiter !== undefined) {
      // Handed over directly: stays in use.
      this.#lend(waiter, entry);
      return;
    }
    this.#inUse -= 1;
    if (this.#idle.length + this.#inUse + 1 > this.#o.max) this.#discard(entry);
    else this.#idle.add(entry);
  }

  /** A lease gave its resource back broken. */
  leaseDestroyed(entry: PoolEntry<R>): void {
    this.#inUse -= 1;
    this.#discard(entry);
    this.#grow();
  }

  /** Lends idle resources to waiters, then creates what is missing. */
  #dispatch(): void {
    while (this.#waiters.waiting > 0) {
      const entry = this.#idle.take();
      if (entry === undefined) break;
      const waiter = this.#waiters.take();
      if (waiter === undefined) {
        this.#idle.putBack(entry);
        break;
      }
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
    this.#waiters.validating(waiter);
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
    this.#waiters.validated(waiter);
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
    if (!waiter.settled) this.#waiters.requeue(waiter);
    this.#dispatch();
  }

  #grant(waiter: Waiter<R>, entry: PoolEntry<R>): void {
    waiter.settle();
    waiter.resolve(new PoolLease(this, entry));
  }

  /**
   * Starts the creations the waiters (and `min`) need, within capacity, unless a backoff is pending; after a
   * failed creation, a single one until a creation succeeds again.
   */
  #grow(): void {
    if (this.#closed || this.#backoff !== undefined) return;
    let want = this.#waiters.waiting - this.#creating;
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
    const waiter = this.#waiters.take();
    if (waiter !== undefined) {
      // Fresh: lent without validation.
      this.#inUse += 1;
      this.#grant(waiter, entry);
    } else if (this.#idle.length + this.#inUse + 1 > this.#o.max) {
      this.#discard(entry);
    } else {
      this.#idle.add(entry);
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
