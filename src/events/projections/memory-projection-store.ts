/**
 * Projections in memory: records and rows in Maps (rows as JSON text, so nobody aliases a stored state).
 * Every method is synchronous underneath, so a batch commit is atomic without a transaction.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { compareCodePoints } from '../model/query-memory.js';
import type { JsonValue } from '../model/types.js';
import type { RowChange } from './fold.js';
import type { BatchCommit, ProjectionRecord, ProjectionStore } from './projection-store.js';
import type { ProjectionMode, ProjectionRow } from './types.js';

interface MemoryRow {
  readonly json: string;
  readonly position: number;
  readonly updated: number;
}

/** A {@link ProjectionStore} in memory; nothing survives the process. */
export class MemoryProjectionStore implements ProjectionStore {
  /** Always `memory`. */
  readonly kind = 'memory';
  readonly #records = new Map<string, ProjectionRecord>();
  readonly #rows = new Map<string, Map<string, MemoryRow>>();

  /** Nothing to migrate. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** The projection record, created (`running`) when absent; a record of the other mode is switched. */
  ensure(name: string, mode: ProjectionMode, now: number): Promise<ProjectionRecord> {
    const found = this.#records.get(name);
    if (found !== undefined && found.mode === mode) return Promise.resolve(found);
    const record: ProjectionRecord = found
      ? { ...found, mode, updated: now }
      : {
          name,
          mode,
          checkpoint: null,
          position: 0,
          status: 'running',
          target: null,
          error: null,
          updated: now,
        };
    this.#records.set(name, record);
    return Promise.resolve(record);
  }

  /** The projection record, or `undefined` when it was never created. */
  record(name: string): Promise<ProjectionRecord | undefined> {
    return Promise.resolve(this.#records.get(name));
  }

  /** Every projection record. */
  records(): Promise<ProjectionRecord[]> {
    return Promise.resolve([...this.#records.values()].sort((a, b) => compareCodePoints(a.name, b.name)));
  }

  /** The row `key` of the projection, or `undefined`. */
  get(name: string, key: string): Promise<ProjectionRow | undefined> {
    const row = this.#rows.get(name)?.get(key);
    return Promise.resolve(row === undefined ? undefined : toRow(key, row));
  }

  /** Rows by key ascending, after `after`, at most `limit`. */
  list(name: string, after: string | undefined, limit: number): Promise<ProjectionRow[]> {
    const rows = this.#rows.get(name);
    if (rows === undefined) return Promise.resolve([]);
    const keys = [...rows.keys()]
      .filter((key) => after === undefined || compareCodePoints(key, after) > 0)
      .sort(compareCodePoints)
      .slice(0, limit);
    return Promise.resolve(keys.map((key) => toRow(key, rows.get(key) as MemoryRow)));
  }

  /** Commits one batch: rows and checkpoint together. Returns the updated record. */
  commitBatch(batch: BatchCommit): Promise<ProjectionRecord> {
    try {
      const record = this.#recordOrThrow(batch.name);
      if (record.checkpoint !== batch.expected) throw checkpointConflict(batch.name);
      const changes = batch.plan(this.loadSync(batch.name, batch.keys));
      this.writeSync(batch.name, changes, batch.now);
      const next: ProjectionRecord = {
        ...record,
        checkpoint: batch.checkpoint,
        position: Math.max(record.position, batch.position),
        ...(batch.finishRebuild ? { status: 'running' as const, target: null } : {}),
        updated: batch.now,
      };
      this.#records.set(batch.name, next);
      return Promise.resolve(next);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Deletes the rows, clears the checkpoint and starts a rebuild towards `target`. */
  reset(name: string, target: number, now: number): Promise<ProjectionRecord> {
    const record = this.#records.get(name);
    if (record === undefined) return Promise.reject(unknownProjection(name));
    this.#rows.delete(name);
    const next: ProjectionRecord = {
      ...record,
      checkpoint: null,
      position: 0,
      status: target > 0 ? 'rebuilding' : 'running',
      target: target > 0 ? target : null,
      error: null,
      updated: now,
    };
    this.#records.set(name, next);
    return Promise.resolve(next);
  }

  /** Marks the projection failed; the rows stay as the last batch left them. */
  fail(name: string, error: NonNullable<ProjectionRecord['error']>, now: number): Promise<void> {
    const record = this.#records.get(name);
    if (record !== undefined) this.#records.set(name, { ...record, status: 'failed', error, updated: now });
    return Promise.resolve();
  }

  /** Clears a failure: back to `rebuilding` when a target is set, else `running`. */
  resume(name: string, now: number): Promise<void> {
    const record = this.#records.get(name);
    if (record !== undefined && record.status === 'failed') {
      const status = record.target === null ? 'running' : 'rebuilding';
      this.#records.set(name, { ...record, status, error: null, updated: now });
    }
    return Promise.resolve();
  }

  /**
   * Replaces every row of projection `name` by `rows` and sets its record `running` at `position`, at once
   * (an inline rebuild's swap).
   */
  replaceRows(name: string, rows: readonly RowChange[], position: number, now: number): ProjectionRecord {
    const record = this.#recordOrThrow(name);
    const next = new Map<string, MemoryRow>();
    for (const change of rows) {
      if (change.json !== null)
        next.set(change.key, { json: change.json, position: change.position, updated: now });
    }
    this.#rows.set(name, next);
    const updated: ProjectionRecord = {
      ...record,
      checkpoint: null,
      position,
      status: 'running',
      target: null,
      error: null,
      updated: now,
    };
    this.#records.set(name, updated);
    return updated;
  }

  /** The current states of `keys` (inline projections: called inside the memory store's append). */
  loadSync(name: string, keys: readonly string[]): Map<string, JsonValue> {
    const rows = this.#rows.get(name);
    const out = new Map<string, JsonValue>();
    if (rows === undefined) return out;
    for (const key of keys) {
      const row = rows.get(key);
      if (row !== undefined) out.set(key, JSON.parse(row.json) as JsonValue);
    }
    return out;
  }

  /** Writes changes and advances the record's position (inline projections). */
  writeSync(name: string, changes: readonly RowChange[], now: number): void {
    let rows = this.#rows.get(name);
    if (rows === undefined) {
      rows = new Map();
      this.#rows.set(name, rows);
    }
    let position = 0;
    for (const change of changes) {
      if (change.json === null) rows.delete(change.key);
      else rows.set(change.key, { json: change.json, position: change.position, updated: now });
      position = Math.max(position, change.position);
    }
    const record = this.#records.get(name);
    if (record !== undefined && record.mode === 'inline' && position > record.position) {
      this.#records.set(name, { ...record, position, updated: now });
    }
  }

  #recordOrThrow(name: string): ProjectionRecord {
    const record = this.#records.get(name);
    if (record === undefined) throw unknownProjection(name);
    return record;
  }
}

function toRow(key: string, row: MemoryRow): ProjectionRow {
  return { key, state: JSON.parse(row.json) as JsonValue, position: row.position, updated: row.updated };
}

/** `FND_EVENTS_CHECKPOINT_CONFLICT`: another runner committed a batch of this projection meanwhile. */
export function checkpointConflict(name: string): FoundationError {
  return new FoundationError('FND_EVENTS_CHECKPOINT_CONFLICT', {
    message: `Projection ${name} was advanced by another runner (its checkpoint moved)`,
    context: { projection: name },
  });
}

/** `FND_DATA_NOT_FOUND` for a projection that has no record. */
export function unknownProjection(name: string): FoundationError {
  return new FoundationError('FND_DATA_NOT_FOUND', {
    message: `Unknown projection ${name}`,
    context: { projection: name },
  });
}
