/**
 * The circuit breaker: options, the pure failure counters and state machine, snapshot parsing, and the
 * pipeline layer (`createBreakerLayer`).
 *
 * @module
 */
export {
  createBreakerLayer,
  type BreakerBinding,
  type BreakerLayer,
  type BreakerStateChange,
} from './breaker-layer.js';
export {
  BREAKER_STATES,
  BreakerMachine,
  CLOSED_TICKET,
  REFUSED,
  type BreakerSnapshot,
  type BreakerState,
} from './breaker-machine.js';
export {
  DEFAULT_MAX_OPEN_MS,
  DEFAULT_OPEN_MS,
  DEFAULT_SAMPLING_BUCKETS,
  resolveBreakerOptions,
  type BreakerCommonOptions,
  type BreakerOptions,
  type ConsecutivePolicyOptions,
  type CountPolicyOptions,
  type HalfOpenOptions,
  type ResolvedBreakerOptions,
  type ResolvedFailurePolicy,
  type SamplingPolicyOptions,
} from './breaker-options.js';
export { parseBreakerSnapshot } from './breaker-snapshot.js';
export {
  ConsecutiveCounter,
  CountWindow,
  SamplingWindow,
  createFailureCounter,
  type CounterCounts,
  type CounterSnapshot,
  type FailureCounter,
} from './failure-counter.js';
