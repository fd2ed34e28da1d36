/**
 * Retention on the SQLite event store: bounded `DELETE … WHERE position IN (SELECT … LIMIT n)` statements on
 * the storage's connection, each its own (autocommitted) transaction.
 *
 * @module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { FoundationError } from '../../errors/index.js';
import type { Storage } from '../../storage/index.js';
import { classifySqliteError } from '../stores/sqlite-rows.js';
import { deleteBatchSql, nthNewestSql, type RetentionStatement } from './retention-sql.js';
import type { RetentionBound, RetentionRule, RetentionTarget } from './types.js';

/** A {@link RetentionTarget} on a SQLite storage (the events migrations must have run: start the store first). */
export class SqliteRetentionTarget implements RetentionTarget {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  readonly #storage: Storage;

  /** @param storage - the open SQLite storage of the event store. */
  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** The `n`-th newest governed position, or `undefined`. */
  nthNewest(rule: RetentionRule, n: number): Promise<number | undefined> {
    return this.#run(nthNewestSql('sqlite', rule, n), (s, v) => {
      const row = s.get(...v) as { position: number } | undefined;
      return row?.position;
    });
  }

  /** One bounded delete. */
  deleteBatch(rule: RetentionRule, bound: RetentionBound, limit: number): Promise<number> {
    return this.#run(deleteBatchSql('sqlite', rule, bound, limit), (s, v) => s.run(...v).changes);
  }

  #run<T>(statement: RetentionStatement, use: (s: BetterSqlite3.Statement, v: unknown[]) => T): Promise<T> {
    try {
      const handle = this.#storage.handle();
      if (handle.kind !== 'sqlite') {
        throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
          message: `SqliteRetentionTarget needs a SQLite storage, got ${handle.kind}`,
          context: { kind: handle.kind },
        });
      }
      return Promise.resolve(use(handle.db.prepare(statement.text), statement.values));
    } catch (error) {
      return Promise.reject(error instanceof FoundationError ? error : classifySqliteError(error));
    }
  }
}
