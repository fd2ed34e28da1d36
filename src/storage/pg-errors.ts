/**
 * Classification of errors raised by `pg`: a lost or refused connection is `FND_STORAGE_UNAVAILABLE`
 * (retry later), anything else the server rejected is `FND_STORAGE_QUERY_FAILED`. The original error is kept
 * as the cause.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../errors/foundation-error.js';

/** Socket-level error codes meaning the server cannot be reached or the connection broke. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
]);

/**
 * SQLSTATEs meaning the server is (going) away or refuses connections for now: `57P01` admin_shutdown,
 * `57P02` crash_shutdown, `57P03` cannot_connect_now, `53300` too_many_connections; class `08` (connection
 * exception) is matched separately.
 */
const UNAVAILABLE_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/** SQLSTATEs that make the store unusable until someone fixes the configuration (no retry helps). */
const MISCONFIGURED_STATES: ReadonlySet<string> = new Set(['3D000', '3F000', '28000', '28P01']);

/** Messages `pg` and `pg-pool` use for connection problems (they carry no code). */
const CONNECTION_MESSAGES: readonly RegExp[] = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /query read timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /client was closed and is not queryable/i,
  /the server does not support ssl/i,
];

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
  readonly constraint?: unknown;
  readonly table?: unknown;
  readonly column?: unknown;
  readonly severity?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}

function codeOf(error: ErrorLike | undefined): string | undefined {
  return typeof error?.code === 'string' ? error.code : undefined;
}

function messageOf(value: unknown): string {
  const e = asErrorLike(value);
  if (typeof e?.message === 'string') return e.message;
  return String(value);
}

/** Whether the error (or one inside an AggregateError) is a connection problem. */
function isConnectionProblem(value: unknown, depth = 0): boolean {
  const e = asErrorLike(value);
  const code = codeOf(e);
  if (
    code !== undefined &&
    (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))
  ) {
    return true;
  }
  const message = messageOf(value);
  if (CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (depth < 3 && Array.isArray(e?.errors)) {
    return e.errors.some((inner: unknown) => isConnectionProblem(inner, depth + 1));
  }
  return false;
}

/**
 * Maps an error thrown by `pg` (or by a socket under it) to a FoundationError:
 *
 * - connection refused / reset / timed out, host not found, SQLSTATE class `08`, `57P01` (admin shutdown,
 *   e.g. `pg_terminate_backend`), `57P02`, `57P03`, `53300`, "Connection terminated…" →
 *   `FND_STORAGE_UNAVAILABLE` (retry with backoff);
 * - unknown database or schema, failed authentication (`3D000`, `3F000`, `28000`, `28P01`) →
 *   `FND_STORAGE_UNAVAILABLE` with `no_retry`;
 * - anything else → `FND_STORAGE_QUERY_FAILED` with the SQLSTATE, constraint, table and column in the context
 *   (never the row values of the server's `detail`).
 *
 * A FoundationError is returned unchanged.
 */
export function classifyPgError(error: unknown): FoundationError {
  if (isFoundationError(error)) return error;
  const e = asErrorLike(error);
  const code = codeOf(e);
  const message = messageOf(error);
  if (isConnectionProblem(error)) {
    return new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: `PostgreSQL is unavailable: ${message}`,
      context: code === undefined ? {} : { code },
      cause: error,
    });
  }
  if (code !== undefined && MISCONFIGURED_STATES.has(code)) {
    return new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: `PostgreSQL refused the connection: ${message}`,
      context: { code },
      cause: error,
      retryStrategy: 'no_retry',
    });
  }
  const context: Record<string, unknown> = {};
  if (code !== undefined) context.sqlState = code;
  for (const key of ['constraint', 'table', 'column'] as const) {
    const value = e?.[key];
    if (typeof value === 'string') context[key] = value;
  }
  return new FoundationError('FND_STORAGE_QUERY_FAILED', {
    message: `PostgreSQL statement failed: ${message}`,
    context,
    cause: error,
  });
}
