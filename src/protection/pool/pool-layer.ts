/**
 * The pool layer of `protect()`, innermost: each attempt borrows a resource from the policy's pool (the sizes
 * from its `pool` entry, the resource — `create`, `destroy`, `validate` — from code: `protect(name, { pool })`),
 * finds it in `attempt.resource`, and gives it back when its function settles (an error the resource's
 * `broken` predicate recognizes destroys it instead). The wait for a resource is cancelled with the attempt
 * (its timeout, the deadline, the caller's signal). New sizes build a new pool for new attempts; the old one
 * is drained (lent resources are destroyed as they come back).
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import type { CallState } from '../call-state.js';
import type { CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';
import type { Layer, LayerStatus } from '../types.js';
import type { Lease } from './lease.js';
import { createPool, type Pool, type PoolStatus } from './pool.js';

/** The code side of a policy's pool: how to make, check and end one resource. */
export interface PoolResource<R> {
  /** Creates one resource (a failure backs off; see docs/protection.md, "Pool"). */
  readonly create: () => R | PromiseLike<R>;
  /** Ends one resource. */
  readonly destroy: (resource: R) => void | PromiseLike<void>;
  /** Checks an idle resource before it is lent (false or a throw: destroyed, another one is lent). */
  readonly validate?: (resource: R) => boolean | PromiseLike<boolean>;
  /** An error of the function that means the resource is broken: it is destroyed, not given back. */
  readonly broken?: (error: unknown) => boolean;
}

/** Options of {@link createPoolLayer}: the `pool` entry of a named policy plus `resource` from code. */
export interface PoolLayerOptions {
  /** Permanent resources (integer ≥ 1). Default 10. */
  readonly max?: number;
  /** Resources kept even when idle, once the pool started (integer, 0 to `max`). Default 0. */
  readonly min?: number;
  /** Extra resources created when all `max` are lent and an attempt waits (integer ≥ 0). Default 0. */
  readonly maxOverflow?: number;
  /** How long an attempt waits for a resource, ms (≥ 0). Default 30 000. */
  readonly acquireTimeoutMs?: number;
  /** An idle resource above `min` is destroyed after this long, ms (positive or `Infinity`). Default 30 s. */
  readonly idleTimeoutMs?: number;
  /** A resource is destroyed once this old, ms (positive or `Infinity`). Default `Infinity`. */
  readonly maxLifetimeMs?: number;
  /** Attempts allowed to wait when the pool is full (integer ≥ 0 or `Infinity`, the default). */
  readonly maxWaiting?: number;
  /** The resource (code-only). Without it the layer is refused. */
  readonly resource?: PoolResource<unknown>;
}

/** What the layer needs besides its options. */
export interface PoolLayerContext {
  /** The policy's name: the pool's name in errors and status. */
  readonly policy: string;
  /** The clock of the pool's timeouts, idle sweep and resource ages. */
  readonly clock: Clock;
  /** The shared coarse timer for acquire timeouts, backoff and the idle sweep (default: one of its own). */
  readonly timer?: CoarseTimer;
}

/** The pool layer, reconfigurable at run time. */
export interface PoolLayer extends Layer {
  /** Always `pool`: the layer's kind in the pipeline order. */
  readonly kind: 'pool';
  /** New sizes or resource: a new pool for new attempts; the old one drains. */
  configure(options: PoolLayerOptions): void;
  /** The pool attempts borrow from now. */
  pool(): Pool<unknown>;
  /** Drains the pool (and any still draining): resolves once every resource is destroyed. */
  drain(): Promise<void>;
  /**
   * After {@link PoolLayer.drain}: a new pool of the same options for later attempts (its resources created
   * anew by the same code). Does nothing while the pool is not drained.
   */
  reopen(): void;
  /** The live counts of the current pool (sizes, idle, in use, waiting, failures), without its name. */
  status(): LayerStatus & { readonly kind: 'pool' } & Omit<PoolStatus, 'name'>;
}

function resourceOf(options: PoolLayerOptions, policy: string): PoolResource<unknown> {
  const resource = options.resource;
  if (
    resource === undefined ||
    typeof resource.create !== 'function' ||
    typeof resource.destroy !== 'function'
  ) {
    throw invalidPolicy(
      `Policy "${policy}" has a pool: give its resource in code — protect("${policy}", { pool: { create, destroy } })`,
      { option: 'pool.resource' },
    );
  }
  return resource;
}

function sameSizes(a: PoolLayerOptions, b: PoolLayerOptions): boolean {
  return (
    a.max === b.max &&
    a.min === b.min &&
    a.maxOverflow === b.maxOverflow &&
    a.acquireTimeoutMs === b.acquireTimeoutMs &&
    a.idleTimeoutMs === b.idleTimeoutMs &&
    a.maxLifetimeMs === b.maxLifetimeMs &&
    a.maxWaiting === b.maxWaiting &&
    a.resource === b.resource
  );
}

/** Creates a pool layer. Bad options throw `FND_PROTECT_INVALID_POLICY` naming the option. */
export function createPoolLayer(options: PoolLayerOptions, context: PoolLayerContext): PoolLayer {
  const { policy } = context;
  const build = (next: PoolLayerOptions): Pool<unknown> => {
    const resource = resourceOf(next, policy);
    const { max = 10, min, maxOverflow, acquireTimeoutMs, idleTimeoutMs, maxLifetimeMs, maxWaiting } = next;
    return createPool<unknown>({
      name: policy,
      create: resource.create,
      destroy: resource.destroy,
      ...(resource.validate === undefined ? {} : { validate: resource.validate }),
      max,
      ...(min === undefined ? {} : { min }),
      ...(maxOverflow === undefined ? {} : { maxOverflow }),
      ...(acquireTimeoutMs === undefined ? {} : { acquireTimeoutMs }),
      ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
      ...(maxLifetimeMs === undefined ? {} : { maxLifetimeMs }),
      ...(maxWaiting === undefined ? {} : { maxWaiting }),
      clock: context.clock,
      ...(context.timer === undefined ? {} : { timer: context.timer }),
    });
  };
  let current = options;
  let pool = build(options);
  let broken = options.resource?.broken;
  const draining = new Set<Promise<void>>();

  const retire = (old: Pool<unknown>): void => {
    const done = old.drain();
    draining.add(done);
    void done.then(() => draining.delete(done));
  };

  const give = (lease: Lease<unknown>, call: CallState, error: unknown, failed: boolean): void => {
    call.resource = undefined;
    if (failed && broken !== undefined && broken(error)) lease.destroy();
    else lease.release();
  };

  return {
    kind: 'pool',
    configure(next: PoolLayerOptions): void {
      if (sameSizes(current, next)) return;
      const fresh = build(next);
      const old = pool;
      pool = fresh;
      current = next;
      broken = next.resource?.broken;
      retire(old);
    },
    pool: () => pool,
    async drain(): Promise<void> {
      await Promise.all([pool.drain(), ...draining]);
    },
    reopen(): void {
      if (pool.status().drained) pool = build(current);
    },
    status() {
      const counts: Record<string, unknown> = { ...pool.status() };
      delete counts.name;
      return { kind: 'pool', ...(counts as Omit<PoolStatus, 'name'>) };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      // The wait ends with the attempt (its signal: timeout, deadline, caller) and never outlives the deadline.
      const remaining = call.remaining();
      const acquired = pool.acquire(
        remaining === Number.POSITIVE_INFINITY
          ? { signal: call.signal }
          : { signal: call.signal, timeoutMs: Math.max(0, remaining) },
      );
      return acquired.then((lease) => {
        if (call.aborted) {
          // Aborted between the grant and this turn: the function must not start.
          lease.release();
          throw call.reason ?? new Error('aborted');
        }
        call.resource = lease.resource;
        return next(call).then(
          (value) => {
            give(lease, call, undefined, false);
            return value;
          },
          (error: unknown) => {
            give(lease, call, error, true);
            throw error;
          },
        );
      });
    },
  };
}
