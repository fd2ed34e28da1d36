/**
 * Strict query strings for the control bus's routes: only the accepted parameters, each at most once, as
 * strings; anything else is 400 `FND_HTTP_BAD_REQUEST` naming the parameter (never echoing more than 60
 * characters of it).
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';

/** `FND_HTTP_BAD_REQUEST` with the request's correlation id. */
export function badRequest(
  message: string,
  correlationId: string,
  context: Record<string, unknown> = {},
): FoundationError {
  return new FoundationError('FND_HTTP_BAD_REQUEST', { message, context, correlationId });
}

/** A client-sent key, quoted and cut at 60 characters, for an error message. */
export function shownKey(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
}

/** The query parameters of a request as single strings, refusing unknown and repeated ones. */
export function queryParams(
  raw: unknown,
  accepted: readonly string[],
  correlationId: string,
): Map<string, string> {
  const params = new Map<string, string>();
  const record = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  for (const [key, value] of Object.entries(record)) {
    if (!accepted.includes(key)) {
      throw badRequest(
        `Unknown query parameter ${shownKey(key)}` +
          (accepted.length === 0 ? '; this route takes none' : `; accepted: ${accepted.join(', ')}`),
        correlationId,
        { parameter: key.slice(0, 60) },
      );
    }
    if (typeof value !== 'string') {
      throw badRequest(`Query parameter ${key} may be given only once`, correlationId, { parameter: key });
    }
    params.set(key, value);
  }
  return params;
}
