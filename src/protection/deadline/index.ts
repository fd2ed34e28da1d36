/**
 * Deadline: one end-to-end time limit across retries and hedges.
 *
 * @module
 */
export * from './deadline-layer.js';
