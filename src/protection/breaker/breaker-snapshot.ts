/**
 * Checks a breaker snapshot read from outside (a file, the event store, another process) before a breaker
 * takes it over: {@link parseBreakerSnapshot} returns a well-formed {@link BreakerSnapshot} or throws
 * `FND_PROTECT_INVALID_POLICY` naming the bad field.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import { BREAKER_STATES, type BreakerSnapshot, type BreakerState } from './breaker-machine.js';
import type { CounterSnapshot } from './failure-counter.js';

type Json = Readonly<Record<string, unknown>>;

function bad(field: string, expected: string): never {
  throw invalidPolicy(`Breaker snapshot field "${field}" must be ${expected}`, { layer: 'breaker', field });
}

function record(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(field, 'an object');
  return value as Json;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) bad(field, 'an integer ≥ 0');
  return value;
}

function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) bad(field, 'a finite number (wall ms)');
  return value;
}

function counter(value: unknown): CounterSnapshot {
  const raw = record(value, 'counter');
  switch (raw.policy) {
    case 'consecutive':
      return { policy: 'consecutive', failures: count(raw.failures, 'counter.failures') };
    case 'count': {
      const samples = raw.samples;
      if (!Array.isArray(samples) || !samples.every((sample) => typeof sample === 'boolean')) {
        bad('counter.samples', 'an array of booleans');
      }
      return { policy: 'count', samples };
    }
    case 'sampling': {
      const buckets = raw.buckets;
      if (!Array.isArray(buckets)) bad('counter.buckets', 'an array');
      return {
        policy: 'sampling',
        buckets: buckets.map((bucket: unknown, index) => {
          const entry = record(bucket, `counter.buckets[${index}]`);
          return {
            at: time(entry.at, `counter.buckets[${index}].at`),
            successes: count(entry.successes, `counter.buckets[${index}].successes`),
            failures: count(entry.failures, `counter.buckets[${index}].failures`),
          };
        }),
      };
    }
    default:
      return bad('counter.policy', "'consecutive', 'count' or 'sampling'");
  }
}

/** Validates a snapshot from {@link BreakerMachine.snapshot} (e.g. after a JSON round trip). */
export function parseBreakerSnapshot(value: unknown): BreakerSnapshot {
  const raw = record(value, 'snapshot');
  if (raw.version !== 1) bad('version', '1');
  if (typeof raw.state !== 'string' || !(BREAKER_STATES as readonly string[]).includes(raw.state)) {
    bad('state', BREAKER_STATES.join(', '));
  }
  const state = raw.state as BreakerState;
  const level = raw.level;
  if (typeof level !== 'number' || !Number.isSafeInteger(level) || level < 0 || level > 1000) {
    bad('level', 'an integer in [0, 1000]');
  }
  const base = {
    version: 1 as const,
    state,
    level,
    probeSuccesses: count(raw.probeSuccesses, 'probeSuccesses'),
    counter: counter(raw.counter),
  };
  if (state !== 'open') return base;
  const openUntil = time(raw.openUntil, 'openUntil');
  return {
    ...base,
    openUntil,
    openedAt: raw.openedAt === undefined ? openUntil : time(raw.openedAt, 'openedAt'),
  };
}
