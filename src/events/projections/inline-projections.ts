/**
 * Inline projections: the {@link InlineProjector} an event store adapter calls inside its append
 * transaction. Each registered inline projection routes the request's events (filter, then `key`), loads
 * the touched rows, folds them and writes the changes; every projection of a request is folded before
 * anything is written, so a throwing `evolve` leaves nothing behind.
 *
 * @module
 */
import type pg from 'pg';
import { FoundationError } from '../../errors/index.js';
import type { Clock } from '../../kernel/clock.js';
import { compileMatcher, type EventMatcher } from '../model/query-memory.js';
import type { JsonValue, StoredEvent } from '../model/types.js';
import type { RoutedBatch, RowChange } from './fold.js';
import { foldBatch, routeEvents } from './fold.js';
import type { InlineProjector } from './inline-hook.js';
import type { MemoryProjectionStore } from './memory-projection-store.js';
import type { NamedChange } from './postgres-projection-store.js';
import type { SqliteProjectionStore } from './sqlite-projection-store.js';
import type { ValidDefinition } from './validate-definition.js';

/** The synchronous row access of the memory and SQLite stores. */
type SyncRows = Pick<MemoryProjectionStore | SqliteProjectionStore, 'loadSync' | 'writeSync'>;

/** The PostgreSQL row access, loaded with the adapter (so `pg` is imported only on PostgreSQL). */
export interface PgRows {
  lockLoadInline(
    client: pg.PoolClient,
    projections: readonly string[],
    keys: readonly (readonly [string, string])[],
  ): Promise<Map<string, Map<string, JsonValue>>>;
  writeChanges(
    client: pg.PoolClient,
    changes: readonly NamedChange[],
    now: number,
    advanceInline: boolean,
  ): Promise<void>;
}

interface Registered {
  readonly def: ValidDefinition;
  readonly match: EventMatcher;
}

/** The inline projections of one `Projections` service, as an {@link InlineProjector}. */
export class InlineProjections implements InlineProjector {
  readonly #clock: Clock;
  readonly #sync: SyncRows | undefined;
  readonly #pg: PgRows | undefined;
  /** By name, kept sorted by name (locks are taken in this order). */
  #registered: readonly Registered[] = [];
  /** Open captures (memory rebuilds): the events of every request projected while they are open. */
  readonly #captures = new Set<StoredEvent[]>();

  constructor(clock: Clock, rows: { readonly sync?: SyncRows; readonly pg?: PgRows }) {
    this.#clock = clock;
    this.#sync = rows.sync;
    this.#pg = rows.pg;
  }

  get active(): boolean {
    return this.#registered.length > 0;
  }

  /** Names of the registered inline projections. */
  names(): string[] {
    return this.#registered.map((r) => r.def.name);
  }

  /** Adds (or replaces) an inline projection. */
  add(def: ValidDefinition): void {
    const next = this.#registered.filter((r) => r.def.name !== def.name);
    next.push({ def, match: compileMatcher(def.filter) });
    next.sort((a, b) => (a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0));
    this.#registered = next;
  }

  /** Removes an inline projection; appends stop updating it. */
  remove(name: string): void {
    this.#registered = this.#registered.filter((r) => r.def.name !== name);
  }

  /**
   * Starts recording the events of every request {@link InlineProjections.projectSync} accepts (memory
   * rebuilds: the appends made while the log is read). `close()` stops it.
   */
  capture(): { readonly events: StoredEvent[]; close(): void } {
    const events: StoredEvent[] = [];
    this.#captures.add(events);
    return { events, close: () => this.#captures.delete(events) };
  }

  projectSync(events: readonly StoredEvent[]): void {
    const rows = this.#sync;
    if (rows === undefined || this.#registered.length === 0) return;
    const planned: { name: string; changes: RowChange[] }[] = [];
    for (const { def, match } of this.#registered) {
      const routed = routeEvents(def, events, match);
      if (routed.keys.length === 0) continue;
      planned.push({ name: def.name, changes: foldBatch(def, routed, rows.loadSync(def.name, routed.keys)) });
    }
    for (const captured of this.#captures) captured.push(...events);
    const now = this.#clock.now();
    for (const { name, changes } of planned) rows.writeSync(name, changes, now);
  }

  async projectGroup(
    client: pg.PoolClient,
    requests: readonly (readonly StoredEvent[] | undefined)[],
  ): Promise<readonly (FoundationError | undefined)[]> {
    const failures = new Array<FoundationError | undefined>(requests.length).fill(undefined);
    const pgRows = this.#pg;
    if (pgRows === undefined || this.#registered.length === 0) return failures;
    // Route first: a group no projection cares about costs no round trip.
    const routed: (RoutedBatch | undefined)[][] = [];
    const touched = new Set<string>();
    const pairs: [string, string][] = [];
    const seen = new Set<string>();
    for (let i = 0; i < requests.length; i++) {
      const events = requests[i];
      const perDef: (RoutedBatch | undefined)[] = [];
      for (const { def, match } of this.#registered) {
        if (events === undefined) {
          perDef.push(undefined);
          continue;
        }
        let batch: RoutedBatch;
        try {
          batch = routeEvents(def, events, match);
        } catch (error) {
          failures[i] = asProjectionFailure(error);
          perDef.push(undefined);
          continue;
        }
        perDef.push(batch.keys.length === 0 ? undefined : batch);
        if (batch.keys.length === 0) continue;
        touched.add(def.name);
        for (const key of batch.keys) {
          const id = `${def.name}\u0000${key}`;
          if (!seen.has(id)) {
            seen.add(id);
            pairs.push([def.name, key]);
          }
        }
      }
      routed.push(perDef);
    }
    if (touched.size === 0) return failures;
    const loaded = await pgRows.lockLoadInline(client, [...touched].sort(), pairs);
    // Working rows after the requests accepted so far: undefined = deleted.
    const working = new Map<string, Map<string, RowChange>>();
    for (let i = 0; i < requests.length; i++) {
      if (failures[i] !== undefined) continue;
      const perDef = routed[i] as (RoutedBatch | undefined)[];
      const staged: { name: string; changes: RowChange[] }[] = [];
      try {
        for (let d = 0; d < this.#registered.length; d++) {
          const batch = perDef[d];
          if (batch === undefined) continue;
          const { def } = this.#registered[d] as Registered;
          const current = new Map<string, JsonValue>();
          const done = working.get(def.name);
          const stored = loaded.get(def.name);
          for (const key of batch.keys) {
            const change = done?.get(key);
            const state = change !== undefined ? change.state : stored?.get(key);
            if (state !== undefined) current.set(key, state);
          }
          staged.push({ name: def.name, changes: foldBatch(def, batch, current) });
        }
      } catch (error) {
        failures[i] = asProjectionFailure(error);
        continue;
      }
      for (const { name, changes } of staged) {
        let rows = working.get(name);
        if (rows === undefined) {
          rows = new Map();
          working.set(name, rows);
        }
        for (const change of changes) rows.set(change.key, change);
      }
    }
    if (failures.some((f) => f !== undefined)) return failures;
    const all: NamedChange[] = [];
    for (const [projection, rows] of working) {
      for (const change of rows.values()) all.push({ projection, change });
    }
    await pgRows.writeChanges(client, all, this.#clock.now(), true);
    return failures;
  }
}

function asProjectionFailure(error: unknown): FoundationError {
  if (error instanceof FoundationError && error.code === 'FND_EVENTS_PROJECTION_FAILED') return error;
  throw error;
}
