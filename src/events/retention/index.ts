/**
 * Retention of the event log: policies by age and count per type pattern, a scheduled service that reports
 * every run as an event, and store targets (memory, SQLite, PostgreSQL with opt-in time partitioning).
 *
 * @module
 */
export * from './create-retention-target.js';
export * from './event-retention.js';
export * from './memory-retention.js';
export * from './postgres-retention.js';
export * from './sqlite-retention.js';
export { MAX_RETENTION_POLICIES, validatePolicies as validateRetentionPolicies } from './policy.js';
export type * from './types.js';
export {
  convertToPartitioned,
  listPartitions,
  validatePartitioning,
  type ConversionReport,
  type PartitionInfo,
  type PartitionInterval,
  type PartitioningOptions,
} from '../stores/postgres-partitioning.js';
