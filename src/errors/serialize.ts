/**
 * Error serialization: {@link toLogObject} for log lines (everything, cause chain included),
 * {@link toProblemDetails} for HTTP responses (RFC 9457 `application/problem+json`; no stack, no cause), and
 * {@link fromSerialized} to rebuild an error from a log object (e.g. one read back from a job table).
 *
 * Both serializers produce JSON-safe values and redact secrets in every context (see `json-safe.ts`): keys that
 * look like passwords, tokens, API keys, cookies or credentials are replaced by `'[REDACTED]'`.
 *
 * @module
 */
import {
  ERROR_CATALOG,
  isErrorCode,
  type ErrorCode,
  type ErrorSeverity,
  type RetryStrategy,
} from './catalog.js';
import { FoundationError, isFoundationError, type FoundationErrorOptions } from './foundation-error.js';
import { toJsonSafe, toJsonSafeRecord, type JsonValue } from './json-safe.js';
import { wrapError } from './wrap.js';

/** The media type of {@link toProblemDetails} bodies. */
export const PROBLEM_JSON_CONTENT_TYPE = 'application/problem+json';

/** Prefix of the problem `type` URI; the code follows it. */
export const PROBLEM_TYPE_PREFIX = 'urn:elixirscope:foundation:error:';

/** How many causes {@link toLogObject} serializes before it writes a `truncated` marker. */
export const MAX_CAUSE_DEPTH = 5;

/** A FoundationError as a JSON-safe log object. */
export interface SerializedFoundationError {
  /** Always `foundation`: tells this shape from a foreign error and a plain value. */
  readonly kind: 'foundation';
  /** The error's class name, `FoundationError`. */
  readonly name: string;
  /** The catalog code, e.g. `FND_CONFIG_INVALID`. */
  readonly code: string;
  /** The catalog's numeric code of `code`. */
  readonly numericCode: number;
  /** The catalog category of `code`, e.g. `config`. */
  readonly category: string;
  /** The catalog subcategory of `code`. */
  readonly subcategory: string;
  /** How serious the error is (`high` and `critical` should be escalated). */
  readonly severity: ErrorSeverity;
  /** Whether and how the failed operation may be retried. */
  readonly retryStrategy: RetryStrategy;
  /** Suggested delay before a retry, when the strategy retries. */
  readonly retryAfterMs?: number;
  /** The HTTP status the error is served with. */
  readonly httpStatus: number;
  /** The error's message (this occurrence). */
  readonly message: string;
  /** The error's context: JSON-safe, secrets redacted. */
  readonly context: Readonly<Record<string, JsonValue>>;
  /** The correlation id of the context the error was created in. */
  readonly correlationId?: string;
  /** The id of the operation the error was created in. */
  readonly operationId?: string;
  /** ISO 8601 creation time. */
  readonly timestamp: string;
  /** The stack trace, when stacks are included. */
  readonly stack?: string;
  /** The serialized cause, when the error has one. */
  readonly cause?: SerializedCause;
}

/** Any other `Error` in a cause chain. Only name, message, code and stack are kept (never its other fields). */
export interface SerializedForeignError {
  /** Always `error`: an `Error` that is not a `FoundationError`. */
  readonly kind: 'error';
  /** The error's `name`, e.g. `TypeError`. */
  readonly name: string;
  /** The error's message. */
  readonly message: string;
  /** The error's `code` (a Node.js or driver code such as `ECONNRESET`), when it has one. */
  readonly code?: string | number;
  /** The stack trace, when stacks are included. */
  readonly stack?: string;
  /** The serialized cause, when the error has one. */
  readonly cause?: SerializedCause;
  /** The inner errors of an `AggregateError` (at most 10). */
  readonly errors?: readonly SerializedCause[];
}

/** A cause that is not an `Error` (a thrown string, a rejection value). */
export interface SerializedValueCause {
  /** Always `value`: the cause was not an `Error`. */
  readonly kind: 'value';
  /** The thrown value, made JSON-safe. */
  readonly value: JsonValue;
}

/** One link of a serialized cause chain; `circular` and `truncated` mark where serialization stopped. */
export type SerializedCause =
  | SerializedFoundationError
  | SerializedForeignError
  | SerializedValueCause
  | { readonly kind: 'circular' }
  | { readonly kind: 'truncated' };

/** Options of {@link toLogObject}. */
export interface LogObjectOptions {
  /** Causes serialized before a `truncated` marker. Default {@link MAX_CAUSE_DEPTH}. */
  readonly maxCauseDepth?: number;
}

interface Walk {
  readonly seen: Set<object>;
  readonly maxDepth: number;
}

function serializeFoundation(error: FoundationError, depth: number, walk: Walk): SerializedFoundationError {
  walk.seen.add(error);
  const time = new Date(error.timestamp);
  const cause = error.cause === undefined ? undefined : serializeCause(error.cause, depth + 1, walk);
  return {
    kind: 'foundation',
    name: 'FoundationError',
    code: error.code,
    numericCode: error.numericCode,
    category: error.category,
    subcategory: error.subcategory,
    severity: error.severity,
    retryStrategy: error.retryStrategy,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    httpStatus: error.httpStatus,
    message: error.message,
    context: toJsonSafeRecord(error.context),
    ...(error.correlationId === undefined ? {} : { correlationId: error.correlationId }),
    ...(error.operationId === undefined ? {} : { operationId: error.operationId }),
    timestamp: Number.isNaN(time.getTime()) ? new Date(0).toISOString() : time.toISOString(),
    ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
    ...(cause === undefined ? {} : { cause }),
  };
}

/** `value` when it is a string (foreign errors may lie about their types), else `fallback`. */
function textOf(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function serializeForeign(error: Error, depth: number, walk: Walk): SerializedForeignError {
  walk.seen.add(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause === undefined ? undefined : serializeCause(error.cause, depth + 1, walk);
  const errors =
    error instanceof AggregateError && Array.isArray(error.errors)
      ? (error.errors as unknown[]).slice(0, 10).map((inner) => serializeCause(inner, depth + 1, walk))
      : undefined;
  return {
    kind: 'error',
    name: textOf(error.name, 'Error'),
    message: textOf(error.message, ''),
    ...(typeof code === 'string' || (typeof code === 'number' && Number.isFinite(code)) ? { code } : {}),
    ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
    ...(cause === undefined ? {} : { cause }),
    ...(errors === undefined ? {} : { errors }),
  };
}

function serializeCause(cause: unknown, depth: number, walk: Walk): SerializedCause {
  if (typeof cause === 'object' && cause !== null && walk.seen.has(cause)) return { kind: 'circular' };
  if (depth > walk.maxDepth) return { kind: 'truncated' };
  try {
    if (isFoundationError(cause)) return serializeFoundation(cause, depth, walk);
    if (cause instanceof Error) return serializeForeign(cause, depth, walk);
  } catch {
    return { kind: 'value', value: '[Unserializable]' };
  }
  return { kind: 'value', value: toJsonSafe(cause) };
}

/**
 * The error as a plain JSON-safe object for a log line: every field, the timestamp as ISO 8601, the stack,
 * and the cause chain (at most `maxCauseDepth` links, cycle-safe). Anything that is not a FoundationError is
 * first wrapped with {@link wrapError}. Never throws.
 */
export function toLogObject(error: unknown, options: LogObjectOptions = {}): SerializedFoundationError {
  const walk: Walk = { seen: new Set(), maxDepth: Math.max(0, options.maxCauseDepth ?? MAX_CAUSE_DEPTH) };
  return serializeFoundation(wrapError(error), 0, walk);
}

/** An RFC 9457 problem details object, with the foundation's extension members. */
export interface ProblemDetails {
  /** `urn:elixirscope:foundation:error:<CODE>`, or `typeBaseUrl` + code. */
  readonly type: string;
  /** The catalog message of the code (the same for every occurrence). */
  readonly title: string;
  /** The HTTP status (400–599). */
  readonly status: number;
  /** The error's message (this occurrence). */
  readonly detail: string;
  /** The request path or id this problem occurred on, when given. */
  readonly instance?: string;
  /** The catalog code, e.g. `FND_CONFIG_INVALID`. */
  readonly code: string;
  /** The catalog's numeric code of `code`. */
  readonly numericCode: number;
  /** The correlation id of the request, to find its log lines and events. */
  readonly correlationId?: string;
  /** Retry hint, present only when retrying may help. */
  readonly retryAfterMs?: number;
  /** The error's context: JSON-safe, secrets redacted. */
  readonly context: Readonly<Record<string, JsonValue>>;
  /** Present only with `includeStack: true`. */
  readonly stack?: string;
}

/** Options of {@link toProblemDetails}. */
export interface ProblemDetailsOptions {
  /** The `instance` member, e.g. the request path. */
  readonly instance?: string;
  /** Include the stack trace. Default false: never in production responses. */
  readonly includeStack?: boolean;
  /** A docs URL the code is appended to (e.g. `https://example.com/errors#`), instead of the URN. */
  readonly typeBaseUrl?: string;
}

/** The HTTP status to serve for an error: its catalog status when it is a 4xx/5xx, else 500. */
export function httpStatusOf(error: { readonly httpStatus?: unknown }): number {
  const status = error.httpStatus;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : 500;
}

/**
 * The error as an RFC 9457 problem details body (serve it with {@link PROBLEM_JSON_CONTENT_TYPE} and
 * `status`). Carries no stack unless `includeStack` is set, and never the cause chain. Anything that is not a
 * FoundationError is first wrapped with {@link wrapError} (so a foreign message never reaches the client).
 */
export function toProblemDetails(error: unknown, options: ProblemDetailsOptions = {}): ProblemDetails {
  const e = wrapError(error);
  const title = isErrorCode(e.code) ? ERROR_CATALOG[e.code].message : ERROR_CATALOG.FND_UNKNOWN.message;
  return {
    type: `${options.typeBaseUrl ?? PROBLEM_TYPE_PREFIX}${e.code}`,
    title,
    status: httpStatusOf(e),
    detail: e.message,
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    code: e.code,
    numericCode: e.numericCode,
    ...(e.correlationId === undefined ? {} : { correlationId: e.correlationId }),
    ...(e.retryStrategy !== 'no_retry' && e.retryAfterMs !== undefined
      ? { retryAfterMs: e.retryAfterMs }
      : {}),
    context: toJsonSafeRecord(e.context),
    ...(options.includeStack === true && typeof e.stack === 'string' ? { stack: e.stack } : {}),
  };
}

const SEVERITIES: readonly string[] = ['low', 'medium', 'high', 'critical'];
const STRATEGIES: readonly string[] = ['no_retry', 'immediate', 'fixed_delay', 'exponential_backoff'];

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Sets a field the constructor derives (time, ids, stack) to its serialized value. */
function restore(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function rebuildCause(value: unknown, depth: number): unknown {
  const obj = asRecord(value);
  if (obj === undefined || depth > MAX_CAUSE_DEPTH * 2) return undefined;
  switch (obj.kind) {
    case 'foundation':
      return rebuild(obj, depth);
    case 'value':
      return obj.value;
    case 'error': {
      const name = optionalString(obj.name) ?? 'Error';
      const message = optionalString(obj.message) ?? '';
      const cause = rebuildCause(obj.cause, depth + 1);
      const options = cause === undefined ? undefined : { cause };
      const error = Array.isArray(obj.errors)
        ? new AggregateError(
            obj.errors.map((inner) => rebuildCause(inner, depth + 1)),
            message,
            options,
          )
        : new Error(message, options);
      restore(error, 'name', name);
      if (typeof obj.code === 'string' || typeof obj.code === 'number') restore(error, 'code', obj.code);
      restore(error, 'stack', optionalString(obj.stack) ?? `${name}: ${message}`);
      // `name`, `code` and `stack` are not enumerable on a real Error
      for (const key of ['name', 'code', 'stack']) {
        if (Object.hasOwn(error, key)) {
          Object.defineProperty(error, key, { enumerable: false });
        }
      }
      return error;
    }
    default:
      return undefined; // `circular` and `truncated` markers: the chain ends here
  }
}

function rebuild(obj: Record<string, unknown>, depth: number): FoundationError {
  const code: ErrorCode = isErrorCode(obj.code) ? obj.code : 'FND_UNKNOWN';
  const context: Record<string, unknown> = { ...toJsonSafeRecord(obj.context) };
  if (code === 'FND_UNKNOWN' && typeof obj.code === 'string' && obj.code !== 'FND_UNKNOWN') {
    context.originalCode = obj.code;
  }
  const options: FoundationErrorOptions = { context };
  const message = optionalString(obj.message);
  if (message !== undefined) options.message = message;
  if (typeof obj.severity === 'string' && SEVERITIES.includes(obj.severity)) {
    options.severity = obj.severity as ErrorSeverity;
  }
  if (typeof obj.retryStrategy === 'string' && STRATEGIES.includes(obj.retryStrategy)) {
    options.retryStrategy = obj.retryStrategy as RetryStrategy;
  }
  const cause = rebuildCause(obj.cause, depth + 1);
  if (cause !== undefined) options.cause = cause;
  const error = new FoundationError(code, options);
  const retryAfterMs =
    typeof obj.retryAfterMs === 'number' && Number.isFinite(obj.retryAfterMs) && obj.retryAfterMs >= 0
      ? obj.retryAfterMs
      : undefined;
  restore(error, 'retryAfterMs', retryAfterMs);
  restore(error, 'correlationId', optionalString(obj.correlationId));
  restore(error, 'operationId', optionalString(obj.operationId));
  const time = typeof obj.timestamp === 'string' ? Date.parse(obj.timestamp) : Number.NaN;
  if (!Number.isNaN(time)) restore(error, 'timestamp', time);
  restore(error, 'stack', optionalString(obj.stack) ?? `FoundationError: ${error.message}`);
  Object.defineProperty(error, 'stack', { enumerable: false });
  return error;
}

/**
 * Rebuilds a FoundationError from a {@link toLogObject} object (or its JSON): code, message, context, severity,
 * retry strategy and delay, correlation and operation ids, timestamp, stack and causes. Unknown codes become
 * `FND_UNKNOWN` with the original code in `context.originalCode`. Throws `FND_DATA_DESERIALIZATION_FAILED` when
 * `value` is not an object.
 */
export function fromSerialized(value: unknown): FoundationError {
  const obj = asRecord(value);
  if (obj === undefined) {
    throw new FoundationError('FND_DATA_DESERIALIZATION_FAILED', {
      message: 'A serialized error must be an object',
      context: { receivedType: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value },
    });
  }
  return rebuild(obj, 0);
}
