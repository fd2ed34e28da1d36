/**
 * Helpers for tests of the foundation and of services built on it: a fake clock (more helpers join later).
 *
 * @module @elixirscope/foundation/testing
 */
export * from './fake-clock.js';
