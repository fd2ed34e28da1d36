/**
 * Bulkhead: concurrency limit with a bounded FIFO queue (model and layer).
 *
 * @module
 */
export * from './bulkhead-state.js';
export * from './bulkhead-layer.js';
