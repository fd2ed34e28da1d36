/**
 * The configuration capability's pure model: paths and path patterns, checked JSON values, layer merging,
 * diffs, environment and file parsing, redaction and schema validation. No I/O except `file.ts`.
 *
 * @module
 */
export * from './diff.js';
export * from './json-value.js';
export * from './merge.js';
export * from './path.js';
export * from './patterns.js';
