/**
 * Protection (docs/protection.md): circuit breaker, retry, timeout, deadline, bulkhead, fallback, hedging and
 * adaptive concurrency as composable layers, and `protect()` — named policies built from the config's
 * `foundation.protection` section and reconfigured at run time.
 *
 * @packageDocumentation
 * @module
 */
export { CallState, type PipelineRuntime } from './call-state.js';
export { CoarseTimer, type CoarseTimeout } from './coarse-timer.js';
export { invalidPolicy, isRejection, rejection, type RejectionContext } from './errors.js';
export { pipeline, type ExecuteOptions, type Policy } from './pipeline.js';
export {
  LAYER_ORDER,
  type Attempt,
  type FailurePredicate,
  type Layer,
  type LayerKind,
  type LayerStatus,
  type ProtectedFn,
  type RejectionCode,
} from './types.js';
export {
  CONFIGURABLE_LAYERS,
  DEFAULT_RATE_LIMIT_RULES,
  POLICY_NAME_PATTERN,
  layerOrderOf,
  policyConfigSchema,
  poolConfigSchema,
  protectionConfigSchema,
  rateLimitConfigSchema,
  rateLimitRuleSchema,
  rateLimitsConfigSchema,
  type ConfigurableLayer as ConfigurableLayerKind,
  type PolicyConfig,
  type ProtectionSettings,
  type RateLimitRuleConfig,
  type RateLimitsSettings,
} from './policy-config.js';
export {
  DEFAULT_LAYER_FACTORIES,
  type ConfigurableLayer,
  type LayerContext,
  type LayerFactories,
  type LayerFactory,
} from './layer-factories.js';
export {
  ProtectionRegistry,
  type BreakerControl,
  type BreakerStateChange as PolicyBreakerStateChange,
  type BreakerStateName,
  type PolicyListing,
  type PolicyOverrides,
  type ProtectionRegistryOptions,
  type ReconfigureResult,
} from './protect.js';
export * from './adaptive/index.js';
export * from './breaker/index.js';
export * from './bulkhead/index.js';
export * from './deadline/index.js';
export * from './fallback/index.js';
export * from './hedge/index.js';
export * from './retry/index.js';
export * from './timeout/index.js';
export * from './rate-limit/index.js';
export * from './pool/index.js';
export {
  createPoolLayer,
  type PoolLayer,
  type PoolLayerContext,
  type PoolLayerOptions,
  type PoolResource,
} from './pool/pool-layer.js';
export {
  createRateLimitLayer,
  type RateLimitLayer,
  type RateLimitLayerContext,
  type RateLimitLayerOptions,
} from './rate-limit/rate-limit-layer.js';
export {
  NamedRateLimiters,
  type NamedLimiterListing,
  type NamedRateLimitersOptions,
} from './rate-limit/named-limiters.js';
