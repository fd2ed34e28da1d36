/**
 * The `x-correlation-id` request/response header: accepted when it is a short, plain token, replaced by a
 * fresh id otherwise (so a client cannot inject control characters or megabytes into logs).
 *
 * @module
 */
import { newCorrelationId } from '../errors/index.js';

/** Name of the header read from requests and echoed in responses. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Accepted shape: 1–128 letters, digits, `.`, `_`, `:` or `-`. */
export const CORRELATION_ID_PATTERN: RegExp = /^[A-Za-z0-9._:-]{1,128}$/;

/** The correlation id to use for a request whose header value is `value`. */
export function correlationIdFrom(value: string | string[] | undefined): string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value) ? value : newCorrelationId();
}
