/**
 * One caller waiting for a resource: its promise's settle functions, its deadline (monotonic ms) and its
 * abort listener. The pool keeps them in a {@link WaiterQueue} and one coarse timer for all deadlines.
 *
 * @module
 */
import type { Lease } from './lease.js';

/** One caller waiting for a resource. */
export class Waiter<R> {
  /** Whether it left the queue for good (served, timed out, aborted, refused by a drain). */
  settled = false;
  /** Monotonic ms after which it stops waiting. */
  deadline = 0;
  /** Its timeout, for the error. */
  timeoutMs = 0;
  /** The caller's signal, if any, and its listener. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly resolve: (lease: Lease<R>) => void;
  readonly reject: (error: unknown) => void;

  constructor(resolve: (lease: Lease<R>) => void, reject: (error: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Leaves the queue for good: removes its abort listener. */
  settle(): void {
    this.settled = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}
