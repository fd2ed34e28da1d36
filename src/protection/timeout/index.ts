/**
 * Timeout: the per-attempt timeout layer and the rejection helper of these layers.
 *
 * @module
 */
export * from './refuse.js';
export * from './timeout-layer.js';
