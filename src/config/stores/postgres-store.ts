/**
 * Config versions in PostgreSQL (the storage's schema), shared by every node. An append is one statement:
 * it inserts the version only when it is the latest + 1 and calls `pg_notify(channel, version)`, so the
 * notification goes out with the commit and never for a refused version. Two writers taking the same
 * version at once: the loser hits the primary key (`23505`) and gets `FND_CONFIG_VERSION_CONFLICT`.
 *
 * @module
 */
import type pg from 'pg';
import type { FoundationError } from '../../errors/index.js';
import { classifyPgError, PostgresCapability, type Storage } from '../../storage/index.js';
import type { ConfigVersionRecord, ConfigVersionStore } from '../types.js';
import { CONFIG_MIGRATIONS } from './migrations.js';
import { configChannel, PgConfigListener } from './postgres-config-listener.js';
import {
  decodeConfigVersion,
  encodeConfigVersion,
  isStorableVersion,
  listArgs,
  configVersionColumns,
  sinceArg,
  versionConflict,
  type ConfigVersionRow,
} from './version-record-codec.js';
import { telemetryEvent } from '../../kernel/telemetry.js';

const watcherFailed = telemetryEvent('config:watcher_failed');

const COLUMNS =
  'version, at, kind, node, overrides, config, changes, rolled_back_to, reason, actor, correlation_id';

/** A named statement: parsed and planned once per connection. Names start with `fnd_config_`. */
interface Statement {
  readonly name: string;
  readonly text: string;
}

const MAX_VERSION: Statement = {
  name: 'fnd_config_max_version',
  text: 'SELECT MAX(version) AS version FROM config_versions',
};
const LATEST: Statement = {
  name: 'fnd_config_latest',
  text: `SELECT ${COLUMNS} FROM config_versions ORDER BY version DESC LIMIT 1`,
};
const GET: Statement = {
  name: 'fnd_config_get',
  text: `SELECT ${COLUMNS} FROM config_versions WHERE version = $1::int`,
};
const LIST: Statement = {
  name: 'fnd_config_list',
  text: `SELECT ${COLUMNS} FROM config_versions WHERE version < $1::bigint ORDER BY version DESC LIMIT $2::int`,
};
const SINCE: Statement = {
  name: 'fnd_config_since',
  text: `SELECT ${COLUMNS} FROM config_versions WHERE version > $1::bigint ORDER BY version`,
};
const APPEND: Statement = {
  name: 'fnd_config_append',
  text: `WITH inserted AS (
  INSERT INTO config_versions (${COLUMNS})
  SELECT $1::int, $2::bigint, $3::text, $4::text, $5::jsonb, $6::jsonb, $7::jsonb, $8::int, $9::text, $10::text, $11::text
  WHERE $1::int = (SELECT COALESCE(MAX(version), 0) + 1 FROM config_versions)
  RETURNING version
)
SELECT version, pg_notify($12::text, version::text) AS notified FROM inserted`,
};

const UNIQUE_VIOLATION = '23505';

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A {@link ConfigVersionStore} on PostgreSQL. The storage must be open; migrations run at `open()` or first
 * use. Each store object holds one LISTEN connection while it has watchers. Failures are
 * `FND_STORAGE_UNAVAILABLE` (server unreachable) or `FND_STORAGE_QUERY_FAILED`.
 */
export class PostgresConfigVersionStore implements ConfigVersionStore {
  readonly kind = 'postgres';
  readonly #access: PostgresCapability;
  readonly #channel: string;
  readonly #watchers = new Set<(version: number) => void>();
  #listener: PgConfigListener | undefined;

  /** @param storage - a PostgreSQL storage (open before the first call). */
  constructor(storage: Storage) {
    this.#access = new PostgresCapability(
      storage,
      'config',
      CONFIG_MIGRATIONS,
      'PostgreSQL config version store',
    );
    this.#channel = configChannel(storage.location.kind === 'postgres' ? storage.location.schema : '');
  }

  /** The notification channel of this storage's schema. */
  get channel(): string {
    return this.#channel;
  }

  async open(): Promise<void> {
    await this.#access.ready();
  }

  close(): Promise<void> {
    this.#watchers.clear();
    this.#listener?.stop();
    this.#listener = undefined;
    return Promise.resolve();
  }

  async latest(): Promise<ConfigVersionRecord | undefined> {
    return (await this.#rows(LATEST, []))[0];
  }

  async get(version: number): Promise<ConfigVersionRecord | undefined> {
    if (!isStorableVersion(version)) {
      await this.#access.ready();
      return undefined;
    }
    return (await this.#rows(GET, [version]))[0];
  }

  async list(options?: {
    readonly limit?: number;
    readonly before?: number;
  }): Promise<ConfigVersionRecord[]> {
    const { limit, before } = listArgs(options);
    return this.#rows(LIST, [before ?? Number.MAX_SAFE_INTEGER, limit]);
  }

  async since(version: number): Promise<ConfigVersionRecord[]> {
    return this.#rows(SINCE, [sinceArg(version)]);
  }

  async append(record: ConfigVersionRecord): Promise<void> {
    const e = encodeConfigVersion(record);
    const pool = await this.#access.ready();
    let inserted: number;
    try {
      const result = await pool.query(statement(APPEND, [...configVersionColumns(e), this.#channel]));
      inserted = result.rows.length;
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) throw versionConflict(e.version, e.version);
      throw classifyPgError(error);
    }
    if (inserted === 1) return;
    const latest = (await this.#query<{ version: number | null }>(pool, MAX_VERSION, []))[0]?.version ?? 0;
    throw versionConflict(e.version, latest);
  }

  watch(onVersion: (version: number) => void): () => void {
    const wrapped = (version: number): void => {
      onVersion(version);
    };
    this.#watchers.add(wrapped);
    this.#listener ??= new PgConfigListener(
      () => this.#access.ready(),
      this.#channel,
      (version) => {
        this.#notify(version);
      },
    );
    this.#listener.start();
    return () => {
      if (!this.#watchers.delete(wrapped)) return;
      if (this.#watchers.size === 0) this.#listener?.stop();
    };
  }

  #notify(version: number): void {
    for (const watcher of [...this.#watchers]) {
      if (!this.#watchers.has(watcher)) continue;
      try {
        watcher(version);
      } catch (error) {
        if (watcherFailed.hasSubscribers) {
          watcherFailed.emit(
            { version },
            { message: error instanceof Error ? error.message : String(error) },
          );
        }
      }
    }
  }

  async #rows(s: Statement, values: readonly unknown[]): Promise<ConfigVersionRecord[]> {
    const pool = await this.#access.ready();
    return (await this.#query<ConfigVersionRow>(pool, s, values)).map(decodeConfigVersion);
  }

  /**
   * One read; a read that fails for a lost connection is tried once more (a pooled connection may have died
   * while idle before the pool noticed; a read has no effect to repeat).
   */
  async #query<R extends pg.QueryResultRow>(
    pool: pg.Pool,
    s: Statement,
    values: readonly unknown[],
  ): Promise<R[]> {
    const config = statement(s, values);
    try {
      return (await pool.query<R>(config)).rows;
    } catch (error) {
      const classified = classifyPgError(error);
      if (!isRetryableLoss(classified)) throw classified;
    }
    try {
      return (await pool.query<R>(config)).rows;
    } catch (error) {
      throw classifyPgError(error);
    }
  }
}

function statement(s: Statement, values: readonly unknown[]): pg.QueryConfig {
  return { name: s.name, text: s.text, values: [...values] };
}

function isRetryableLoss(error: FoundationError): boolean {
  return error.code === 'FND_STORAGE_UNAVAILABLE' && error.retryStrategy !== 'no_retry';
}
