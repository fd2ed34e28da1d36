/**
 * The storage layer shared by every capability: a store chosen by URL (`memory:`, `sqlite:<path>`,
 * `postgres://…`), the `Storage` that opens and shares its connection, per-capability migrations, the schema
 * dump behind the drift test, and the classification of PostgreSQL errors.
 *
 * The registry of every capability's migrations (`all-migrations.ts`) is deliberately not exported here: it
 * imports the capabilities, and the storage layer must not depend on them.
 *
 * @packageDocumentation
 * @module
 */
export * from './capability-handle.js';
export * from './migrations.js';
export * from './pg-errors.js';
export * from './pg-pool.js';
export * from './schema-dump.js';
export * from './sqlite-connection.js';
export * from './storage.js';
export * from './store-url.js';
export type * from './types.js';
