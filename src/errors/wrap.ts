/**
 * Turning anything thrown into a {@link FoundationError}: well-known foreign errors (aborts, timeouts, Node
 * network errors) get a meaningful catalog code; everything else becomes `FND_UNKNOWN`. The original is always
 * kept as `cause`; its message is not copied into the new error's message, because foreign messages may carry
 * hosts, paths or credentials that must not reach an HTTP response (the cause still reaches the logs).
 *
 * @module
 */
import type { ErrorCode } from './catalog.js';
import { FoundationError, isFoundationError, type FoundationErrorOptions } from './foundation-error.js';

/** Options of {@link wrapError}: those of the FoundationError constructor, except `cause` (the wrapped value). */
export type WrapOptions = Omit<FoundationErrorOptions, 'cause'>;

/** Node system error codes that mean the network failed (`FND_EXTERNAL_NETWORK_ERROR`). */
export const NETWORK_ERROR_CODES: readonly string[] = Object.freeze([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
]);

/** Node system and undici error codes that mean a timeout (`FND_EXTERNAL_TIMEOUT`). */
export const TIMEOUT_ERROR_CODES: readonly string[] = Object.freeze([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** How deep {@link classifyError} looks into `cause` chains and `AggregateError.errors`. */
const MAX_CLASSIFY_DEPTH = 4;

function field(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function classify(value: unknown, depth: number): ErrorCode | undefined {
  if (typeof value !== 'object' || value === null || depth > MAX_CLASSIFY_DEPTH) return undefined;
  if (isFoundationError(value)) return value.code;
  if (value instanceof AbortSignal) {
    return (value.aborted ? classify(value.reason, depth + 1) : undefined) ?? 'FND_SYSTEM_ABORTED';
  }
  const name = field(value, 'name');
  const code = field(value, 'code');
  if (name === 'TimeoutError') return 'FND_EXTERNAL_TIMEOUT';
  if (typeof code === 'string' && TIMEOUT_ERROR_CODES.includes(code)) return 'FND_EXTERNAL_TIMEOUT';
  if (typeof code === 'string' && NETWORK_ERROR_CODES.includes(code)) return 'FND_EXTERNAL_NETWORK_ERROR';
  const cause = field(value, 'cause');
  if (name === 'AbortError' || code === 'ABORT_ERR') {
    // Node's AbortError carries the signal's reason as its cause: a timeout signal is a timeout.
    return classify(cause, depth + 1) === 'FND_EXTERNAL_TIMEOUT'
      ? 'FND_EXTERNAL_TIMEOUT'
      : 'FND_SYSTEM_ABORTED';
  }
  const errors = field(value, 'errors');
  if (Array.isArray(errors)) {
    for (const inner of errors.slice(0, 8)) {
      const found = classify(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  // e.g. undici's `TypeError: fetch failed` whose cause is the socket error
  return classify(cause, depth + 1);
}

/**
 * The catalog code that describes a thrown value: a FoundationError's own code; `FND_SYSTEM_ABORTED` for an
 * `AbortError` or an aborted `AbortSignal`; `FND_EXTERNAL_TIMEOUT` for a `TimeoutError` (e.g. from
 * `AbortSignal.timeout`), an abort whose reason is a timeout, or `ETIMEDOUT`-like codes;
 * `FND_EXTERNAL_NETWORK_ERROR` for `ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `EPIPE` and the like. Looks through
 * `cause` chains and `AggregateError`s. Anything else is `FND_UNKNOWN`.
 */
export function classifyError(value: unknown): ErrorCode {
  return classify(value, 0) ?? 'FND_UNKNOWN';
}

/**
 * Makes a FoundationError of anything thrown, keeping the original as `cause`.
 *
 * - A FoundationError (also one from another copy of the package) without `code` is returned unchanged
 *   (`options` are then ignored).
 * - A FoundationError with `code` is wrapped: a new error with that code, the inner one as its cause.
 * - Anything else becomes a new error with `code`, or the code {@link classifyError} finds.
 *
 * @example
 * ```ts
 * try {
 *   await fetch(url, { signal: AbortSignal.timeout(2000) });
 * } catch (e) {
 *   throw wrapError(e, undefined, { context: { url } }); // FND_EXTERNAL_TIMEOUT, FND_EXTERNAL_NETWORK_ERROR, …
 * }
 * ```
 */
export function wrapError(foreign: unknown, code?: ErrorCode, options: WrapOptions = {}): FoundationError {
  if (code === undefined && isFoundationError(foreign)) return foreign;
  return new FoundationError(code ?? classifyError(foreign), { ...options, cause: foreign });
}
