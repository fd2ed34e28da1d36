/**
 * Correlation over HTTP: read a context from incoming request headers and write the current one into
 * outgoing request headers (`x-correlation-id`, `x-causation-id`).
 *
 * Incoming ids are untrusted: an id longer than {@link MAX_CORRELATION_ID_LENGTH} characters, with characters
 * outside `[A-Za-z0-9._:-]`, repeated (an array) or not a string is ignored — a fresh correlation id is generated
 * instead, so a client can neither inject text into log lines nor grow them without bound.
 *
 * @module
 */
import { createContext, currentContext, type ContextOptions, type FoundationContext } from './context.js';

/** Header that carries the correlation id. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/** Header that carries the id of the operation that caused the request (the caller's operation id). */
export const CAUSATION_ID_HEADER = 'x-causation-id';

/** Longest correlation or causation id accepted from a header. */
export const MAX_CORRELATION_ID_LENGTH = 128;

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/**
 * Headers as Node (`IncomingHttpHeaders`, `OutgoingHttpHeaders`) or a plain object give them, or a WHATWG
 * `Headers` (fetch, undici). Keys of plain objects are matched case-insensitively.
 */
export type HeaderSource =
  | Headers
  | Readonly<Record<string, string | readonly string[] | number | undefined | null>>
  | null
  | undefined;

/** Whether `value` is acceptable as a correlation or causation id from outside. */
export function isValidCorrelationId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_CORRELATION_ID_LENGTH &&
    ID_PATTERN.test(value)
  );
}

function readHeader(headers: HeaderSource, name: string): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  try {
    if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
    const record = headers as Readonly<Record<string, unknown>>;
    if (Object.hasOwn(record, name)) return record[name];
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === name) return record[key];
    }
  } catch {
    // a hostile object (throwing getter, revoked proxy): treat the header as absent
  }
  return undefined;
}

/** Options of {@link contextFromHeaders}: what a request context has besides its ids. */
export type HeaderContextOptions = Omit<ContextOptions, 'correlationId' | 'causationId'>;

/**
 * A new root context for an incoming request: the correlation id from `x-correlation-id` when valid, else a
 * fresh one; the causation id from `x-causation-id` when valid, else none. Run the handler in it with
 * `runInContext`.
 *
 * @example
 * ```ts
 * const ctx = contextFromHeaders(req.headers, { operation: `http ${req.method} ${req.url}` });
 * await runInContext(ctx, () => handle(req, res));
 * ```
 */
export function contextFromHeaders(
  headers: HeaderSource,
  options: HeaderContextOptions = {},
): FoundationContext {
  const correlationId = readHeader(headers, CORRELATION_ID_HEADER);
  const causationId = readHeader(headers, CAUSATION_ID_HEADER);
  const full: ContextOptions = { ...options };
  if (isValidCorrelationId(correlationId)) full.correlationId = correlationId;
  if (isValidCorrelationId(causationId)) full.causationId = causationId;
  return createContext(full);
}

/**
 * Headers that carry `ctx` (default: the current context) to the next service: its correlation id, and its
 * operation id as the causation id of whatever the request starts. Empty outside any context.
 *
 * @example
 * ```ts
 * await fetch(url, { headers: { ...contextToHeaders(), accept: 'application/json' } });
 * ```
 */
export function contextToHeaders(
  ctx: FoundationContext | undefined = currentContext(),
): Record<string, string> {
  if (ctx === undefined) return {};
  return { [CORRELATION_ID_HEADER]: ctx.correlationId, [CAUSATION_ID_HEADER]: ctx.operationId };
}
