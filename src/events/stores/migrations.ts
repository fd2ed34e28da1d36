/**
 * Migrations of the `events` capability, in both SQL dialects. Append-only: a released migration is never
 * edited or renumbered; changes go in a new entry.
 *
 * @module
 */
import type { Migration } from '../../storage/types.js';

const SQLITE_V1 = `
CREATE TABLE foundation_events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  stream TEXT NULL,
  stream_version INTEGER NULL,
  time INTEGER NOT NULL,
  monotonic REAL NOT NULL,
  correlation_id TEXT NULL,
  causation_id TEXT NULL,
  parent_id TEXT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  node TEXT NOT NULL,
  UNIQUE (stream, stream_version)
);
CREATE INDEX foundation_events_type_position ON foundation_events (type, position);
CREATE INDEX foundation_events_correlation_position ON foundation_events (correlation_id, position);
CREATE INDEX foundation_events_time ON foundation_events (time);
CREATE TABLE foundation_streams (
  stream TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);
`;

const POSTGRES_V1 = `
CREATE TABLE foundation_events (
  position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT COLLATE "C" NOT NULL,
  stream TEXT NULL,
  stream_version BIGINT NULL,
  time BIGINT NOT NULL,
  monotonic DOUBLE PRECISION NOT NULL,
  correlation_id TEXT NULL,
  causation_id TEXT NULL,
  parent_id TEXT NULL,
  data JSONB NOT NULL,
  metadata JSONB NOT NULL,
  node TEXT NOT NULL,
  UNIQUE (stream, stream_version)
);
CREATE INDEX foundation_events_type_position ON foundation_events (type, position);
CREATE INDEX foundation_events_correlation_position ON foundation_events (correlation_id, position);
CREATE INDEX foundation_events_time ON foundation_events (time);
CREATE TABLE foundation_streams (
  stream TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
`;

// Version 2: snapshots of the states folded from foundation_events streams (one row per stream and kind).
const SQLITE_V2 = `
-- Aggregate snapshots: the state folded from a stream of foundation_events up to a stream version.
CREATE TABLE foundation_snapshots (
  stream TEXT NOT NULL,
  kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (stream, kind)
);
`;

const POSTGRES_V2 = `
-- Aggregate snapshots: the state folded from a stream of foundation_events up to a stream version.
CREATE TABLE foundation_snapshots (
  stream TEXT NOT NULL,
  kind TEXT NOT NULL,
  version BIGINT NOT NULL,
  state JSONB NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (stream, kind)
);
`;

// Version 3: commit order for live subscriptions. PostgreSQL records each event's transaction id (positions
// come from a sequence at insert, not at commit); subscriptions read by (tx, position) below the snapshot's
// xmin. Existing rows get the migration's transaction id (one transaction: their order stays by position).
// SQLite commits one writer at a time: position order is commit order, nothing to add.
const SQLITE_V3 = `
-- Live subscriptions: SQLite's commit order is position order (one writer at a time); no change.
SELECT 1;
`;

const POSTGRES_V3 = `
-- Live subscriptions: the transaction that wrote each event, for delivery in commit order.
ALTER TABLE foundation_events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX foundation_events_tx_position ON foundation_events (tx, position);
`;

// Version 4: PostgreSQL's correlation index leaves out events without a correlation id (appended outside any
// context): they were one index entry per event that no lookup can use (`correlation_id = $1` never matches
// NULL, and the planner proves the partial index covers it). One index entry less per such event on the
// append path (≈ 5 % of the server time of a batch of 100, measured interleaved). Same name, so plans and
// tools that name it are unchanged. On a partitioned table the index is dropped and rebuilt on every
// partition. SQLite is unchanged.
const SQLITE_V4 = `
-- The partial correlation index is PostgreSQL's only; no change.
SELECT 1;
`;

const POSTGRES_V4 = `
-- Correlation lookups only ever match events with a correlation id: index only those.
DROP INDEX foundation_events_correlation_position;
CREATE INDEX foundation_events_correlation_position ON foundation_events (correlation_id, position)
  WHERE correlation_id IS NOT NULL;
`;

// Version 5: commit order without an index entry per event. The `(tx, position)` index (version 3) cost one
// B-tree entry per event on every append (≈ 7–10 % of a batch of 100, measured interleaved). Instead, each
// INSERT statement into foundation_events records one row: its transaction and the lowest and highest
// position it inserted. A statement-level trigger writes that row, so every writer records it, including an
// older release still running during a rolling deploy (its statements do not know the table). Subscriptions
// read the transactions in order and each one's events by position (primary key) within its range, keeping
// only that transaction's rows (other transactions' positions may interleave). Existing events get their rows
// from a GROUP BY (one per transaction: the range may hold other transactions' rows, the filter skips them).
// The trigger resolves the table through the session's search_path, which the foundation's pools set to its
// schema. SQLite is unchanged.
const SQLITE_V5 = `
-- Commit order on SQLite is position order (one writer at a time); no change.
SELECT 1;
`;

const POSTGRES_V5 = `
-- Commit order: one row per INSERT statement (its transaction, its lowest and highest position).
CREATE TABLE foundation_event_txs (
  tx xid8 NOT NULL,
  lo bigint NOT NULL,
  hi bigint NOT NULL,
  PRIMARY KEY (tx, lo)
);
CREATE FUNCTION foundation_event_txs_record() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO foundation_event_txs (tx, lo, hi)
  SELECT pg_current_xact_id(), min(n.position), max(n.position) FROM fnd_txs_new n HAVING count(*) > 0;
  RETURN NULL;
END $fn$;
CREATE TRIGGER foundation_event_txs_record AFTER INSERT ON foundation_events
  REFERENCING NEW TABLE AS fnd_txs_new FOR EACH STATEMENT EXECUTE FUNCTION foundation_event_txs_record();
INSERT INTO foundation_event_txs (tx, lo, hi)
SELECT tx, min(position), max(position) FROM foundation_events GROUP BY tx;
DROP INDEX foundation_events_tx_position;
`;

/**
 * The `events` capability's migrations: version 1 creates `foundation_events` (the global log: position,
 * id, type, stream and stream version, wall and monotonic time, correlation / causation / parent ids, JSON
 * data and metadata, node) with its indexes, and `foundation_streams` (each stream's current version);
 * version 2 creates `foundation_snapshots` (an aggregate's state per stream and snapshot kind, at a stream
 * version, with the wall time it was saved); version 3 adds `tx` (PostgreSQL: the writing transaction's id,
 * `xid8`, with an index on `(tx, position)`) for live subscriptions in commit order (nothing on SQLite);
 * version 4 makes PostgreSQL's `(correlation_id, position)` index partial
 * (`WHERE correlation_id IS NOT NULL`; nothing on SQLite); version 5 replaces PostgreSQL's `(tx, position)`
 * index with `foundation_event_txs` (one row per INSERT statement: its transaction and position range,
 * written by a statement-level trigger; nothing on SQLite).
 */
export const EVENTS_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'create events', sqlite: SQLITE_V1, postgres: POSTGRES_V1 }),
  Object.freeze({ version: 2, name: 'create snapshots', sqlite: SQLITE_V2, postgres: POSTGRES_V2 }),
  Object.freeze({ version: 3, name: 'commit order', sqlite: SQLITE_V3, postgres: POSTGRES_V3 }),
  Object.freeze({
    version: 4,
    name: 'partial correlation index',
    sqlite: SQLITE_V4,
    postgres: POSTGRES_V4,
  }),
  Object.freeze({ version: 5, name: 'commit order by statement', sqlite: SQLITE_V5, postgres: POSTGRES_V5 }),
]);
