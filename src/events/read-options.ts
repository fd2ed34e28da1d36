/**
 * Validation of the read options and names the event store's read methods take: garbage is a
 * `FND_EVENTS_INVALID_QUERY`, absent options get their defaults.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { ReadAllOptions, ReadStreamOptions } from './model/types.js';
import { DEFAULT_READ_LIMIT, MAX_READ_LIMIT } from './model/types.js';

/** Longest stream name, correlation id or event id accepted by the read methods. */
export const MAX_NAME_LENGTH = 500;

/** `from` of a backward read without `from`: the stream's last version. */
export const READ_FROM_END = Number.MAX_SAFE_INTEGER;

function invalid(message: string, context: Record<string, unknown>): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_QUERY', { message, context });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 100));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return typeof value;
}

/** Checks a stream name, correlation id or event id given to a read: a non-empty string of bounded length. */
export function validateName(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_NAME_LENGTH ||
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    throw invalid(
      `${field} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters, without control characters`,
      {
        field,
        value: describe(value),
      },
    );
  }
  return value;
}

function optionsObject(value: unknown, method: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${method} options must be an object`, { value: describe(value) });
  }
  return value as Record<string, unknown>;
}

function rejectUnknown(options: Record<string, unknown>, known: readonly string[], method: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw invalid(`Unknown ${method} option "${key.slice(0, 100)}"`, { field: key });
  }
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer in [${min}, ${max}]`, { field, value: describe(value) });
  }
  return value;
}

/** Validates `readStream` options: `from` ≥ 1, `direction` forward|backward, `limit` in [1, MAX_READ_LIMIT]. */
export function validateReadStreamOptions(input: unknown): Required<ReadStreamOptions> {
  const options = optionsObject(input, 'readStream');
  rejectUnknown(options, ['from', 'direction', 'limit'], 'readStream');
  const direction = options['direction'] ?? 'forward';
  if (direction !== 'forward' && direction !== 'backward') {
    throw invalid('direction must be "forward" or "backward"', {
      field: 'direction',
      value: describe(direction),
    });
  }
  const defaultFrom = direction === 'forward' ? 1 : READ_FROM_END;
  return {
    direction,
    from: integer(options['from'], 'from', 1, Number.MAX_SAFE_INTEGER, defaultFrom),
    limit: integer(options['limit'], 'limit', 1, MAX_READ_LIMIT, DEFAULT_READ_LIMIT),
  };
}

/** Validates `readAll` options: `afterPosition` ≥ 0, `limit` in [1, MAX_READ_LIMIT]. */
export function validateReadAllOptions(input: unknown): Required<ReadAllOptions> {
  const options = optionsObject(input, 'readAll');
  rejectUnknown(options, ['afterPosition', 'limit'], 'readAll');
  return {
    afterPosition: integer(options['afterPosition'], 'afterPosition', 0, Number.MAX_SAFE_INTEGER, 0),
    limit: integer(options['limit'], 'limit', 1, MAX_READ_LIMIT, DEFAULT_READ_LIMIT),
  };
}
