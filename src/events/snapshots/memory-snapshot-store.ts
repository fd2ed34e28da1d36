/**
 * Snapshots kept in memory (tests, the `memory:` storage).
 *
 * @module
 */
import type { JsonValue } from '../model/types.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';
import { checkSnapshotArguments, settle, snapshotJson } from './validate-snapshot.js';

/**
 * A {@link SnapshotStore} in a map. States are stored as JSON text, so a loaded state is a fresh copy that
 * later mutations of the saved object do not reach.
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #rows = new Map<string, { readonly version: number; readonly json: string }>();

  /** Nothing to open: present so every snapshot store opens the same way. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** The snapshot of `stream` for `kind`, if any. */
  load(stream: string, kind: string): Promise<Snapshot | undefined> {
    return settle(() => {
      checkSnapshotArguments(stream, kind);
      const row = this.#rows.get(key(stream, kind));
      return row === undefined
        ? undefined
        : { version: row.version, state: JSON.parse(row.json) as JsonValue };
    });
  }

  /** Saves unless a snapshot at the same or a later version is stored. */
  save(stream: string, kind: string, version: number, state: JsonValue): Promise<void> {
    return settle(() => {
      checkSnapshotArguments(stream, kind, version);
      const json = snapshotJson(state);
      const k = key(stream, kind);
      const current = this.#rows.get(k);
      if (current === undefined || version > current.version) this.#rows.set(k, { version, json });
    });
  }
}

function key(stream: string, kind: string): string {
  return JSON.stringify([stream, kind]);
}
