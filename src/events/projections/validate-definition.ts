/**
 * Validation of projection definitions and of the arguments of projection reads. A bad definition throws
 * `FND_EVENTS_INVALID_POLICY` (context: field, reason) and nothing is registered.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { validateQuery } from '../model/query-validate.js';
import type { JsonValue, StoredEvent } from '../model/types.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';
import type { ListProjectionOptions, ProjectionMode } from './types.js';
import { DEFAULT_PROJECTION_LIST_LIMIT, MAX_PROJECTION_LIST_LIMIT } from './types.js';

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** Longest projection row key (characters). */
export const MAX_PROJECTION_KEY_LENGTH = 500;
const DEFINITION_KEYS = new Set(['name', 'filter', 'key', 'initial', 'evolve', 'mode']);
const FILTER_KEYS = new Set(['types', 'stream', 'correlationId', 'where']);

/** A validated definition: filter checked, mode filled in. */
export interface ValidDefinition {
  /** The projection's name. */
  readonly name: string;
  /** The events the projection reads (checked). */
  readonly filter: SubscriptionFilter;
  /** `inline` or `async` (default filled in). */
  readonly mode: ProjectionMode;
  /** The row an event goes to, `undefined` to skip the event. */
  readonly key: (event: StoredEvent) => string | undefined;
  /** The state of a row before its first event. */
  readonly initial: (key: string) => JsonValue;
  /** Folds one event into a row's state; `null` deletes the row. */
  readonly evolve: (state: JsonValue, event: StoredEvent) => JsonValue | null;
}

function invalid(field: string, reason: string, cause?: unknown): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_POLICY', {
    message: `Invalid projection: ${field} ${reason}`,
    context: { field, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Whether `name` is a valid projection name. */
export function isProjectionName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** Throws `FND_EVENTS_INVALID_POLICY` unless `name` is a valid projection name. */
export function checkProjectionName(name: unknown): string {
  if (!isProjectionName(name)) throw invalid('name', 'must be 1–100 characters [A-Za-z0-9_.:-]');
  return name;
}

/** Validates a definition from a caller. Throws `FND_EVENTS_INVALID_POLICY`. */
export function validateDefinition(input: unknown): ValidDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('definition', 'must be an object');
  }
  const def = input as Record<string, unknown>;
  for (const field of Object.keys(def)) {
    if (!DEFINITION_KEYS.has(field)) throw invalid(field, 'is not a projection field');
  }
  const name = checkProjectionName(def.name);
  for (const fn of ['key', 'initial', 'evolve'] as const) {
    if (typeof def[fn] !== 'function') throw invalid(fn, 'must be a function');
  }
  const mode = def.mode ?? 'async';
  if (mode !== 'inline' && mode !== 'async') throw invalid('mode', 'must be inline or async');
  const filter = validateFilter(def.filter);
  return {
    name,
    filter,
    mode,
    key: def.key as ValidDefinition['key'],
    initial: def.initial as ValidDefinition['initial'],
    evolve: def.evolve as ValidDefinition['evolve'],
  };
}

function validateFilter(input: unknown): SubscriptionFilter {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('filter', 'must be an object');
  }
  for (const field of Object.keys(input)) {
    if (!FILTER_KEYS.has(field)) throw invalid(`filter.${field}`, 'is not a filter field');
  }
  try {
    const query = validateQuery(input);
    const out: { -readonly [K in keyof SubscriptionFilter]: SubscriptionFilter[K] } = {};
    if (query.types !== undefined) out.types = query.types;
    if (query.stream !== undefined) out.stream = query.stream;
    if (query.correlationId !== undefined) out.correlationId = query.correlationId;
    if (query.where !== undefined) out.where = query.where;
    return out;
  } catch (error) {
    const reason = error instanceof FoundationError ? error.message : 'is not a valid filter';
    throw invalid('filter', reason, error);
  }
}

/** Validates a row key argument (`FND_DATA_INVALID_INPUT`). */
export function checkKeyArgument(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_PROJECTION_KEY_LENGTH) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `A projection key is a string of 1–${MAX_PROJECTION_KEY_LENGTH} characters`,
      context: { argument: 'key' },
    });
  }
  return key;
}

/** Validates `list` options and fills in the limit (`FND_DATA_INVALID_INPUT`). */
export function validateListOptions(options: ListProjectionOptions | undefined): {
  after: string | undefined;
  limit: number;
} {
  const limit = options?.limit ?? DEFAULT_PROJECTION_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PROJECTION_LIST_LIMIT) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `limit must be an integer from 1 to ${MAX_PROJECTION_LIST_LIMIT}`,
      context: { argument: 'limit', value: String(limit) },
    });
  }
  const after = options?.after;
  if (after !== undefined && typeof after !== 'string') {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: 'after must be a string',
      context: { argument: 'after' },
    });
  }
  return { after, limit };
}
