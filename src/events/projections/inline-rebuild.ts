/**
 * Rebuild and backfill of inline projections: a pure fold of the whole log through a definition
 * ({@link LogFold}), fed page by page by the store that holds the append lock meanwhile (SQLite: one
 * `BEGIN IMMEDIATE` transaction; PostgreSQL: a transaction holding `LOCK TABLE foundation_events IN SHARE ROW
 * EXCLUSIVE MODE`; memory: see `Projections`), whose rows then replace the projection's rows in that same
 * transaction.
 *
 * @module
 */
import { compileMatcher, type EventMatcher } from '../model/query-memory.js';
import type { JsonValue, StoredEvent } from '../model/types.js';
import type { RowChange } from './fold.js';
import { foldBatch, routeEvents } from './fold.js';
import type { ProjectionRecord } from './projection-store.js';
import type { ValidDefinition } from './validate-definition.js';

/** Events read per page while an inline projection is rebuilt. */
export const INLINE_REBUILD_PAGE = 2000;

/** Where a rebuild reports its progress (the target is the log's last position when the lock was taken). */
export interface RebuildSink {
  started(target: number): void;
  progress(position: number, target: number): void;
}

/** What the SQLite and PostgreSQL projection stores offer for inline rebuilds. */
export interface InlineRebuilder {
  /**
   * With appends blocked (store's lock), folds the whole log into `fold`, replaces every row of projection
   * `name` by the fold's rows and sets its record `running` at the fold's position, in one transaction.
   * A throwing fold (`FND_EVENTS_PROJECTION_FAILED`) rolls everything back: the rows stay as they were.
   */
  rebuildInline(name: string, fold: LogFold, sink: RebuildSink, now: number): Promise<ProjectionRecord>;
}

/**
 * The rows of a projection folded from the log, one page of events after the other (in position order).
 * `evolve` errors surface as `FND_EVENTS_PROJECTION_FAILED` (see `foldBatch`).
 */
export class LogFold {
  readonly #def: ValidDefinition;
  readonly #match: EventMatcher;
  readonly #rows = new Map<string, RowChange>();
  #position = 0;
  #events = 0;

  constructor(def: ValidDefinition) {
    this.#def = def;
    this.#match = compileMatcher(def.filter);
  }

  /** Position of the last event folded (0 before any). */
  get position(): number {
    return this.#position;
  }

  /** How many events (matching or not) were read. */
  get events(): number {
    return this.#events;
  }

  /** Folds the next events of the log (position order, after {@link LogFold.position}). */
  add(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const routed = routeEvents(this.#def, events, this.#match);
    const current = new Map<string, JsonValue>();
    for (const key of routed.keys) {
      const row = this.#rows.get(key);
      if (row?.state !== undefined) current.set(key, row.state);
    }
    for (const change of foldBatch(this.#def, routed, current)) {
      if (change.state === undefined) this.#rows.delete(change.key);
      else this.#rows.set(change.key, change);
    }
    this.#events += events.length;
    this.#position = Math.max(this.#position, (events[events.length - 1] as StoredEvent).position);
  }

  /** The folded rows (every one has a state). */
  rows(): RowChange[] {
    return [...this.#rows.values()];
  }
}
