/**
 * Fallback: an answer when the layers below fail.
 *
 * @module
 */
export * from './fallback-layer.js';
