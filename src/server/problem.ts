/**
 * Problem details (RFC 9457) for the control bus: every error response is `application/problem+json` with
 * `type`, `title`, `status`, `detail`, `code` and `correlationId` — never a stack trace, never the message of
 * an unexpected (non-foundation) error.
 *
 * @module
 */
import type { FastifyReply } from 'fastify';
import {
  FoundationError,
  httpStatusOf,
  isFoundationError,
  toProblemDetails,
  type ErrorCode,
} from '../errors/index.js';

/** Media type of every error response. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The body of an error response. Extensions (e.g. the failing services of a readiness check) may be added. */
export interface ProblemBody {
  /** URI naming the problem type: `urn:elixirscope:foundation:error:` followed by the catalog code. */
  readonly type: string;
  /** The catalog's short human summary of the code (the same for every occurrence). */
  readonly title: string;
  /** The HTTP status code of the response (the catalog's status for the code). */
  readonly status: number;
  /** The error's message for this occurrence (a generic one for an unexpected, non-foundation error). */
  readonly detail: string;
  /** The error's catalog code, e.g. `FND_HTTP_NOT_FOUND`. */
  readonly code: ErrorCode;
  /** The request's correlation id (also in the response's correlation id header), for finding it in logs. */
  readonly correlationId: string;
  /**
   * Extension members: the error's `numericCode` and `context`, `retryAfterMs` when retrying makes sense, and
   * route-specific ones (e.g. the failing services of a readiness check).
   */
  readonly [extension: string]: unknown;
}

/** Fastify's own error codes and the catalog code each one is served as. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'FND_HTTP_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'FND_HTTP_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FND_HTTP_BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'FND_HTTP_BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'FND_HTTP_NOT_FOUND',
};

/** Fastify messages that are safe to show to a client, keyed by fastify error code. */
const SAFE_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body exceeds the size limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request content type is not supported; send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The content-length header does not match the body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but the content type is application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON',
};

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns anything thrown while serving a request into a FoundationError with a catalog code. Foundation
 * errors pass through; fastify's request errors map to `FND_HTTP_*`; anything else becomes
 * `FND_SYSTEM_INTERNAL` with a generic message (the original is kept as `cause`, never shown).
 */
export function toHttpError(error: unknown, correlationId: string): FoundationError {
  if (isFoundationError(error)) return error;
  const fastifyCode = codeOf(error);
  const mapped = fastifyCode === undefined ? undefined : FASTIFY_CODES[fastifyCode];
  if (mapped !== undefined && fastifyCode !== undefined) {
    const message = SAFE_DETAILS[fastifyCode];
    return new FoundationError(mapped, {
      ...(message === undefined ? {} : { message }),
      cause: error,
      correlationId,
    });
  }
  const status = statusOf(error);
  if (status === 413)
    return new FoundationError('FND_HTTP_PAYLOAD_TOO_LARGE', { cause: error, correlationId });
  if (status === 415) {
    return new FoundationError('FND_HTTP_UNSUPPORTED_MEDIA_TYPE', { cause: error, correlationId });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new FoundationError('FND_HTTP_BAD_REQUEST', { cause: error, correlationId });
  }
  return new FoundationError('FND_SYSTEM_INTERNAL', {
    message: 'An internal error occurred while serving the request',
    cause: error,
    correlationId,
  });
}

/**
 * The problem+json body for `error`, served under `correlationId` (the request's, which the response header
 * echoes). The standard members come from `toProblemDetails` (no stack, no cause, secrets redacted);
 * `extensions` adds members without overriding them.
 */
export function problemBody(
  error: FoundationError,
  correlationId: string,
  extensions: Readonly<Record<string, unknown>> = {},
): ProblemBody {
  return { ...extensions, ...toProblemDetails(error), code: error.code, correlationId };
}

/** Sends `error` as problem+json (with optional extension members) under `correlationId`. */
export function sendProblem(
  reply: FastifyReply,
  error: FoundationError,
  correlationId: string,
  extensions: Readonly<Record<string, unknown>> = {},
): FastifyReply {
  if (error.code === 'FND_EXTERNAL_AUTHENTICATION_FAILED') {
    reply.header('www-authenticate', 'Bearer realm="foundation-control-bus"');
  }
  return reply
    .code(httpStatusOf(error))
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(problemBody(error, correlationId, extensions)));
}
