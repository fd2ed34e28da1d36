/**
 * Migrations of the `config` capability (configuration versions), in both SQL dialects. Append-only: a
 * released migration is never edited or renumbered; changes go in a new entry.
 *
 * @module
 */
import type { Migration } from '../../storage/types.js';

const SQLITE_V1 = `
-- One row per configuration version, numbered 1, 2, 3… without gaps. JSON columns hold JSON text.
CREATE TABLE config_versions (
  version INTEGER PRIMARY KEY CHECK (version > 0),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  node TEXT NOT NULL,
  overrides TEXT NOT NULL,
  config TEXT NOT NULL,
  changes TEXT NOT NULL,
  rolled_back_to INTEGER NULL,
  reason TEXT NULL,
  actor TEXT NULL,
  correlation_id TEXT NULL
);
`;

const POSTGRES_V1 = `
-- One row per configuration version, numbered 1, 2, 3… without gaps.
CREATE TABLE config_versions (
  version INTEGER PRIMARY KEY CHECK (version > 0),
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  node TEXT NOT NULL,
  overrides JSONB NOT NULL,
  config JSONB NOT NULL,
  changes JSONB NOT NULL,
  rolled_back_to INTEGER NULL,
  reason TEXT NULL,
  actor TEXT NULL,
  correlation_id TEXT NULL
);
`;

/**
 * The `config` capability's migrations: version 1 creates `config_versions` (version, creation time in ms
 * since the epoch, kind, writing node, the runtime overrides and whole configuration after the version, the
 * redacted changes as JSON, the version a rollback went back to, and reason / actor / correlation id).
 */
export const CONFIG_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'create config versions',
    sqlite: SQLITE_V1,
    postgres: POSTGRES_V1,
  }),
]);
