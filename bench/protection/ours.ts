/**
 * Ours, configured like the peers (bench/protection/peers.ts): layers composed with `pipeline` on the system
 * clock and a shared coarse timer, each policy created once per case. The breaker is
 * `{ policy: 'consecutive', threshold: 5, openMs: 30000 }`, the retry `maxAttempts: 3` with an exponential
 * backoff shaped like cockatiel's `ExponentialBackoff` defaults (128 ms doubling up to 30 s), the timeout
 * 1000 ms — cooperative like cockatiel's `TimeoutStrategy.Cooperative`, or ours' default (aggressive).
 *
 * @module
 */
import { systemClock } from '../../src/kernel/clock.js';
import { createBreakerLayer } from '../../src/protection/breaker/index.js';
import { CoarseTimer } from '../../src/protection/coarse-timer.js';
import { pipeline, type Policy } from '../../src/protection/pipeline.js';
import { createRetryLayer } from '../../src/protection/retry/index.js';
import { createTimeoutLayer, type TimeoutMode } from '../../src/protection/timeout/index.js';
import type { Layer } from '../../src/protection/types.js';
import { BREAKER_THRESHOLD, MAX_ATTEMPTS, OPEN_MS, TIMEOUT_MS } from './peers.js';

/** cockatiel's `ExponentialBackoff` defaults: 128 ms initial delay, ×2, at most 30 s. */
const EXPONENTIAL = { kind: 'exponential', initialMs: 128, maxMs: 30_000, factor: 2 } as const;

function policy(name: string, layers: readonly Layer[]): Policy {
  return pipeline(name, layers, { clock: systemClock, timer: new CoarseTimer(systemClock) });
}

function breaker(): Layer {
  return createBreakerLayer({ policy: 'consecutive', threshold: BREAKER_THRESHOLD, openMs: OPEN_MS });
}

function retry(): Layer {
  return createRetryLayer({ maxAttempts: MAX_ATTEMPTS, backoff: EXPONENTIAL });
}

function timeout(mode: TimeoutMode): Layer {
  return createTimeoutLayer({ ms: TIMEOUT_MS, mode });
}

/** A closed consecutive breaker alone. */
export function oursBreaker(): Policy {
  return policy('bench.breaker', [breaker()]);
}

/** retry → breaker → timeout (outermost first), the timeout in `mode`. */
export function oursComposed(mode: TimeoutMode): Policy {
  return policy('bench.composed', [retry(), breaker(), timeout(mode)]);
}

/** A 1000 ms timeout alone, in `mode`. */
export function oursTimeout(mode: TimeoutMode): Policy {
  return policy('bench.timeout', [timeout(mode)]);
}

/** A retry (3 attempts, exponential) alone. */
export function oursRetry(): Policy {
  return policy('bench.retry', [retry()]);
}
