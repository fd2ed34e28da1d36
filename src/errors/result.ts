/**
 * `Result<T>`: success or a FoundationError as a value, for APIs that return failures instead of throwing.
 * A discriminated union on `ok`, so `if (r.ok) r.value; else r.error` narrows.
 *
 * @module
 */
import type { ErrorCode } from './catalog.js';
import { FoundationError, type FoundationErrorOptions } from './foundation-error.js';
import { wrapError } from './wrap.js';

/** A success carrying `value`. */
export interface Ok<T> {
  /** Always `true`: the operation succeeded. */
  readonly ok: true;
  /** The operation's value. */
  readonly value: T;
}

/** A failure carrying a FoundationError. */
export interface Err<E extends FoundationError = FoundationError> {
  /** Always `false`: the operation failed. */
  readonly ok: false;
  /** Why the operation failed. */
  readonly error: E;
}

/** Success (`{ ok: true, value }`) or failure (`{ ok: false, error }`). */
export type Result<T, E extends FoundationError = FoundationError> = Ok<T> | Err<E>;

/** A success without a value. */
export function ok(): Ok<undefined>;
/** A success carrying `value`. */
export function ok<T>(value: T): Ok<T>;
export function ok<T>(value?: T): Ok<T | undefined> {
  return { ok: true, value };
}

/** A failure carrying `error`. */
export function err<E extends FoundationError>(error: E): Err<E>;
/** A failure carrying `new FoundationError(code, options)`. */
export function err(code: ErrorCode, options?: FoundationErrorOptions): Err;
export function err(error: FoundationError | ErrorCode, options?: FoundationErrorOptions): Err {
  return { ok: false, error: typeof error === 'string' ? new FoundationError(error, options) : error };
}

/**
 * Runs `fn` and captures a throw as a failure (via {@link wrapError}, with `code` when given). For a function
 * that returns a promise use {@link tryCatchAsync}: this one would return the promise as the value.
 */
export function tryCatch<T>(fn: () => T, code?: ErrorCode): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: wrapError(e, code) };
  }
}

/** Awaits `fn()` and captures a synchronous throw or a rejection as a failure (see {@link tryCatch}). */
export async function tryCatchAsync<T>(fn: () => T | PromiseLike<T>, code?: ErrorCode): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: wrapError(e, code) };
  }
}

/** The value of a success; throws the error of a failure. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw result.error;
}

/** The value of a success, or `fallback` for a failure. */
export function unwrapOr<T, F>(result: Result<T>, fallback: F): T | F {
  return result.ok ? result.value : fallback;
}
