/**
 * Migrations of the `subscriptions` capability (durable subscriptions and consumer groups), in both SQL
 * dialects. Append-only: a released migration is never edited or renumbered; changes go in a new entry.
 *
 * @module
 */
import type { Migration } from '../../../storage/types.js';

const SQLITE_V1 = `
-- One row per durable subscription name: its partition count (fixed once created) and where it started.
CREATE TABLE foundation_subscriptions (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  start_position INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
-- One row per (subscription, partition): the last acknowledged checkpoint and the lease of the member handling it.
CREATE TABLE foundation_subscription_checkpoints (
  name TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  checkpoint TEXT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  owner TEXT NULL,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (name, partition_id)
);
-- Live members of a consumer group, kept alive by heartbeats.
CREATE TABLE foundation_subscription_members (
  name TEXT NOT NULL,
  member TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (name, member)
);
`;

const POSTGRES_V1 = `
-- One row per durable subscription name: its partition count (fixed once created) and where it started.
CREATE TABLE foundation_subscriptions (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  start_position BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
-- One row per (subscription, partition): the last acknowledged checkpoint and the lease of the member handling it.
CREATE TABLE foundation_subscription_checkpoints (
  name TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  checkpoint TEXT NULL,
  position BIGINT NOT NULL DEFAULT 0,
  owner TEXT NULL,
  lease_expires_at BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (name, partition_id)
);
-- Live members of a consumer group, kept alive by heartbeats.
CREATE TABLE foundation_subscription_members (
  name TEXT NOT NULL,
  member TEXT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (name, member)
);
`;

/**
 * The `subscriptions` capability's migrations: version 1 creates `foundation_subscriptions` (name, partition
 * count, start position), `foundation_subscription_checkpoints` (per name and partition: checkpoint, position,
 * lease owner and expiry) and `foundation_subscription_members` (heartbeats of a consumer group's members).
 * Times are ms since the epoch.
 */
export const SUBSCRIPTIONS_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'create subscription checkpoints',
    sqlite: SQLITE_V1,
    postgres: POSTGRES_V1,
  }),
]);
