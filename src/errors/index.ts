/**
 * Errors and context: `FoundationError`, the code catalog, correlation context on AsyncLocalStorage.
 *
 * @module @elixirscope/foundation/errors
 */
export * from './catalog.js';
export * from './context.js';
export * from './foundation-error.js';
