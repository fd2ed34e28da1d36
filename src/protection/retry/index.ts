/**
 * Retry: backoff sequences, the retry budget and the retry layer.
 *
 * @module
 */
export * from './backoff.js';
export * from './budget.js';
export * from './retry-layer.js';
