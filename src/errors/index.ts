/**
 * Errors and context: `FoundationError`, the code catalog, correlation context on AsyncLocalStorage and its
 * HTTP propagation, wrapping of foreign errors, `Result<T>`, and serialization for logs and problem+json.
 *
 * @packageDocumentation
 * @module
 */
export * from './catalog.js';
export * from './context.js';
export * from './context-headers.js';
export * from './foundation-error.js';
export * from './json-safe.js';
export * from './result.js';
export * from './serialize.js';
export * from './wrap.js';
