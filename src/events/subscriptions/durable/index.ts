/**
 * Durable named subscriptions and consumer groups: checkpoints stored in the foundation's store,
 * at-least-once delivery, resume after restart, partitions leased to live members.
 *
 * @module
 */
export * from './assignment.js';
export type * from './checkpoint-store.js';
export * from './create-checkpoint-store.js';
export * from './durable-subscription.js';
export type * from './events-port.js';
export * from './memory-checkpoint-store.js';
export { SUBSCRIPTIONS_MIGRATIONS } from './migrations.js';
export * from './partition.js';
export { SqliteCheckpointStore, type SqliteCheckpointStoreOptions } from './sqlite-checkpoint-store.js';
export type * from './types.js';
export {
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_GROUP_PARTITIONS,
  DEFAULT_LEASE_MS,
  MAX_GROUP_PARTITIONS,
} from './validate-options.js';
