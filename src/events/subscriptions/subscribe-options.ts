/**
 * Validation of `EventStore.subscribe`'s filter and options. Every problem is
 * `FND_EVENTS_INVALID_SUBSCRIPTION` (context: field, reason), thrown before anything is read.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../../errors/index.js';
import { validateQuery } from '../model/query-validate.js';
import type { EventQuery } from '../model/types.js';
import { DEFAULT_SUBSCRIPTION_BATCH, DEFAULT_SUBSCRIPTION_BUFFER, type SubscriptionFilter } from './types.js';

/** Largest `batchSize`. */
export const MAX_SUBSCRIPTION_BATCH = 10_000;
/** Largest `bufferSize`. */
export const MAX_SUBSCRIPTION_BUFFER = 1_000_000;
/** Longest checkpoint string and name. */
const MAX_TEXT = 200;

const FILTER_KEYS: ReadonlySet<string> = new Set(['types', 'stream', 'correlationId', 'where']);
const OPTION_KEYS: ReadonlySet<string> = new Set(['from', 'batchSize', 'bufferSize', 'signal', 'name']);

/** Where a validated subscription starts: a keyword or position to resolve, or a checkpoint of the store. */
export type ValidatedFrom =
  | { readonly kind: 'resolve'; readonly from: 'start' | 'end' | number }
  | { readonly kind: 'checkpoint'; readonly checkpoint: string; readonly position: number };

/** Validated options with defaults applied. */
export interface ValidatedSubscribeOptions {
  readonly filter: SubscriptionFilter;
  readonly from: ValidatedFrom;
  readonly batchSize: number;
  readonly bufferSize: number;
  readonly signal: AbortSignal | undefined;
  readonly name: string | undefined;
}

function invalid(field: string, reason: string, cause?: unknown): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
    message: `Invalid subscription: ${field} ${reason}`,
    context: { field, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Validates the filter (the query DSL's filters only). */
export function validateSubscriptionFilter(input: unknown): SubscriptionFilter {
  if (input === undefined || input === null) return {};
  if (!isPlainObject(input)) throw invalid('filter', 'must be an object');
  for (const key of Object.keys(input)) {
    if (!FILTER_KEYS.has(key))
      throw invalid(`filter.${key}`, 'is not a filter (types, stream, correlationId, where)');
  }
  let query: EventQuery;
  try {
    query = validateQuery(input);
  } catch (error) {
    const reason = isFoundationError(error) ? error.message.replace(/^Invalid query: /, '') : 'is invalid';
    throw invalid('filter', reason, error);
  }
  const out: { -readonly [K in keyof SubscriptionFilter]: SubscriptionFilter[K] } = {};
  if (query.types !== undefined) out.types = query.types;
  if (query.stream !== undefined) out.stream = query.stream;
  if (query.correlationId !== undefined) out.correlationId = query.correlationId;
  if (query.where !== undefined) out.where = query.where;
  return Object.freeze(out);
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Validates the options. `checkpointPosition` is the store's checkpoint parser: a string `from` must be one
 * of its checkpoints.
 */
export function validateSubscribeOptions(
  filter: unknown,
  options: unknown,
  checkpointPosition: (checkpoint: string) => number | undefined,
): ValidatedSubscribeOptions {
  const validFilter = validateSubscriptionFilter(filter);
  if (options === undefined || options === null) options = {};
  if (!isPlainObject(options)) throw invalid('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key) && options[key] !== undefined) throw invalid(key, 'is not an option');
  }
  const { from, batchSize, bufferSize, signal, name } = options;
  let validFrom: ValidatedFrom;
  if (from === undefined || from === 'end') validFrom = { kind: 'resolve', from: 'end' };
  else if (from === 'start') validFrom = { kind: 'resolve', from: 'start' };
  else if (typeof from === 'number') {
    validFrom = { kind: 'resolve', from: integer(from, 'from', 0, Number.MAX_SAFE_INTEGER) };
  } else if (typeof from === 'string' && from.length > 0 && from.length <= MAX_TEXT) {
    const position = checkpointPosition(from);
    if (position === undefined)
      throw invalid('from', "is not a checkpoint of this store, 'start', 'end' or a position");
    validFrom = { kind: 'checkpoint', checkpoint: from, position };
  } else {
    throw invalid('from', "must be 'start', 'end', a position or a checkpoint string (1–200 characters)");
  }
  const buffer =
    bufferSize === undefined ? undefined : integer(bufferSize, 'bufferSize', 1, MAX_SUBSCRIPTION_BUFFER);
  const batch =
    batchSize === undefined
      ? Math.min(DEFAULT_SUBSCRIPTION_BATCH, buffer ?? DEFAULT_SUBSCRIPTION_BATCH)
      : integer(batchSize, 'batchSize', 1, MAX_SUBSCRIPTION_BATCH);
  const validBuffer = buffer ?? Math.max(DEFAULT_SUBSCRIPTION_BUFFER, batch);
  if (validBuffer < batch) throw invalid('bufferSize', 'must be at least batchSize');
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalid('signal', 'must be an AbortSignal');
  if (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > MAX_TEXT)) {
    throw invalid('name', 'must be a string of 1–200 characters');
  }
  return {
    filter: validFilter,
    from: validFrom,
    batchSize: batch,
    bufferSize: validBuffer,
    signal,
    name,
  };
}
