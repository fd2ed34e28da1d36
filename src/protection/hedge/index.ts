/**
 * Hedging: extra attempts after a delay, first success wins.
 *
 * @module
 */
export * from './hedge-layer.js';
