/**
 * Backoff between retries, as pure functions: constant, exponential (optionally with equal jitter) and
 * decorrelated jitter (AWS's "decorrelated jitter": each delay is drawn between the initial delay and three
 * times the previous one, capped). Randomness comes from an injectable source so sequences are testable.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';

/** The cap of a retry-after hint under a constant backoff without `maxMs`. */
export const DEFAULT_CONSTANT_MAX_MS = 30_000;

/** How long to wait before each retry. */
export type BackoffOptions =
  | {
      readonly kind: 'constant';
      /** The wait before every retry, ms. */
      readonly delayMs: number;
      /** Cap of a retry-after hint, ms (default 30 000). */
      readonly maxMs?: number;
    }
  | {
      readonly kind: 'exponential';
      /** The wait before the first retry, ms. */
      readonly initialMs: number;
      /** The longest wait, ms (also caps retry-after hints). */
      readonly maxMs: number;
      /** Growth per retry (≥ 1), default 2. */
      readonly factor?: number;
      /** Equal jitter: each wait drawn uniformly in [d/2, d) instead of d. Default false. */
      readonly jitter?: boolean;
    }
  | {
      readonly kind: 'decorrelated';
      /** The smallest wait, ms (and the first wait's lower bound). */
      readonly initialMs: number;
      /** The longest wait, ms (also caps retry-after hints). */
      readonly maxMs: number;
    };

/** A source of uniform numbers in [0, 1) (default `Math.random`). */
export type RandomSource = () => number;

function nonNegative(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidPolicy(`${option} must be a finite number ≥ 0`, { option });
  }
}

/** Checks a backoff's options, throwing `FND_PROTECT_INVALID_POLICY` naming the bad option. */
export function validateBackoff(backoff: BackoffOptions, prefix = 'retry.backoff'): BackoffOptions {
  if (typeof backoff !== 'object') throw invalidPolicy(`${prefix} is required`, { option: prefix });
  const kind = backoff.kind as string;
  if (kind === 'constant') {
    const constant = backoff as Extract<BackoffOptions, { kind: 'constant' }>;
    nonNegative(constant.delayMs, `${prefix}.delayMs`);
    if (constant.maxMs !== undefined) nonNegative(constant.maxMs, `${prefix}.maxMs`);
    return backoff;
  }
  if (kind !== 'exponential' && kind !== 'decorrelated') {
    throw invalidPolicy(`${prefix}.kind must be 'constant', 'exponential' or 'decorrelated'`, {
      option: `${prefix}.kind`,
    });
  }
  const growing = backoff as Exclude<BackoffOptions, { kind: 'constant' }>;
  nonNegative(growing.initialMs, `${prefix}.initialMs`);
  nonNegative(growing.maxMs, `${prefix}.maxMs`);
  if (growing.maxMs < growing.initialMs) {
    throw invalidPolicy(`${prefix}.maxMs must be ≥ ${prefix}.initialMs`, { option: `${prefix}.maxMs` });
  }
  if (growing.kind === 'exponential' && growing.factor !== undefined) {
    if (typeof growing.factor !== 'number' || !Number.isFinite(growing.factor) || growing.factor < 1) {
      throw invalidPolicy(`${prefix}.factor must be a finite number ≥ 1`, { option: `${prefix}.factor` });
    }
  }
  return backoff;
}

/**
 * The wait before retry number `retry` (1 = the first retry), given the previous wait (`undefined` before
 * the first) and a random source. Always in [0, maxMs] (constant: exactly `delayMs`).
 */
export function backoffDelay(
  backoff: BackoffOptions,
  retry: number,
  previousMs: number | undefined,
  random: RandomSource,
): number {
  switch (backoff.kind) {
    case 'constant':
      return backoff.delayMs;
    case 'exponential': {
      const base = Math.min(backoff.maxMs, backoff.initialMs * (backoff.factor ?? 2) ** (retry - 1));
      return backoff.jitter === true ? base / 2 + (random() * base) / 2 : base;
    }
    case 'decorrelated': {
      const previous = previousMs ?? backoff.initialMs;
      const upper = Math.max(backoff.initialMs, previous * 3);
      return Math.min(backoff.maxMs, backoff.initialMs + random() * (upper - backoff.initialMs));
    }
  }
}

/** The cap of a retry-after hint under `backoff`. */
export function maxBackoffMs(backoff: BackoffOptions): number {
  return backoff.maxMs ?? DEFAULT_CONSTANT_MAX_MS;
}

/** The first `count` waits of `backoff` (for tests and docs). */
export function backoffSequence(
  backoff: BackoffOptions,
  count: number,
  random: RandomSource = Math.random,
): number[] {
  const delays: number[] = [];
  let previous: number | undefined;
  for (let retry = 1; retry <= count; retry += 1) {
    previous = backoffDelay(backoff, retry, previous, random);
    delays.push(previous);
  }
  return delays;
}
