/**
 * Expected versions of an append: parsing what callers send, and checking it against a stream's version.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { ExpectedVersion } from './types.js';

const DIGITS = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Checks `expected` against the stream's current version `actual` (0 when it has no events). Returns
 * `FND_EVENTS_VERSION_CONFLICT` (context: stream, expected, actual) on a mismatch, `undefined` when the
 * append may proceed. `any` always passes; `no_stream` and `0` need `actual === 0`; `stream_exists` needs
 * `actual > 0`; a number `n` needs `actual === n`.
 */
export function checkExpectedVersion(
  expected: ExpectedVersion,
  actual: number,
  stream: string,
): FoundationError | undefined {
  let ok: boolean;
  if (expected === 'any') ok = true;
  else if (expected === 'no_stream') ok = actual === 0;
  else if (expected === 'stream_exists') ok = actual > 0;
  else ok = actual === expected;
  if (ok) return undefined;
  return new FoundationError('FND_EVENTS_VERSION_CONFLICT', {
    message: `Stream ${stream} is at version ${actual}, expected ${String(expected)}`,
    context: { stream, expected, actual },
  });
}

/**
 * Parses an expected version from a caller: `undefined` → `any`; `any`, `no_stream`, `stream_exists`; a
 * non-negative safe integer, also as a decimal string (from a URL or the CLI). Anything else throws
 * `FND_EVENTS_INVALID_EVENT` (context: field `expectedVersion`, value).
 */
export function validateExpectedVersion(input: unknown): ExpectedVersion {
  if (input === undefined) return 'any';
  if (input === 'any' || input === 'no_stream' || input === 'stream_exists') return input;
  if (typeof input === 'number' && Number.isSafeInteger(input) && input >= 0) return input;
  if (typeof input === 'string' && DIGITS.test(input)) {
    const n = Number(input);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new FoundationError('FND_EVENTS_INVALID_EVENT', {
    message: 'expectedVersion must be any, no_stream, stream_exists or a non-negative integer',
    context: {
      field: 'expectedVersion',
      value: typeof input === 'string' ? input.slice(0, 100) : typeof input,
    },
  });
}
