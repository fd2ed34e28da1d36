/**
 * `FoundationError`: the one error type of the foundation. Every thrown or returned error carries a catalog
 * code, its numeric code, category, severity, retry strategy, context, cause, correlation id and timestamp.
 *
 * @module
 */
import {
  ERROR_CATALOG,
  type ErrorCategory,
  type ErrorCode,
  type ErrorSeverity,
  type RetryStrategy,
} from './catalog.js';
import { currentContext } from './context.js';

/**
 * Brand that identifies a FoundationError across duplicate copies of this package in one process
 * (`instanceof` fails across copies; the registered symbol does not).
 */
export const FOUNDATION_ERROR_BRAND: unique symbol = Symbol.for('@elixirscope/foundation:FoundationError');

/** Options accepted by the {@link FoundationError} constructor. */
export interface FoundationErrorOptions {
  /** Human message; defaults to the catalog message. Never put secrets here. */
  message?: string;
  /** Structured details (names, limits, ids). Serialized in logs and in problem+json. */
  context?: Record<string, unknown>;
  /** The error that caused this one (kept as the standard `cause`). */
  cause?: unknown;
  /** Overrides the catalog severity. */
  severity?: ErrorSeverity;
  /** Overrides the catalog retry strategy. */
  retryStrategy?: RetryStrategy;
  /** A server's or policy's hint of when to retry, in ms (e.g. from `retry-after`). */
  retryAfterMs?: number;
  /** Overrides the correlation id taken from the current context. */
  correlationId?: string;
}

/**
 * The foundation's error. Construct with a catalog code; everything else derives from the catalog and the
 * current context.
 *
 * @example
 * ```ts
 * throw new FoundationError('FND_REGISTRY_NOT_FOUND', { context: { namespace: 'app', name: 'db' } });
 * ```
 */
export class FoundationError extends Error {
  /** Stable string code from the catalog. */
  readonly code: ErrorCode;
  /** Hierarchical numeric code (e.g. 2503). */
  readonly numericCode: number;
  /** Category (config, system, data, external, unknown). */
  readonly category: ErrorCategory;
  /** Subcategory (structure, validation, discovery, …). */
  readonly subcategory: string;
  /** Severity; `high` and `critical` should be escalated. */
  readonly severity: ErrorSeverity;
  /** How a caller should retry. */
  readonly retryStrategy: RetryStrategy;
  /** Delay hint before a retry, in ms; `undefined` when retrying cannot help. */
  readonly retryAfterMs: number | undefined;
  /** Structured details. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Correlation id of the context the error was created in, if any. */
  readonly correlationId: string | undefined;
  /** Operation id of the context the error was created in, if any. */
  readonly operationId: string | undefined;
  /** Wall-clock time of creation, ms since the epoch. */
  readonly timestamp: number;
  /** HTTP status to use when serving this error. */
  readonly httpStatus: number;
  /** @internal cross-copy brand. */
  readonly [FOUNDATION_ERROR_BRAND] = true;

  constructor(code: ErrorCode, options: FoundationErrorOptions = {}) {
    const spec = ERROR_CATALOG[code];
    super(
      options.message ?? spec.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    const ctx = currentContext();
    this.code = code;
    this.numericCode = spec.numeric;
    this.category = spec.category;
    this.subcategory = spec.subcategory;
    this.severity = options.severity ?? spec.severity;
    this.retryStrategy = options.retryStrategy ?? (options.severity === 'critical' ? 'no_retry' : spec.retry);
    this.retryAfterMs = options.retryAfterMs ?? defaultRetryDelay(this.retryStrategy, 0);
    this.context = Object.freeze({ ...options.context });
    this.correlationId = options.correlationId ?? ctx?.correlationId;
    this.operationId = ctx?.operationId;
    this.timestamp = Date.now();
    this.httpStatus = spec.httpStatus;
  }

  /** Always `FoundationError` (also for subclasses), so logs and `toJSON` name the type consistently. */
  override get name(): string {
    return 'FoundationError';
  }

  /** Whether retrying the failed operation may succeed. */
  get retryable(): boolean {
    return this.retryStrategy !== 'no_retry';
  }
}

/** Maximum retry delay suggested by {@link defaultRetryDelay}, in ms. */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * The delay before retry number `attempt` (0-based) for a strategy, in ms; `undefined` for `no_retry`.
 * Exponential: `min(1000 × 2^attempt, 30 000)`; fixed: 1000; immediate: 0.
 */
export function defaultRetryDelay(strategy: RetryStrategy, attempt: number): number | undefined {
  switch (strategy) {
    case 'no_retry':
      return undefined;
    case 'immediate':
      return 0;
    case 'fixed_delay':
      return 1000;
    case 'exponential_backoff':
      return Math.min(1000 * 2 ** Math.max(0, attempt), MAX_RETRY_DELAY_MS);
  }
}

/**
 * Whether `value` is a FoundationError — also one created by another copy of this package.
 * With `code`, also checks the code. Never throws.
 */
export function isFoundationError(value: unknown, code?: ErrorCode): value is FoundationError {
  if (typeof value !== 'object' || value === null) return false;
  try {
    if ((value as Record<symbol, unknown>)[FOUNDATION_ERROR_BRAND] !== true) return false;
    return code === undefined || (value as FoundationError).code === code;
  } catch {
    return false; // a revoked proxy or a throwing getter is not a FoundationError
  }
}
