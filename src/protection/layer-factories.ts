/**
 * The layer factories `protect()` builds policies with: one per layer kind, each taking the layer's options
 * (a config entry, plus the code-only `failures` / fallback options) and returning a layer that can be
 * reconfigured at run time. A registry can be given other factories (tests, custom layers).
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import { createAdaptiveLayer, type AdaptiveOptions } from './adaptive/index.js';
import { createBreakerLayer, type BreakerOptions } from './breaker/index.js';
import { createBulkheadLayer, type BulkheadOptions } from './bulkhead/index.js';
import { createDeadlineLayer, type DeadlineOptions } from './deadline/index.js';
import { createFallbackLayer, type FallbackOptions } from './fallback/index.js';
import { createHedgeLayer, type HedgeOptions } from './hedge/index.js';
import type { CoarseTimer } from './coarse-timer.js';
import { createPoolLayer, type PoolLayerOptions } from './pool/pool-layer.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import { createRateLimitLayer, type RateLimitLayerOptions } from './rate-limit/rate-limit-layer.js';
import type { RateLimitStore } from './rate-limit/types.js';
import { createRetryLayer, type RetryOptions } from './retry/index.js';
import { createTimeoutLayer, type TimeoutOptions } from './timeout/index.js';
import type { Layer, LayerKind } from './types.js';

/** A layer whose options can change at run time without dropping in-flight calls. */
export interface ConfigurableLayer extends Layer {
  /**
   * Applies new options of the layer's own type (checked; `FND_PROTECT_INVALID_POLICY` on a bad one) while
   * in-flight calls go on. Typed `never` here so that every layer's `configure` fits.
   */
  configure(options: never): void;
}

/**
 * What a layer may need besides its options: its policy and clock (a breaker's `state()`, `isolate()`…), the
 * registry's coarse timer (queue wake-ups, pool timeouts), the rate-limit store own rules keep state in, and
 * the shared limiters of named rules.
 */
export interface LayerContext {
  /** The name of the policy the layer is built for. */
  readonly policy: string;
  /** The registry's clock, for layers that read time outside calls (a breaker's state, a pool's sweep). */
  readonly clock: Clock;
  /** The registry's shared coarse timer (queue wake-ups, pool timeouts); default: one per layer. */
  readonly timer?: CoarseTimer;
  /** The store a rate-limit layer with its own rule keeps its counters in; default an in-memory store. */
  readonly rateLimitStore?: RateLimitStore;
  /** Looks up the shared limiter of a named rule (`foundation.rateLimits.rules.<rule>`). */
  readonly rateLimiter?: (rule: string) => RateLimiter;
}

/** Builds a layer of one kind from its options (throws `FND_PROTECT_INVALID_POLICY` on a bad option). */
export type LayerFactory = (
  options: Readonly<Record<string, unknown>>,
  context: LayerContext,
) => ConfigurableLayer;

/** A factory per layer kind. */
export type LayerFactories = { readonly [K in LayerKind]: LayerFactory };

/** The foundation's own layers. */
export const DEFAULT_LAYER_FACTORIES: LayerFactories = Object.freeze({
  fallback: (options) => createFallbackLayer(options as unknown as FallbackOptions),
  deadline: (options) => createDeadlineLayer(options as unknown as DeadlineOptions),
  retry: (options) => createRetryLayer(options as unknown as RetryOptions),
  breaker: (options, context) =>
    createBreakerLayer(options as unknown as BreakerOptions, {
      clock: context.clock,
      policy: context.policy,
    }),
  adaptive: (options) => createAdaptiveLayer(options as AdaptiveOptions),
  bulkhead: (options) => createBulkheadLayer(options as unknown as BulkheadOptions),
  hedge: (options) => createHedgeLayer(options as unknown as HedgeOptions),
  timeout: (options) => createTimeoutLayer(options as unknown as TimeoutOptions),
  rateLimit: (options, context) =>
    createRateLimitLayer(options as RateLimitLayerOptions, {
      policy: context.policy,
      clock: context.clock,
      ...(context.timer === undefined ? {} : { timer: context.timer }),
      ...(context.rateLimitStore === undefined ? {} : { store: context.rateLimitStore }),
      ...(context.rateLimiter === undefined ? {} : { limiter: context.rateLimiter }),
    }),
  pool: (options, context) =>
    createPoolLayer(options as PoolLayerOptions, {
      policy: context.policy,
      clock: context.clock,
      ...(context.timer === undefined ? {} : { timer: context.timer }),
    }),
});
