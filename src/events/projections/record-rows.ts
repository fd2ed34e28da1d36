/**
 * Conversions between SQL rows and projection records / rows, shared by the SQLite and PostgreSQL stores.
 *
 * @module
 */
import type { JsonValue } from '../model/types.js';
import type { ProjectionRecord, StoredProjectionStatus } from './projection-store.js';
import type { ProjectionMode, ProjectionRow } from './types.js';

/** A `foundation_projections` row as either driver returns it. */
export interface RecordSqlRow {
  readonly projection: string;
  readonly mode: string;
  readonly checkpoint: string | null;
  readonly position: number | string;
  readonly status: string;
  readonly target: number | string | null;
  /** Text on SQLite, parsed JSONB on PostgreSQL. */
  readonly error: string | ProjectionRecord['error'];
  readonly updated: number | string;
}

/** A `foundation_projection_states` row. */
export interface StateSqlRow {
  readonly key: string;
  /** Text on SQLite, parsed JSONB on PostgreSQL. */
  readonly state: string | JsonValue;
  readonly position: number | string;
  readonly updated: number | string;
}

/** Columns of a record, in {@link RecordSqlRow} order. */
export const RECORD_COLUMNS = 'projection, mode, checkpoint, position, status, target, error, updated';

/** The record of a SQL row. */
export function toRecord(row: RecordSqlRow, errorIsText: boolean): ProjectionRecord {
  const error =
    row.error === null
      ? null
      : errorIsText
        ? (JSON.parse(row.error as string) as ProjectionRecord['error'])
        : (row.error as ProjectionRecord['error']);
  return {
    name: row.projection,
    mode: row.mode as ProjectionMode,
    checkpoint: row.checkpoint,
    position: Number(row.position),
    status: row.status as StoredProjectionStatus,
    target: row.target === null ? null : Number(row.target),
    error,
    updated: Number(row.updated),
  };
}

/** The projection row of a SQL row. */
export function toProjectionRow(row: StateSqlRow, stateIsText: boolean): ProjectionRow {
  return {
    key: row.key,
    state: stateIsText ? (JSON.parse(row.state as string) as JsonValue) : row.state,
    position: Number(row.position),
    updated: Number(row.updated),
  };
}
