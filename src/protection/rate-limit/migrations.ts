/**
 * Migrations of the `ratelimit` capability (shared rate-limit state), in both SQL dialects. Append-only: a
 * released migration is never edited or renumbered; changes go in a new entry.
 *
 * @module
 */
import type { Migration } from '../../storage/types.js';

// No SQLite store: on one machine the memory store already is the shared state. The entry keeps the
// capability's version numbers aligned across dialects.
const SQLITE_V1 = `
-- rate limits are kept in memory on SQLite deployments
`;

const POSTGRES_V1 = `
-- One row per limited key: the algorithm's state in a, b, c (meaning per algorithm) and the last decision,
-- which the upsert returns. expires_at (ms since the epoch): from then on the row is as good as absent.
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL,
  a BIGINT NOT NULL,
  b BIGINT NOT NULL,
  c BIGINT NOT NULL,
  allowed BOOLEAN NOT NULL,
  remaining BIGINT NOT NULL,
  retry_after_ms BIGINT NOT NULL,
  reset_ms BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
`;

const SQLITE_V2 = `
-- rate limits are kept in memory on SQLite deployments
`;

const POSTGRES_V2 = `
-- Rate-limit state is soft: after a crash a key's full allowance is back, which a limiter may grant. An
-- unlogged table writes no WAL, so a decision does not wait for a WAL flush (2-3x faster under load); its
-- rows are emptied by crash recovery and are not on streaming replicas.
ALTER TABLE rate_limits SET UNLOGGED;
`;

const SQLITE_V3 = `
-- rate limits are kept in memory on SQLite deployments
`;

const POSTGRES_V3 = `
-- A hold (429-style feedback from a dependency): until hold_until (ms since the epoch) every decision on the
-- key refuses, whatever the algorithm. 0: never held.
ALTER TABLE rate_limits ADD COLUMN hold_until BIGINT NOT NULL DEFAULT 0;
`;

/**
 * The `ratelimit` capability's migrations: version 1 creates, on PostgreSQL, `rate_limits` (key, algorithm, three state
 * numbers whose meaning depends on the algorithm, the last decision — allowed, remaining, retry-after and
 * reset in ms — and the time in ms since the epoch from which the row equals an absent one); version 2 makes
 * it UNLOGGED (no WAL: faster decisions; emptied after a crash, absent on replicas — a full allowance again);
 * version 3 adds `hold_until` (ms since the epoch until which every decision on the key refuses; 0 when none).
 */
export const RATELIMIT_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'create rate limits',
    sqlite: SQLITE_V1,
    postgres: POSTGRES_V1,
  }),
  Object.freeze({
    version: 2,
    name: 'rate limits unlogged',
    sqlite: SQLITE_V2,
    postgres: POSTGRES_V2,
  }),
  Object.freeze({
    version: 3,
    name: 'rate limit holds',
    sqlite: SQLITE_V3,
    postgres: POSTGRES_V3,
  }),
]);
