/**
 * The configuration capability's pure model: paths and path patterns, checked JSON values, layer merging,
 * diffs, environment and file parsing, redaction and schema validation. No I/O except `file.ts`.
 *
 * @module
 */
export * from './diff.js';
export * from './env.js';
export * from './file.js';
export * from './json-locate.js';
export * from './json-value.js';
export * from './merge.js';
export * from './path.js';
export * from './patterns.js';
export * from './redact.js';
export * from './schema.js';
