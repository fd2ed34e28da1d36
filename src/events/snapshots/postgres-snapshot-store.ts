/**
 * Snapshots in PostgreSQL (`foundation_snapshots` in the storage's schema, JSONB states).
 *
 * @module
 */
import { PostgresCapability } from '../../storage/index.js';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type { Storage } from '../../storage/index.js';
import type { JsonValue } from '../model/types.js';
import { EVENTS_MIGRATIONS } from '../stores/migrations.js';
import { pgRows, type PgStatement } from '../stores/postgres-client.js';
import type { SqlSnapshotStoreOptions } from './sqlite-snapshot-store.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';
import { checkSnapshotArguments, snapshotJson } from './validate-snapshot.js';

const LOAD: PgStatement = {
  name: 'fnd_events_snapshot_load',
  text: 'SELECT version, state FROM foundation_snapshots WHERE stream = $1 AND kind = $2',
};
const SAVE: PgStatement = {
  name: 'fnd_events_snapshot_save',
  text: `INSERT INTO foundation_snapshots (stream, kind, version, state, time) VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (stream, kind) DO UPDATE SET version = excluded.version, state = excluded.state, time = excluded.time
WHERE excluded.version > foundation_snapshots.version`,
};

/**
 * A {@link SnapshotStore} on PostgreSQL. The storage must be open; the `events` migrations run at
 * {@link PostgresSnapshotStore.open} or on first use. Failures are `FND_STORAGE_UNAVAILABLE` (server
 * unreachable) or `FND_STORAGE_QUERY_FAILED`.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #clock: Clock;
  readonly #access: PostgresCapability;

  /** @param storage - an opened PostgreSQL storage. */
  constructor(storage: Storage, options: SqlSnapshotStoreOptions = {}) {
    this.#access = new PostgresCapability(storage, 'events', EVENTS_MIGRATIONS, 'PostgreSQL snapshot store');
    this.#clock = options.clock ?? systemClock;
  }

  /** Runs the `events` migrations (idempotent, safe when several processes open at once). */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** The snapshot of `stream` for `kind`, if any. */
  async load(stream: string, kind: string): Promise<Snapshot | undefined> {
    checkSnapshotArguments(stream, kind);
    const pool = await this.#access.ready();
    const rows = await pgRows<{ version: string; state: JsonValue }>(pool, LOAD, [stream, kind]);
    const row = rows[0];
    return row === undefined ? undefined : { version: Number(row.version), state: row.state };
  }

  /** Upserts unless a snapshot at the same or a later version is stored. */
  async save(stream: string, kind: string, version: number, state: JsonValue): Promise<void> {
    checkSnapshotArguments(stream, kind, version);
    const json = snapshotJson(state);
    const pool = await this.#access.ready();
    await pgRows(pool, SAVE, [stream, kind, version, json, this.#clock.now()]);
  }
}
