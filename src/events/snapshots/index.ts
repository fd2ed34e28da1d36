/**
 * Aggregate snapshots: the port, its memory / SQLite / PostgreSQL stores, and the aggregate helper's
 * snapshot options.
 *
 * @module
 */
export * from './aggregate-snapshots.js';
export * from './create-snapshot-store.js';
export * from './memory-snapshot-store.js';
export * from './snapshot-store.js';
export * from './sqlite-snapshot-store.js';
