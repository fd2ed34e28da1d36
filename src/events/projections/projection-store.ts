/**
 * The port of projection storage (memory, SQLite, PostgreSQL): the projection records
 * (`foundation_projections`) and their rows (`foundation_projection_states`), and the one-transaction batch
 * commit that makes async projections exactly-once.
 *
 * @module
 */
import type { JsonValue } from '../model/types.js';
import type { RowChange } from './fold.js';
import type { ProjectionMode, ProjectionRow } from './types.js';

/** Stored status of a projection (`stopped` is never stored: it is what a process without a runner sees). */
export type StoredProjectionStatus = 'running' | 'rebuilding' | 'failed';

/** One projection's record. */
export interface ProjectionRecord {
  /** The projection's name. */
  readonly name: string;
  /** `inline` (updated by appends) or `async` (a runner follows the log). */
  readonly mode: ProjectionMode;
  /** Subscription checkpoint of the last committed batch (async), `null` before the first. */
  readonly checkpoint: string | null;
  /** Highest position folded so far. */
  readonly position: number;
  /** Whether the projection is running, rebuilding or failed. */
  readonly status: StoredProjectionStatus;
  /** Log head position when the running rebuild began, `null` when not rebuilding. */
  readonly target: number | null;
  /** JSON `{code, message, eventId?}` of the failure, `null` unless failed. */
  readonly error: { readonly code: string; readonly message: string; readonly eventId?: string } | null;
  /** Wall time (ms) of the last change of the record. */
  readonly updated: number;
}

/** One async batch to commit. */
export interface BatchCommit {
  /** The projection's name. */
  readonly name: string;
  /** The checkpoint the runner resumed from; the commit fails with `FND_EVENTS_CHECKPOINT_CONFLICT` otherwise. */
  readonly expected: string | null;
  /** The subscription checkpoint of the batch's last event. */
  readonly checkpoint: string;
  /** Highest position of the batch. */
  readonly position: number;
  /** Keys the batch touches (sorted); their current states are loaded (and locked) before `plan`. */
  readonly keys: readonly string[];
  /** Folds the batch into the loaded states; may throw `FND_EVENTS_PROJECTION_FAILED` (nothing is written). */
  readonly plan: (current: ReadonlyMap<string, JsonValue>) => readonly RowChange[];
  /** When the batch completes a rebuild: the status becomes `running` and the target is cleared. */
  readonly finishRebuild: boolean;
  /** Wall time (ms) stored as the record's `updated`. */
  readonly now: number;
}

/** Storage of projections for one store kind. */
export interface ProjectionStore {
  /** The storage the projections live on. */
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  /** Runs the `projections` migrations. Idempotent. */
  open(): Promise<void>;
  /**
   * The projection's record, created (`running`, no checkpoint) when absent. A record stored with the other
   * mode is switched to `mode` and its rows are kept: rebuild it if they do not match.
   */
  ensure(name: string, mode: ProjectionMode, now: number): Promise<ProjectionRecord>;
  /** The projection's record, or `undefined` when it was never created. */
  record(name: string): Promise<ProjectionRecord | undefined>;
  /** Every projection's record. */
  records(): Promise<ProjectionRecord[]>;
  /** The row `key` of the projection, or `undefined`. */
  get(name: string, key: string): Promise<ProjectionRow | undefined>;
  /** Rows by key ascending (code-point order), after `after`, at most `limit`. */
  list(name: string, after: string | undefined, limit: number): Promise<ProjectionRow[]>;
  /** Commits one batch: rows and checkpoint in one transaction. Returns the updated record. */
  commitBatch(batch: BatchCommit): Promise<ProjectionRecord>;
  /**
   * In one transaction: deletes every row of the projection, clears its checkpoint and position, and sets it
   * `rebuilding` towards `target` (`running` when the target is 0).
   */
  reset(name: string, target: number, now: number): Promise<ProjectionRecord>;
  /** Marks the projection failed (the rows stay as the last committed batch left them). */
  fail(name: string, error: NonNullable<ProjectionRecord['error']>, now: number): Promise<void>;
  /** Clears a failure: back to `rebuilding` when a target is set, else `running`. */
  resume(name: string, now: number): Promise<void>;
}
