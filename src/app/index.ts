/**
 * The composition root.
 *
 * @module
 */
export * from './foundation.js';
export type { FoundationMetrics } from './foundation-telemetry.js';
