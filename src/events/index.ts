/**
 * Events: an append-only log with streams, optimistic concurrency, idempotent appends, a query DSL and
 * correlation chains, on memory, SQLite or PostgreSQL.
 *
 * @packageDocumentation
 * @module
 */
export * from './aggregate.js';
export * from './create-event-store.js';
export * from './event-store.js';
export * from './model/index.js';
export { MemoryEventStore } from './stores/memory-store.js';
export { SqliteEventStore } from './stores/sqlite-store.js';
export { EVENTS_MIGRATIONS } from './stores/migrations.js';
export * from './snapshots/index.js';
export * from './subscriptions/types.js';
export * from './spool/index.js';
export * from './projections/index.js';
export * from './retention/index.js';
export * from './subscriptions/durable/index.js';
