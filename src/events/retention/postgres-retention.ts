/**
 * Retention on the PostgreSQL event store: bounded deletes (`WITH doomed AS (SELECT … LIMIT n) DELETE …`),
 * each its own autocommitted statement, and, with time partitioning, partition upkeep before the deletes:
 * convert the table once, create the next partitions, drop whole partitions past the `*` age limit.
 *
 * @module
 */
import type pg from 'pg';
import { FoundationError } from '../../errors/index.js';
import { classifyPgError, type Storage } from '../../storage/index.js';
import { pgRows } from '../stores/postgres-client.js';
import { pruneCommitOrder } from '../stores/postgres-committed.js';
import { dropPartitionsBefore, premakePartitions } from '../stores/postgres-partitioning-maintain.js';
import {
  convertToPartitioned,
  isPartitioned,
  listPartitions,
  validatePartitioning,
  type PartitioningOptions,
} from '../stores/postgres-partitioning.js';
import { deleteBatchSql, nthNewestSql } from './retention-sql.js';
import type {
  MaintenancePlan,
  MaintenanceReport,
  RetentionBound,
  RetentionRule,
  RetentionTarget,
} from './types.js';

/** Options of a {@link PostgresRetentionTarget}. */
export interface PostgresRetentionOptions {
  /** Opt-in time partitioning: the first maintenance converts `foundation_events` (see docs/retention.md). */
  readonly partitioning?: PartitioningOptions;
}

/** A {@link RetentionTarget} on a PostgreSQL storage (start the event store first: its migrations must have run). */
export class PostgresRetentionTarget implements RetentionTarget {
  /** Always `postgres`. */
  readonly kind = 'postgres';
  readonly #storage: Storage;
  readonly #partitioning: Required<PartitioningOptions> | undefined;

  /** Validates the options (`FND_EVENTS_INVALID_POLICY`); connects nothing. */
  constructor(storage: Storage, options: PostgresRetentionOptions = {}) {
    this.#storage = storage;
    this.#partitioning =
      options.partitioning === undefined ? undefined : validatePartitioning(options.partitioning);
  }

  /** The `n`-th newest governed position, or `undefined`. */
  async nthNewest(rule: RetentionRule, n: number): Promise<number | undefined> {
    const s = nthNewestSql('postgres', rule, n);
    const rows = await pgRows<{ position: string | number }>(this.#pool(), s.text, s.values);
    const row = rows[0];
    return row === undefined ? undefined : Number(row.position);
  }

  /** One bounded delete (one autocommitted statement). */
  async deleteBatch(rule: RetentionRule, bound: RetentionBound, limit: number): Promise<number> {
    const s = deleteBatchSql('postgres', rule, bound, limit);
    try {
      return (await this.#pool().query(s.text, s.values)).rowCount ?? 0;
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  /**
   * With partitioning: converts the table when it is not partitioned yet (its partitions are reported as
   * created, `from` 0 for the history partition), creates the current and next
   * partitions, and drops whole partitions older than `plan.dropBefore`. Without: drops partitions only if
   * the table was partitioned by other means (never converts). Always: deletes the commit-order rows
   * (`foundation_event_txs`) whose events are all gone.
   */
  async maintain(plan: MaintenancePlan): Promise<MaintenanceReport> {
    const pool = this.#pool();
    try {
      const created = [];
      if (this.#partitioning !== undefined) {
        const handle = this.#storage.handle();
        const schema = handle.kind === 'postgres' ? handle.schema : 'public';
        const conversion = await convertToPartitioned(pool, schema, this.#partitioning, plan.now);
        if (conversion.converted) {
          for (const p of await listPartitions(pool)) {
            if (!p.isDefault) created.push({ name: p.name, from: p.from ?? 0, to: p.to ?? 0, events: 0 });
          }
        }
        created.push(...(await premakePartitions(pool, this.#partitioning, plan.now)));
      }
      const dropped =
        plan.dropBefore !== undefined && (await isPartitioned(pool))
          ? await dropPartitionsBefore(pool, plan.dropBefore, plan.batchSize)
          : [];
      // The commit-order rows of events earlier ticks deleted (and of partitions just dropped).
      await pruneCommitOrder(pool, plan.batchSize);
      return { created, dropped };
    } catch (error) {
      throw error instanceof FoundationError ? error : classifyPgError(error);
    }
  }

  #pool(): pg.Pool {
    const handle = this.#storage.handle();
    if (handle.kind !== 'postgres') {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: `PostgresRetentionTarget needs a PostgreSQL storage, got ${handle.kind}`,
        context: { kind: handle.kind },
        retryStrategy: 'no_retry',
      });
    }
    return handle.pool;
  }
}
