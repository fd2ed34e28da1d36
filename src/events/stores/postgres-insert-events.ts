/**
 * The second statement of a PostgreSQL append group: insert every accepted event and set the streams'
 * versions, in one round trip.
 *
 * @module
 */
import type pg from 'pg';
import type { PreparedEvent } from '../model/port.js';

/**
 * One INSERT of the whole group from parallel arrays (`unnest … WITH ORDINALITY`, inserted in request order so
 * positions follow it), the stream versions updated from two more arrays, and stream rows created by the lock
 * but left unused (version 0) deleted, and the live subscriptions' channel notified (`$16`, delivered at
 * commit). Returns each new event's position.
 */
export const INSERT_EVENTS_SQL = `
WITH appended AS (
  INSERT INTO foundation_events
    (id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node)
  SELECT e.id, e.type, e.stream, e.stream_version, e.time, e.monotonic, e.correlation_id, e.causation_id,
    e.parent_id, e.data::jsonb, e.metadata::jsonb, e.node
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
    WITH ORDINALITY AS e(id, type, stream, stream_version, time, monotonic, correlation_id, causation_id,
      parent_id, data, metadata, node, ord)
  ORDER BY e.ord
  RETURNING position, id
), versions AS (
  UPDATE foundation_streams AS s SET version = v.version
  FROM unnest($13::text[], $14::bigint[]) AS v(stream, version)
  WHERE s.stream = v.stream
), unused AS (
  DELETE FROM foundation_streams WHERE stream = ANY($15::text[]) AND version = 0
), notified AS (
  SELECT pg_notify($16::text, '')
)
SELECT a.position, a.id FROM appended a CROSS JOIN notified`;

/** An event accepted for insertion, with its stream version (null without a stream). */
export interface PlannedRow {
  readonly event: PreparedEvent;
  readonly streamVersion: number | null;
}

/**
 * Inserts `rows`, sets the versions of `streamVersions`, deletes the `unusedStreams` rows still at version
 * 0 and notifies `channel` (at commit). Returns the position of each inserted event by id.
 */
export async function insertEvents(
  client: pg.PoolClient,
  rows: readonly PlannedRow[],
  streamVersions: ReadonlyMap<string, number>,
  unusedStreams: readonly string[],
  channel: string,
): Promise<Map<string, number>> {
  const n = rows.length;
  const id = new Array<string>(n);
  const type = new Array<string>(n);
  const stream = new Array<string | null>(n);
  const streamVersion = new Array<number | null>(n);
  const time = new Array<number>(n);
  const monotonic = new Array<number>(n);
  const correlationId = new Array<string | null>(n);
  const causationId = new Array<string | null>(n);
  const parentId = new Array<string | null>(n);
  const data = new Array<string>(n);
  const metadata = new Array<string>(n);
  const node = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as PlannedRow;
    const e = row.event;
    id[i] = e.id;
    type[i] = e.type;
    stream[i] = e.stream;
    streamVersion[i] = row.streamVersion;
    time[i] = e.time;
    monotonic[i] = e.monotonic;
    correlationId[i] = e.correlationId;
    causationId[i] = e.causationId;
    parentId[i] = e.parentId;
    data[i] = e.dataJson;
    metadata[i] = e.metadataJson;
    node[i] = e.node;
  }
  const result = await client.query<{ position: number | string; id: string }>({
    name: 'fnd_events_insert',
    text: INSERT_EVENTS_SQL,
    values: [
      id,
      type,
      stream,
      streamVersion,
      time,
      monotonic,
      correlationId,
      causationId,
      parentId,
      data,
      metadata,
      node,
      [...streamVersions.keys()],
      [...streamVersions.values()],
      unusedStreams,
      channel,
    ],
  });
  const positions = new Map<string, number>();
  for (const row of result.rows) positions.set(row.id, Number(row.position));
  return positions;
}
