/**
 * Protection (issue 7): ours (layers composed with `pipeline`) vs cockatiel 4.0.0 and opossum 10.0.0 in the
 * same run, and a bare `await fn()` (cases in bench/protection/cases.ts; the notes give the added overhead
 * `(ours − bare) / (peer − bare)`).
 *
 * Targets: a closed breaker around `async () => 1` adds ≤ 0.5× what cockatiel's adds and ≤ 0.1× opossum's
 * `fire()`; retry + breaker + timeout ≤ 0.05× cockatiel's `wrap(retry, breaker, timeout)`, ≤ 0.3× when the
 * function reads its signal. Timeout alone and retry alone are context rows. Ours' timeout runs cooperative
 * (`ours`, cockatiel's strategy) and in its default aggressive mode (`ours-aggressive`).
 *
 * Rate limiters and pools (issue 8; bench/protection/limits.ts and pools.ts, whose notes give ours ÷ peer):
 * a decision of ours ≤ 0.2× rate-limiter-flexible's `RateLimiterMemory.consume` — measured in the synchronous
 * case "rate limit decision, memory, synchronous call" (ours `tryConsume`, the peer's `consume` not awaited:
 * neither side pays an await); the awaited memory case, with a `bare-await` row, is context — ≤ 0.7×
 * `RateLimiterRedis` (sequential and 100 in flight), ≤ 0.5× `RateLimiterPostgres`; a pool acquire + release
 * ≤ 0.5× generic-pool's and ≤ 0.25× tarn's, with 1 and with 100 acquirers.
 *
 * @module
 */
import type { Policy } from '../../src/protection/pipeline.js';
import type { ProtectedFn } from '../../src/protection/types.js';
import type { TimeoutMode } from '../../src/protection/timeout/index.js';
import {
  breakerCase,
  composedCase,
  composedSignalCase,
  retryCase,
  timeoutCase,
  type Impl,
} from '../protection/cases.js';
import {
  IN_FLIGHT,
  memoryLimiterCase,
  memorySyncLimiterCase,
  postgresLimiterCase,
  redisLimiterCase,
} from '../protection/limits.js';
import { oursBreaker, oursComposed, oursRetry, oursTimeout } from '../protection/ours.js';
import { signalFn, valueFn } from '../protection/peers.js';
import { ACQUIRERS, poolCase } from '../protection/pools.js';
import { asyncImpl, defineSuite } from '../suite.js';

/** Ours' row: `policy.execute(fn)`, the policy created once. */
function ours(impl: string, create: () => Policy, fn: ProtectedFn<number>): Impl {
  return asyncImpl({ impl, role: 'ours', setup: () => create(), fn: (policy) => policy.execute(fn) });
}

/** Ours' rows with the timeout cooperative (like cockatiel) and in the default aggressive mode. */
function bothModes(create: (mode: TimeoutMode) => Policy, fn: ProtectedFn<number>): Impl[] {
  return [
    ours('ours', () => create('cooperative'), fn),
    ours('ours-aggressive', () => create('aggressive'), fn),
  ];
}

export default defineSuite({
  name: 'protection',
  cases: [
    breakerCase([ours('ours', oursBreaker, valueFn)]),
    composedCase(bothModes(oursComposed, valueFn)),
    composedSignalCase(bothModes(oursComposed, signalFn)),
    timeoutCase(bothModes(oursTimeout, valueFn)),
    retryCase([ours('ours', oursRetry, valueFn)]),
    memorySyncLimiterCase(),
    memoryLimiterCase(),
    redisLimiterCase(1),
    redisLimiterCase(IN_FLIGHT),
    postgresLimiterCase(1),
    postgresLimiterCase(IN_FLIGHT),
    poolCase(1),
    poolCase(ACQUIRERS),
  ],
});
