/**
 * Rows of `foundation_events` on PostgreSQL: the column list every read selects, and the mapping of a row to
 * a {@link StoredEvent}.
 *
 * @module
 */
import type { JsonObject, JsonValue, StoredEvent } from '../model/types.js';

/** The columns every event read selects, in this order (unqualified; `search_path` names the schema). */
export const PG_EVENT_COLUMNS =
  'position, id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node';

/**
 * A row of `foundation_events` as `pg` returns it. BIGINT columns arrive as numbers when the storage installed
 * its int8 parser, as strings otherwise; JSONB columns arrive parsed.
 */
export interface PgEventRow {
  readonly position: number | string;
  readonly id: string;
  readonly type: string;
  readonly stream: string | null;
  readonly stream_version: number | string | null;
  readonly time: number | string;
  readonly monotonic: number;
  readonly correlation_id: string | null;
  readonly causation_id: string | null;
  readonly parent_id: string | null;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
  readonly node: string;
}

/** Maps a `foundation_events` row to a {@link StoredEvent}. */
export function pgRowToEvent(row: PgEventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    streamVersion: row.stream_version === null ? null : Number(row.stream_version),
    position: Number(row.position),
    time: Number(row.time),
    monotonic: row.monotonic,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    parentId: row.parent_id,
    data: row.data,
    metadata: row.metadata,
    node: row.node,
  };
}
