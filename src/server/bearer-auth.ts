/**
 * Bearer-token check for mutating control-bus requests, in constant time.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { FoundationError } from '../errors/index.js';

/** Methods that never change state and so need no token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares two secrets in time independent of where they differ (and of their lengths: both sides are
 * hashed to 32 bytes first).
 */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Returns `undefined` when the `authorization` header carries `Bearer <token>` equal to `token`; otherwise
 * the `FND_EXTERNAL_AUTHENTICATION_FAILED` error to serve. Without a configured token every call fails:
 * mutating requests are then disabled.
 */
export function checkBearer(
  header: string | undefined,
  token: string | undefined,
  correlationId: string,
): FoundationError | undefined {
  if (token === undefined || token === '') {
    return new FoundationError('FND_EXTERNAL_AUTHENTICATION_FAILED', {
      message: 'Mutating requests are disabled: the control bus has no token configured',
      correlationId,
    });
  }
  const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  const given = match?.[1];
  if (given === undefined) {
    return new FoundationError('FND_EXTERNAL_AUTHENTICATION_FAILED', {
      message: 'Missing bearer token: send "Authorization: Bearer <token>"',
      correlationId,
    });
  }
  if (!secretsEqual(given, token)) {
    return new FoundationError('FND_EXTERNAL_AUTHENTICATION_FAILED', {
      message: 'Invalid bearer token',
      correlationId,
    });
  }
  return undefined;
}
