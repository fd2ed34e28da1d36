/**
 * The options of a resource pool ({@link createPool}) and their validation: every bad option is refused with
 * `FND_PROTECT_INVALID_POLICY` naming the option (never its value).
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import type { CoarseTimer } from '../coarse-timer.js';
import { invalidPolicy } from '../errors.js';

/** How creation failures back off: `initialMs`, doubled after each consecutive failure, capped at `maxMs`. */
export interface PoolCreateRetry {
  /** The wait after the first failed creation, ms (positive). Default 100. */
  readonly initialMs: number;
  /** The longest wait between creations, ms (≥ `initialMs`). Default 10 000. */
  readonly maxMs: number;
}

/** Options of {@link createPool}. */
export interface PoolOptions<R> {
  /** Names the pool in errors and status (`context.policy`). Default `'pool'`. */
  readonly name?: string;
  /** Creates one resource (a connection…). A rejection backs off (see `createRetry`); it is never retried in a loop. */
  readonly create: () => R | PromiseLike<R>;
  /** Destroys one resource. Its errors are counted (`status().destroyFailures`) and otherwise ignored. */
  readonly destroy: (resource: R) => void | PromiseLike<void>;
  /**
   * Checks an idle resource before it is lent (validation on borrow). `false` or a throw: the resource is
   * destroyed and the borrower gets another one. Fresh resources are not validated.
   */
  readonly validate?: (resource: R) => boolean | PromiseLike<boolean>;
  /** Resources kept even when idle, once the pool started (integer ≥ 0, ≤ `max`). Default 0. */
  readonly min?: number;
  /** Permanent resources (poolboy's `size`): integer ≥ 1. */
  readonly max: number;
  /**
   * Extra resources created when all `max` are lent and someone waits (poolboy's `max_overflow`): integer ≥ 0,
   * default 0. An overflow resource is destroyed when it comes back and nobody waits for it.
   */
  readonly maxOverflow?: number;
  /** How long `acquire` waits by default, ms (≥ 0). Default 30 000. */
  readonly acquireTimeoutMs?: number;
  /** An idle resource above `min` is destroyed after this long, ms (positive or `Infinity`). Default 30 s. */
  readonly idleTimeoutMs?: number;
  /**
   * A resource is destroyed (when idle or returned) once this old, ms (positive or `Infinity`). Default
   * `Infinity`.
   */
  readonly maxLifetimeMs?: number;
  /** Backoff of failed creations. Default `{ initialMs: 100, maxMs: 10_000 }`. */
  readonly createRetry?: PoolCreateRetry;
  /**
   * Callers allowed to wait when every resource is lent and no more can be created (integer ≥ 0 or
   * `Infinity`, the default). Beyond it, `acquire` is refused at once with `FND_PROTECT_BULKHEAD_FULL`.
   */
  readonly maxWaiting?: number;
  /** Time source and timers. Default the system clock. */
  readonly clock?: Clock;
  /** The shared coarse timer for acquire timeouts, backoff and the idle sweep. Default one of its own. */
  readonly timer?: CoarseTimer;
}

/** Options after validation, with their defaults. */
export interface ResolvedPoolOptions<R> {
  readonly name: string;
  readonly create: () => R | PromiseLike<R>;
  readonly destroy: (resource: R) => void | PromiseLike<void>;
  readonly validate: ((resource: R) => boolean | PromiseLike<boolean>) | undefined;
  readonly min: number;
  readonly max: number;
  readonly maxOverflow: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly createRetry: PoolCreateRetry;
  readonly maxWaiting: number;
}

function integer(value: unknown, option: string, least: number, infinite = false): number {
  if (
    typeof value !== 'number' ||
    value < least ||
    !(Number.isInteger(value) || (infinite && value === Number.POSITIVE_INFINITY))
  ) {
    throw invalidPolicy(`${option} must be an integer ≥ ${String(least)}${infinite ? ' or Infinity' : ''}`, {
      option,
    });
  }
  return value;
}

function duration(value: unknown, option: string, positive: boolean, infinite: boolean): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (positive ? value <= 0 : value < 0) ||
    (!infinite && !Number.isFinite(value))
  ) {
    throw invalidPolicy(
      `${option} must be a ${infinite ? '' : 'finite '}number ${positive ? '> 0' : '≥ 0'} (ms)`,
      { option },
    );
  }
  return value;
}

function fn(value: unknown, option: string, optional: boolean): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'function') throw invalidPolicy(`${option} must be a function`, { option });
}

/** Checks `options`, throwing `FND_PROTECT_INVALID_POLICY` naming the first bad option. */
export function resolvePoolOptions<R>(options: PoolOptions<R>): ResolvedPoolOptions<R> {
  if (typeof options !== 'object') throw invalidPolicy('pool options are required', { option: 'pool' });
  const name = options.name ?? 'pool';
  if (typeof name !== 'string' || name === '') {
    throw invalidPolicy('pool.name must be a non-empty string', { option: 'pool.name' });
  }
  fn(options.create, 'pool.create', false);
  fn(options.destroy, 'pool.destroy', false);
  fn(options.validate, 'pool.validate', true);
  const max = integer(options.max, 'pool.max', 1);
  const min = integer(options.min ?? 0, 'pool.min', 0);
  if (min > max) throw invalidPolicy('pool.min must be ≤ pool.max', { option: 'pool.min' });
  const retry = options.createRetry ?? { initialMs: 100, maxMs: 10_000 };
  if (typeof retry !== 'object') {
    throw invalidPolicy('pool.createRetry must be { initialMs, maxMs }', { option: 'pool.createRetry' });
  }
  const initialMs = duration(retry.initialMs, 'pool.createRetry.initialMs', true, false);
  const maxMs = duration(retry.maxMs, 'pool.createRetry.maxMs', true, false);
  if (maxMs < initialMs) {
    throw invalidPolicy('pool.createRetry.maxMs must be ≥ pool.createRetry.initialMs', {
      option: 'pool.createRetry.maxMs',
    });
  }
  return {
    name,
    create: options.create,
    destroy: options.destroy,
    validate: options.validate,
    min,
    max,
    maxOverflow: integer(options.maxOverflow ?? 0, 'pool.maxOverflow', 0),
    acquireTimeoutMs: duration(options.acquireTimeoutMs ?? 30_000, 'pool.acquireTimeoutMs', false, false),
    idleTimeoutMs: duration(options.idleTimeoutMs ?? 30_000, 'pool.idleTimeoutMs', true, true),
    maxLifetimeMs: duration(
      options.maxLifetimeMs ?? Number.POSITIVE_INFINITY,
      'pool.maxLifetimeMs',
      true,
      true,
    ),
    createRetry: { initialMs, maxMs },
    maxWaiting: integer(options.maxWaiting ?? Number.POSITIVE_INFINITY, 'pool.maxWaiting', 0, true),
  };
}

/** The wait before the next creation after `failures` consecutive failures (≥ 1). */
export function createBackoffMs(retry: PoolCreateRetry, failures: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 52);
  return Math.min(retry.maxMs, retry.initialMs * 2 ** exponent);
}
