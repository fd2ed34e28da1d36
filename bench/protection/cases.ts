/**
 * The protection suite's cases: each policy created once (setup), then one awaited `execute` per operation
 * (async harness, sequential), ours against cockatiel 4.0.0 (and opossum 10.0.0 for the breaker) and a bare
 * `await fn()` whose ns/op is the floor every policy adds to. The notes of each case give the added-overhead
 * ratio `(ours − bare) / (peer − bare)`.
 *
 * @module
 */
import type CircuitBreaker from 'opossum';
import { asyncCase, asyncImpl, type AsyncBenchCase, type AsyncImpl } from '../suite.js';

/** An implementation of a protection case (the cases have no case state). */
export type Impl = AsyncImpl<undefined>;
import { formatAddedOverheads } from './overhead.js';
import {
  cockatielBreaker,
  cockatielComposed,
  cockatielRetry,
  cockatielTimeout,
  opossumBreaker,
  signalFn,
  stopOpossum,
  valueFn,
} from './peers.js';

/** The bare call: `await fn()` with no policy at all. */
function bare(fn: () => unknown): Impl {
  return asyncImpl({ impl: 'bare-await', role: 'baseline', fn: () => fn() });
}

/** A case whose notes are the added-overhead ratios of its rows. */
function protectionCase(name: string, impls: readonly Impl[]): AsyncBenchCase {
  return asyncCase({ name, impls, notes: (_state, results) => formatAddedOverheads(results) });
}

/** Closed breaker (5 consecutive failures open it) around `async () => 1`. */
export function breakerCase(ours: readonly Impl[]): AsyncBenchCase {
  return protectionCase('breaker, closed (consecutive 5), around async () => 1', [
    ...ours,
    asyncImpl({
      impl: 'cockatiel',
      role: 'peer',
      setup: () => cockatielBreaker(),
      fn: (policy) => policy.execute(valueFn),
    }),
    asyncImpl<CircuitBreaker<[], number>>({
      impl: 'opossum',
      role: 'peer',
      setup: () => opossumBreaker(valueFn),
      fn: (breaker) => breaker.fire(),
      teardown: stopOpossum,
    }),
    bare(valueFn),
  ]);
}

/** retry (3, exponential) + breaker + timeout (1000 ms), the function ignoring its signal. */
export function composedCase(ours: readonly Impl[]): AsyncBenchCase {
  return protectionCase('retry + breaker + timeout, fn ignores its signal', [
    ...ours,
    asyncImpl({
      impl: 'cockatiel',
      role: 'peer',
      setup: () => cockatielComposed(),
      fn: (policy) => policy.execute(valueFn),
    }),
    bare(valueFn),
  ]);
}

/** The same composition, the function reading its signal (`({ signal }) => { void signal; return 1; }`). */
export function composedSignalCase(ours: readonly Impl[]): AsyncBenchCase {
  return protectionCase('retry + breaker + timeout, fn reads its signal', [
    ...ours,
    asyncImpl({
      impl: 'cockatiel',
      role: 'peer',
      setup: () => cockatielComposed(),
      fn: (policy) => policy.execute(signalFn),
    }),
    asyncImpl({
      impl: 'bare-await',
      role: 'baseline',
      setup: () => ({ signal: new AbortController().signal }),
      fn: (attempt) => signalFn(attempt),
    }),
  ]);
}

/** A cooperative timeout of 1000 ms alone, the function ignoring its signal. */
export function timeoutCase(ours: readonly Impl[]): AsyncBenchCase {
  return protectionCase('timeout 1000 ms alone, fn ignores its signal', [
    ...ours,
    asyncImpl({
      impl: 'cockatiel',
      role: 'peer',
      setup: () => cockatielTimeout(),
      fn: (policy) => policy.execute(valueFn),
    }),
    bare(valueFn),
  ]);
}

/** A retry (3 attempts, exponential backoff) alone, around a function that succeeds at once. */
export function retryCase(ours: readonly Impl[]): AsyncBenchCase {
  return protectionCase('retry (3 attempts, exponential) alone, first attempt succeeds', [
    ...ours,
    asyncImpl({
      impl: 'cockatiel',
      role: 'peer',
      setup: () => cockatielRetry(),
      fn: (policy) => policy.execute(valueFn),
    }),
    bare(valueFn),
  ]);
}
