/**
 * The event spool: appends kept on local disk while the event store (PostgreSQL) is unreachable, replayed
 * in order when it returns. See `docs/event-spool.md`.
 *
 * @module
 */
export { isSpooled, spoolHealth } from './spool-answers.js';
export type { RejectedSpoolEntry, SpoolEntry } from './spool-file.js';
export * from './spool-options.js';
export { SpoolingEventStorePort } from './spooling-port.js';
