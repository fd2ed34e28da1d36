/**
 * The snapshot store port: the latest saved state of an aggregate per stream and snapshot kind.
 *
 * @module
 */
import type { JsonValue } from '../model/types.js';

/** A saved state: the stream version it was folded up to, and the state as JSON. */
export interface Snapshot {
  /** The stream version the state includes (≥ 1). */
  readonly version: number;
  /** The serialized state. */
  readonly state: JsonValue;
}

/**
 * Where aggregates keep snapshots. One snapshot per `(stream, kind)`: `kind` names the decider and the
 * version of its state's schema (e.g. `account@1`), so a new state shape simply uses a new kind.
 */
export interface SnapshotStore {
  /** The snapshot of `stream` for `kind`, or `undefined` when none was saved. */
  load(stream: string, kind: string): Promise<Snapshot | undefined>;
  /**
   * Saves a snapshot at `version`; an upsert that never moves backwards: when the stored snapshot's version
   * is the same or higher, nothing changes.
   */
  save(stream: string, kind: string, version: number, state: JsonValue): Promise<void>;
}
