/**
 * Config versions in SQLite (the storage's connection). An append checks the latest version and inserts in
 * one `BEGIN IMMEDIATE` transaction, so writers in this process and in others on the same file never take
 * the same version. Watchers are notified in-process, through the {@link ConfigWatchHub} of the storage.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import { SqliteCapability, type Storage } from '../../storage/index.js';
import type { ConfigVersionRecord, ConfigVersionStore } from '../types.js';
import { ConfigWatchHub } from './config-watch-hub.js';
import { CONFIG_MIGRATIONS } from './migrations.js';
import { StoreWatchers } from './store-watchers.js';
import {
  decodeConfigVersion,
  encodeConfigVersion,
  isStorableVersion,
  listArgs,
  configVersionColumns,
  sinceArg,
  versionConflict,
  type ConfigVersionRow,
  type EncodedConfigVersion,
} from './version-record-codec.js';

const COLUMNS =
  'version, at, kind, node, overrides, config, changes, rolled_back_to, reason, actor, correlation_id';

const SQL = {
  maxVersion: 'SELECT MAX(version) AS version FROM config_versions',
  latest: `SELECT ${COLUMNS} FROM config_versions ORDER BY version DESC LIMIT 1`,
  get: `SELECT ${COLUMNS} FROM config_versions WHERE version = ?`,
  list: `SELECT ${COLUMNS} FROM config_versions WHERE version < ? ORDER BY version DESC LIMIT ?`,
  since: `SELECT ${COLUMNS} FROM config_versions WHERE version > ? ORDER BY version`,
  insert: `INSERT INTO config_versions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
} as const;

type Statements = { readonly db: BetterSqlite3.Database } & {
  readonly [K in keyof typeof SQL]: BetterSqlite3.Statement;
};

/** Options of {@link SqliteConfigVersionStore}. */
export interface SqliteConfigVersionStoreOptions {
  /** The watchers shared with the other stores of the same `Storage` object. Default: a private hub. */
  readonly hub?: ConfigWatchHub;
}

function classifySqlite(error: unknown, version?: number): FoundationError {
  if (error instanceof FoundationError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (version !== undefined && code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return versionConflict(version, version);
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return new FoundationError('FND_STORAGE_UNAVAILABLE', {
      message: `SQLite is busy: ${message}`,
      context: { code },
      cause: error,
    });
  }
  return new FoundationError('FND_STORAGE_QUERY_FAILED', {
    message: `SQLite failed: ${message}`,
    context: typeof code === 'string' ? { code } : {},
    cause: error,
  });
}

/**
 * A {@link ConfigVersionStore} on SQLite. The storage must be open; migrations run at `open()` or first use.
 * Failures are `FND_STORAGE_UNAVAILABLE` (busy) or `FND_STORAGE_QUERY_FAILED`.
 */
export class SqliteConfigVersionStore implements ConfigVersionStore {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  readonly #access: SqliteCapability<Statements>;
  readonly #hub: ConfigWatchHub;
  readonly #watchers: StoreWatchers;

  /** @param storage - an opened SQLite storage. */
  constructor(storage: Storage, options: SqliteConfigVersionStoreOptions = {}) {
    this.#access = new SqliteCapability(
      storage,
      'config',
      CONFIG_MIGRATIONS,
      'SQLite config version store',
      (db) =>
        ({
          db,
          ...Object.fromEntries(Object.entries(SQL).map(([key, sql]) => [key, db.prepare(sql)] as const)),
        }) as Statements,
    );
    this.#hub = options.hub ?? new ConfigWatchHub();
    this.#watchers = new StoreWatchers(this.#hub);
  }

  /** {@inheritDoc ConfigVersionStore.open} */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** {@inheritDoc ConfigVersionStore.close} */
  close(): Promise<void> {
    this.#watchers.clear();
    return Promise.resolve();
  }

  /** {@inheritDoc ConfigVersionStore.latest} */
  async latest(): Promise<ConfigVersionRecord | undefined> {
    const s = await this.#access.ready();
    return this.#one(() => s.latest.get());
  }

  /** {@inheritDoc ConfigVersionStore.get} */
  async get(version: number): Promise<ConfigVersionRecord | undefined> {
    const s = await this.#access.ready();
    if (!isStorableVersion(version)) return undefined;
    return this.#one(() => s.get.get(version));
  }

  /** {@inheritDoc ConfigVersionStore.list} */
  async list(options?: {
    readonly limit?: number;
    readonly before?: number;
  }): Promise<ConfigVersionRecord[]> {
    const { limit, before } = listArgs(options);
    const s = await this.#access.ready();
    return this.#many(() => s.list.all(before ?? Number.MAX_SAFE_INTEGER, limit));
  }

  /** {@inheritDoc ConfigVersionStore.since} */
  async since(version: number): Promise<ConfigVersionRecord[]> {
    const after = sinceArg(version);
    const s = await this.#access.ready();
    return this.#many(() => s.since.all(after));
  }

  /** {@inheritDoc ConfigVersionStore.append} */
  async append(record: ConfigVersionRecord): Promise<void> {
    const encoded = encodeConfigVersion(record);
    const s = await this.#access.ready();
    try {
      s.db
        .transaction((e: EncodedConfigVersion) => {
          const latest = (s.maxVersion.get() as { version: number | null }).version ?? 0;
          if (e.version !== latest + 1) throw versionConflict(e.version, latest);
          s.insert.run(...configVersionColumns(e));
        })
        .immediate(encoded);
    } catch (error) {
      throw classifySqlite(error, encoded.version);
    }
    this.#hub.notify(encoded.version);
  }

  /** {@inheritDoc ConfigVersionStore.watch} */
  watch(onVersion: (version: number) => void): () => void {
    return this.#watchers.add(onVersion);
  }

  #one(read: () => unknown): ConfigVersionRecord | undefined {
    try {
      const row = read() as ConfigVersionRow | undefined;
      return row === undefined ? undefined : decodeConfigVersion(row);
    } catch (error) {
      throw classifySqlite(error);
    }
  }

  #many(read: () => unknown[]): ConfigVersionRecord[] {
    try {
      return (read() as ConfigVersionRow[]).map(decodeConfigVersion);
    } catch (error) {
      throw classifySqlite(error);
    }
  }
}
