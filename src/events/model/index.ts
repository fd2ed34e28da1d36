/**
 * The event model: types, the store port, ids, validation and preparation of appends, expected versions,
 * content equality, causation trees, and the query DSL (validation, cursors, in-memory evaluation, SQL).
 *
 * @module
 */
export * from './causation-tree.js';
export * from './cursor.js';
export * from './expected-version.js';
export * from './ids.js';
export * from './json-check.js';
export type * from './port.js';
export * from './query-memory.js';
export * from './query-page.js';
export * from './query-path.js';
export * from './query-sql.js';
export * from './query-validate.js';
export * from './same-content.js';
export * from './types.js';
export * from './validate-event.js';
