/**
 * Helpers for tests of the foundation and of services built on it: a fake clock and error capture.
 *
 * @packageDocumentation
 * @module
 */
export * from './capture.js';
export * from './fake-clock.js';
