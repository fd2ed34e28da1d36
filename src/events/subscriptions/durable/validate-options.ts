/**
 * Validation of {@link DurableSubscriptionOptions}: unknown keys, wrong types and out-of-range numbers throw
 * `FND_EVENTS_INVALID_SUBSCRIPTION` (context: field, reason) before anything touches the store.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { FoundationError, isFoundationError } from '../../../errors/index.js';
import { validateQuery } from '../../model/query-validate.js';
import type { SubscriptionFilter } from '../types.js';
import type { PartitionKey } from './partition.js';
import type { DeadLetterHandler, DurableHandler, DurableSubscriptionOptions } from './types.js';

/** Default partitions of a consumer group. */
export const DEFAULT_GROUP_PARTITIONS = 16;
/** Most partitions of a consumer group. */
export const MAX_GROUP_PARTITIONS = 1024;
/** Default lease, ms. */
export const DEFAULT_LEASE_MS = 10_000;
/** Default checkpoint batch, events. */
export const DEFAULT_CHECKPOINT_EVERY = 100;
/** Default longest delay of a checkpoint write, ms. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

/** Options after validation, with defaults filled in. */
export interface DurableConfig {
  readonly name: string;
  readonly filter: SubscriptionFilter;
  readonly handler: DurableHandler;
  readonly from: 'start' | 'end' | number;
  readonly grouped: boolean;
  readonly member: string;
  readonly key: PartitionKey;
  readonly partitions: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly deadLetter: DeadLetterHandler | undefined;
  readonly batchSize: number | undefined;
  readonly bufferSize: number | undefined;
}

const NAME = /^[A-Za-z0-9._:/-]{1,200}$/;
const OPTION_KEYS = new Set([
  'name',
  'filter',
  'handler',
  'from',
  'group',
  'leaseMs',
  'heartbeatMs',
  'checkpointEvery',
  'checkpointIntervalMs',
  'retry',
  'deadLetter',
  'batchSize',
  'bufferSize',
]);
const GROUP_KEYS = new Set(['member', 'key', 'partitions']);
const RETRY_KEYS = new Set(['attempts', 'backoffMs', 'maxBackoffMs']);
const FILTER_KEYS = new Set(['types', 'stream', 'correlationId', 'where']);

/** The error for a bad option. */
export function invalidSubscription(field: string, reason: string, cause?: unknown): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
    message: `Invalid durable subscription option ${field}: ${reason}`,
    context: { field, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>, field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw invalidSubscription(`${field}${key}`, 'unknown option');
  }
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidSubscription(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function memberId(value: unknown): string {
  if (value === undefined) return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw invalidSubscription('group.member', 'must be a string of 1–200 characters');
  }
  return value;
}

function filterOf(value: unknown): SubscriptionFilter {
  if (value === undefined) return {};
  if (!isObject(value)) throw invalidSubscription('filter', 'must be an object');
  checkKeys(value, FILTER_KEYS, 'filter.');
  try {
    validateQuery(value);
  } catch (error) {
    const reason = isFoundationError(error) ? error.message : 'invalid';
    throw invalidSubscription('filter', reason, error);
  }
  return value;
}

/** Validates options and fills in defaults. */
export function validateDurableOptions(input: unknown): DurableConfig {
  if (!isObject(input)) throw invalidSubscription('options', 'must be an object');
  checkKeys(input, OPTION_KEYS, '');
  const options = input as Partial<DurableSubscriptionOptions>;
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw invalidSubscription('name', 'must be 1–200 characters of letters, digits, ".", "_", "-", ":", "/"');
  }
  if (typeof options.handler !== 'function') throw invalidSubscription('handler', 'must be a function');
  const from = options.from ?? 'end';
  if (from !== 'start' && from !== 'end' && !(Number.isSafeInteger(from) && from >= 0)) {
    throw invalidSubscription('from', 'must be "start", "end" or a non-negative integer position');
  }
  const group: unknown = options.group;
  if (group !== undefined && !isObject(group)) throw invalidSubscription('group', 'must be an object');
  if (group !== undefined) checkKeys(group, GROUP_KEYS, 'group.');
  const g = group ?? {};
  const key = g.key ?? 'stream';
  if (key !== 'stream' && typeof key !== 'function') {
    throw invalidSubscription('group.key', 'must be "stream" or a function of the event');
  }
  const grouped = group !== undefined;
  const partitions = grouped
    ? integer(g.partitions, 'group.partitions', 1, MAX_GROUP_PARTITIONS, DEFAULT_GROUP_PARTITIONS)
    : 1;
  const leaseMs = integer(options.leaseMs, 'leaseMs', 100, 3_600_000, DEFAULT_LEASE_MS);
  const heartbeatMs = integer(
    options.heartbeatMs,
    'heartbeatMs',
    10,
    Math.floor(leaseMs / 2),
    Math.max(10, Math.floor(leaseMs / 3)),
  );
  const retry: unknown = options.retry;
  if (retry !== undefined && !isObject(retry)) throw invalidSubscription('retry', 'must be an object');
  if (retry !== undefined) checkKeys(retry, RETRY_KEYS, 'retry.');
  const r = retry ?? {};
  const backoffMs = integer(r.backoffMs, 'retry.backoffMs', 0, 3_600_000, 100);
  const deadLetter: unknown = options.deadLetter;
  if (deadLetter !== undefined && typeof deadLetter !== 'function') {
    throw invalidSubscription('deadLetter', 'must be a function');
  }
  return {
    name: options.name,
    filter: filterOf(options.filter),
    handler: options.handler,
    from: from,
    grouped,
    member: memberId(g.member),
    key: key as PartitionKey,
    partitions,
    leaseMs,
    heartbeatMs,
    checkpointEvery: integer(
      options.checkpointEvery,
      'checkpointEvery',
      1,
      100_000,
      DEFAULT_CHECKPOINT_EVERY,
    ),
    checkpointIntervalMs: integer(
      options.checkpointIntervalMs,
      'checkpointIntervalMs',
      0,
      3_600_000,
      DEFAULT_CHECKPOINT_INTERVAL_MS,
    ),
    attempts: integer(r.attempts, 'retry.attempts', 1, 1000, 5),
    backoffMs,
    maxBackoffMs: integer(
      r.maxBackoffMs,
      'retry.maxBackoffMs',
      backoffMs,
      3_600_000,
      Math.max(5000, backoffMs),
    ),
    deadLetter: deadLetter as DeadLetterHandler | undefined,
    batchSize: integer(options.batchSize, 'batchSize', 1, 10_000, 0) || undefined,
    bufferSize: integer(options.bufferSize, 'bufferSize', 1, 1_000_000, 0) || undefined,
  };
}
