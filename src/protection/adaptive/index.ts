/**
 * Adaptive concurrency: limit algorithms (Vegas, Gradient2, AIMD — Netflix concurrency-limits semantics) and
 * the layer that enforces their limit (docs/decisions/0012-adaptive-concurrency.md).
 *
 * @module
 */
export { createAdaptiveLayer, type AdaptiveLayer, type AdaptiveStatus } from './adaptive-layer.js';
export {
  ADAPTIVE_ALGORITHMS,
  ADAPTIVE_DEFAULTS,
  createLimitAlgorithm,
  validateAdaptiveOptions,
  type AdaptiveAlgorithm,
  type AdaptiveCommonOptions,
  type AdaptiveOptions,
  type ConfigurableLimit,
  type ResolvedAdaptiveOptions,
} from './adaptive-options.js';
export { AIMD_DEFAULTS, AimdLimit, type AimdParams, type AimdSettings } from './aimd-limit.js';
export {
  GRADIENT2_DEFAULTS,
  Gradient2Limit,
  type Gradient2Params,
  type Gradient2Settings,
} from './gradient2-limit.js';
export {
  clampLimit,
  limitOf,
  type LimitAlgorithm,
  type LimitBounds,
  type LimitSample,
} from './limit-algorithm.js';
export { VEGAS_DEFAULTS, VegasLimit, type VegasParams, type VegasSettings } from './vegas-limit.js';
