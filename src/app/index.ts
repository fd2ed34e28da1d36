/**
 * The composition root.
 *
 * @module
 */
export * from './foundation.js';
