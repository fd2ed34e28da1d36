/**
 * The first statement of a PostgreSQL append group: lock every stream the group touches and read the events
 * that already hold the group's ids, in one round trip.
 *
 * @module
 */
import type pg from 'pg';
import { pgRowToEvent, type PgEventRow } from './postgres-rows.js';
import type { StoredEvent } from '../model/types.js';

/**
 * `INSERT … ON CONFLICT DO UPDATE` creates the rows of new streams and locks every stream row, in stream
 * order (so two groups never deadlock), and its RETURNING gives each stream's latest committed version even
 * when it had to wait for another writer (PostgreSQL re-reads the conflicting row after the wait, where a
 * plain `SELECT … FOR UPDATE` would not see a stream created after the statement's snapshot). The no-op
 * update is a HOT update: no index changes.
 *
 * The id lookup in the same statement reads the statement's snapshot, taken before any lock wait: an event
 * committed by another process during that wait is missed, and the INSERT that follows then fails with a
 * unique violation, which makes the caller retry the whole group once (the retry sees it).
 *
 * The lookup probes the `id` index once per id (`LATERAL … LIMIT 1`: `id = ANY($2)` is planned as a
 * sequential scan while the table has no statistics). A repeated id gives its row twice (harmless: keyed by id).
 *
 * Rows with a null `id` are stream rows (`stream`, `stream_version` = the stream's version); the others are
 * stored events.
 */
export const LOCK_STREAMS_SQL = `
WITH locked AS (
  INSERT INTO foundation_streams AS s (stream, version)
  SELECT name, 0 FROM unnest($1::text[]) AS name ORDER BY name
  ON CONFLICT (stream) DO UPDATE SET version = s.version
  RETURNING s.stream, s.version
)
SELECT NULL::bigint AS position, NULL::text AS id, NULL::text AS type, stream, version AS stream_version,
  NULL::bigint AS time, NULL::float8 AS monotonic, NULL::text AS correlation_id, NULL::text AS causation_id,
  NULL::text AS parent_id, NULL::jsonb AS data, NULL::jsonb AS metadata, NULL::text AS node
FROM locked
UNION ALL
SELECT f.position, f.id, f.type, f.stream, f.stream_version, f.time, f.monotonic, f.correlation_id,
  f.causation_id, f.parent_id, f.data, f.metadata, f.node
FROM unnest($2::text[]) AS u(id)
CROSS JOIN LATERAL (SELECT * FROM foundation_events e WHERE e.id = u.id LIMIT 1) AS f`;

/** A row of {@link LOCK_STREAMS_SQL}: a stream row (null id) or a stored event. */
type LockRow = Omit<PgEventRow, 'id'> & { readonly id: string | null };

/** What {@link lockStreams} found: each locked stream's version, and the stored events with the group's ids. */
export interface LockedState {
  readonly versions: Map<string, number>;
  readonly stored: Map<string, StoredEvent>;
}

/** Locks `streams` (distinct names) and reads the stored events whose id is in `ids`, inside a transaction. */
export async function lockStreams(
  client: pg.PoolClient,
  streams: readonly string[],
  ids: readonly string[],
): Promise<LockedState> {
  const result = await client.query<LockRow>({
    name: 'fnd_events_lock_streams',
    text: LOCK_STREAMS_SQL,
    values: [streams, ids],
  });
  const versions = new Map<string, number>();
  const stored = new Map<string, StoredEvent>();
  for (const row of result.rows) {
    if (row.id === null) versions.set(row.stream ?? '', Number(row.stream_version));
    else stored.set(row.id, pgRowToEvent({ ...row, id: row.id }));
  }
  return { versions, stored };
}
