/**
 * Migrations of the `projections` capability, in both SQL dialects. Append-only: a released migration is
 * never edited or renumbered.
 *
 * @module
 */
import type { Migration } from '../../storage/types.js';

const SQLITE_V1 = `
-- One record per projection: mode, the checkpoint of its last committed batch, status, rebuild target.
CREATE TABLE foundation_projections (
  projection TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  checkpoint TEXT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  target INTEGER NULL,
  error TEXT NULL,
  updated INTEGER NOT NULL
);
-- The rows of every projection: one JSON state per (projection, key).
CREATE TABLE foundation_projection_states (
  projection TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  position INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (projection, key)
);
`;

const POSTGRES_V1 = `
-- One record per projection: mode, the checkpoint of its last committed batch, status, rebuild target.
CREATE TABLE foundation_projections (
  projection TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  checkpoint TEXT NULL,
  position BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  target BIGINT NULL,
  error JSONB NULL,
  updated BIGINT NOT NULL
);
-- The rows of every projection: one JSON state per (projection, key).
CREATE TABLE foundation_projection_states (
  projection TEXT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  state JSONB NOT NULL,
  position BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (projection, key)
);
`;

/**
 * The `projections` capability's migrations: version 1 creates `foundation_projections` (one record per
 * projection: mode, checkpoint, position, status, rebuild target, error, updated) and
 * `foundation_projection_states` (one JSON state per projection and key, with the position of its last
 * event).
 */
export const PROJECTIONS_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'create projections', sqlite: SQLITE_V1, postgres: POSTGRES_V1 }),
]);
