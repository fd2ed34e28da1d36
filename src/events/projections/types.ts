/**
 * The public shapes of projections: a definition (how events fold into keyed JSON states), the stored state
 * rows, and what a projection reports about itself.
 *
 * @module
 */
import type { JsonValue, StoredEvent } from '../model/types.js';
import type { SubscriptionFilter } from '../subscriptions/types.js';

/**
 * When a projection is updated:
 * - `inline`: inside the append's transaction (never behind; a throwing `evolve` fails that append);
 * - `async`: after the commit, fed by a subscription, in batches whose state changes and checkpoint commit
 *   together (each event applied exactly once).
 */
export type ProjectionMode = 'inline' | 'async';

/**
 * A projection: events matching `filter` are routed by `key` to one row each, whose JSON state starts at
 * `initial(key)` and is folded with `evolve`. All three functions must be synchronous, pure and deterministic
 * (a rebuild folds the same events again and must reach the same states).
 *
 * @example
 * ```ts
 * const totals: ProjectionDefinition<{ count: number; total: number }> = {
 *   name: 'order-totals',
 *   filter: { types: ['order.*'] },
 *   key: (event) => event.stream ?? undefined,
 *   initial: () => ({ count: 0, total: 0 }),
 *   evolve: (state, event) => ({ count: state.count + 1, total: state.total + Number((event.data as { total?: number }).total ?? 0) }),
 *   mode: 'async',
 * };
 * ```
 */
export interface ProjectionDefinition<S extends JsonValue = JsonValue> {
  /** 1–100 characters `[A-Za-z0-9_.:-]`; unique per store. */
  readonly name: string;
  /** Which events the projection sees (query DSL filters). Default: every event. */
  readonly filter?: SubscriptionFilter;
  /** The row an event updates (1–500 characters), or `undefined` to ignore the event. */
  key(event: StoredEvent): string | undefined;
  /** The state of a row before its first event. */
  initial(key: string): S;
  /** The next state of a row, or `null` to delete the row. Must return JSON. */
  evolve(state: S, event: StoredEvent): S | null;
  /** Default `async`. */
  readonly mode?: ProjectionMode;
}

/** One row of a projection. */
export interface ProjectionRow<S extends JsonValue = JsonValue> {
  /** The row key (from the definition's `key`). */
  readonly key: string;
  /** The row's state, as folded by `evolve`. */
  readonly state: S;
  /** Position of the last event folded into this row. */
  readonly position: number;
  /** Wall time (ms) of the last change. */
  readonly updated: number;
}

/** Lifecycle of a projection. */
export type ProjectionState = 'running' | 'rebuilding' | 'failed' | 'stopped';

/** Progress of a rebuild: `ratio` = position / target (1 when the target is 0). */
export interface RebuildProgress {
  /** Highest position folded so far. */
  readonly position: number;
  /** The log head position when the rebuild began. */
  readonly target: number;
  /** `position / target`, from 0 to 1. */
  readonly ratio: number;
}

/** What a projection reports about itself (`Projections.status`). */
export interface ProjectionStatus {
  /** The projection's name. */
  readonly name: string;
  /** `inline` or `async`. */
  readonly mode: ProjectionMode;
  /**
   * `running` (async: following the log; inline: updated by appends), `rebuilding` (replaying from the start
   * towards `rebuild.target`), `failed` (stopped by a throwing `evolve`: see `error`), `stopped` (async,
   * registered here but not running, or stored but not registered in this process).
   */
  readonly state: ProjectionState;
  /** Highest position folded (async: of the last batch committed; inline: of the last change). */
  readonly position: number;
  /** Opaque subscription checkpoint of the last batch (async only). */
  readonly checkpoint: string | undefined;
  /** Present while rebuilding. */
  readonly rebuild: RebuildProgress | undefined;
  /** The failure, when `failed`: code, message, event id. */
  readonly error: { readonly code: string; readonly message: string; readonly eventId?: string } | undefined;
  /** Wall time (ms) of the last change of the record. */
  readonly updated: number;
}

/** Options of `Projections.list`. */
export interface ListProjectionOptions {
  /** Rows with a key greater than this (code-point order of the store's collation: keys are compared bytewise). */
  readonly after?: string;
  /** 1–1000, default 100. */
  readonly limit?: number;
}

/** Default page size of `Projections.list`. */
export const DEFAULT_PROJECTION_LIST_LIMIT = 100;
/** Largest page size of `Projections.list`. */
export const MAX_PROJECTION_LIST_LIMIT = 1000;
