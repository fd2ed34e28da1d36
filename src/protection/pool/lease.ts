/**
 * A lease: one resource lent by a pool until `release()` (back to the pool) or `destroy()` (the resource is
 * broken: the pool destroys it and creates another when needed). Both are idempotent: only the first call
 * of either counts.
 *
 * @module
 */

/** One resource lent by a pool. */
export interface Lease<R> {
  /** The lent resource. Do not use it after `release()` or `destroy()`. */
  readonly resource: R;
  /** Gives the resource back (to the next waiter, or to the idle set). */
  release(): void;
  /** Gives the resource back broken: it is destroyed. */
  destroy(): void;
  /** `release()`: `using lease = await pool.acquire()` gives the resource back at the end of the block. */
  [Symbol.dispose](): void;
}

/** A pooled resource with its ages (monotonic ms). */
export interface PoolEntry<R> {
  readonly resource: R;
  readonly createdAt: number;
  idleSince: number;
}

/** What a lease reports to its pool. */
export interface LeaseOwner<R> {
  leaseReturned(entry: PoolEntry<R>): void;
  leaseDestroyed(entry: PoolEntry<R>): void;
}

/** The lease handed out by the pool. */
export class PoolLease<R> implements Lease<R> {
  readonly #owner: LeaseOwner<R>;
  readonly #entry: PoolEntry<R>;
  #done = false;

  constructor(owner: LeaseOwner<R>, entry: PoolEntry<R>) {
    this.#owner = owner;
    this.#entry = entry;
  }

  /** The lent resource. */
  get resource(): R {
    return this.#entry.resource;
  }

  /** Gives the resource back (first call of `release`/`destroy` only). */
  release(): void {
    if (this.#done) return;
    this.#done = true;
    this.#owner.leaseReturned(this.#entry);
  }

  /** Gives the resource back broken (first call of `release`/`destroy` only). */
  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.#owner.leaseDestroyed(this.#entry);
  }

  /** `release()` (for `using`). */
  [Symbol.dispose](): void {
    this.release();
  }
}
