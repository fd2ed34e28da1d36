/**
 * The pool's public shapes: the {@link Pool} interface, the options of one `acquire` and the live counts.
 *
 * @module
 */
import type { Lease } from './lease.js';

/** Options of one `acquire`. */
export interface AcquireOptions {
  /** Aborts the wait: the acquire rejects with `FND_PROTECT_CANCELLED`. */
  readonly signal?: AbortSignal;
  /** How long to wait, ms (≥ 0). Default the pool's `acquireTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** A pool's live counts. */
export interface PoolStatus {
  /** The pool's name (option `name`; in a policy, the policy's name). */
  readonly name: string;
  /** Resources that exist (idle + in use, overflow included; creations in flight not included). */
  readonly size: number;
  /** Resources ready to lend, waiting in the pool. */
  readonly idle: number;
  /** Lent resources (and those being validated for a borrower). */
  readonly inUse: number;
  /** Callers waiting for a resource. */
  readonly waiting: number;
  /** Resources beyond `max` (at most `maxOverflow`). */
  readonly overflow: number;
  /** Creations in flight. */
  readonly creating: number;
  /** Consecutive failed creations (0 after a success). */
  readonly createFailures: number;
  /** Destroys that threw or rejected, since the pool was created. */
  readonly destroyFailures: number;
  /** Resources kept even when idle (option `min`). */
  readonly min: number;
  /** Permanent resources (option `max`). */
  readonly max: number;
  /** Extra resources allowed beyond `max` while callers wait (option `maxOverflow`). */
  readonly maxOverflow: number;
  /** Whether `drain()` was called. */
  readonly drained: boolean;
}

/** A pool of resources of type `R`. */
export interface Pool<R> {
  /** Names the pool in errors and status (option `name`, default `pool`). */
  readonly name: string;
  /** Creates the `min` warm resources in the background (the first `acquire` does it too). */
  start(): void;
  /**
   * Lends a resource: an idle one (validated first), a new one when below capacity, else the caller waits in
   * FIFO order. Rejects with `FND_PROTECT_TIMEOUT` after `timeoutMs` (cause: the last creation failure),
   * `FND_PROTECT_BULKHEAD_FULL` when full and `maxWaiting` callers already wait, `FND_PROTECT_CANCELLED` when
   * `signal` aborts, `FND_SYSTEM_SERVICE_UNAVAILABLE` once drained.
   */
  acquire(options?: AcquireOptions): Promise<Lease<R>>;
  /**
   * Runs `fn` with a lent resource and releases it when `fn` settles (also when it throws). `fn` runs in the
   * caller's async context (AsyncLocalStorage stores are the caller's).
   */
  use<T>(fn: (resource: R) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T>;
  /**
   * Stops lending: waiters and later acquires are refused with `FND_SYSTEM_SERVICE_UNAVAILABLE`, idle
   * resources are destroyed, lent ones when they come back; resolves once every resource is destroyed and no
   * creation is in flight. Calling it again returns the same promise.
   */
  drain(): Promise<void>;
  /** Live counts. */
  status(): PoolStatus;
  /** `drain()` (for `await using`). */
  [Symbol.asyncDispose](): Promise<void>;
}
