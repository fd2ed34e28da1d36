/**
 * Retention of the event log: the policies callers give, the rules they compile to, what one run reports,
 * and the port a store implements to delete ({@link RetentionTarget}).
 *
 * @module
 */

/**
 * One retention policy: the events whose type matches `types` (an exact type, a prefix pattern like
 * `order.*`, or `*`) and that this policy governs (see {@link RetentionRule}) are deleted when older than
 * `maxAgeMs`, or when they are not among the `maxCount` newest (by position) events the policy governs,
 * counted over the whole log. At least one of the two limits; both together delete what either allows.
 */
export interface RetentionPolicy {
  /** Type pattern: `order.created`, `order.*` or `*`. One pattern per policy, each pattern at most once. */
  readonly types: string;
  /** Delete governed events whose `time` is more than this many ms before the run's `now`. */
  readonly maxAgeMs?: number;
  /** Keep only this many governed events, the newest by position; delete the older ones. */
  readonly maxCount?: number;
}

/** A type pattern, parsed. `prefix` keeps its trailing dot (`order.*` → `order.`). */
export type TypePattern =
  | { readonly kind: 'exact'; readonly type: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'all' };

/**
 * A policy with the events it governs: those its pattern matches and no more specific pattern of another
 * policy matches (`excluded`). Every event is governed by at most one policy: the most specific match (an
 * exact type beats a prefix, a longer prefix beats a shorter one, `*` comes last).
 */
export interface RetentionRule {
  /** The policy: its type pattern and its limits. */
  readonly policy: RetentionPolicy;
  /** The parsed type pattern of the policy. */
  readonly pattern: TypePattern;
  /** More specific patterns of other policies: events they match are governed by those. */
  readonly excluded: readonly TypePattern[];
}

/** Which governed events one delete batch may take: older than `beforeTime` or below `beforePosition`. */
export type RetentionBound =
  | { readonly beforeTime: number; readonly beforePosition?: undefined }
  | { readonly beforePosition: number; readonly beforeTime?: undefined };

/** A partition created or dropped by a run (PostgreSQL time partitioning). */
export interface PartitionChange {
  /** The partition's table name. */
  readonly name: string;
  /** Range of `time`, ms: `from` inclusive, `to` exclusive. */
  readonly from: number;
  /** End of the range of `time`, ms, exclusive. */
  readonly to: number;
  /** Events it held when dropped (0 for a created partition). */
  readonly events: number;
}

/** What a target's maintenance did before the deletes. */
export interface MaintenanceReport {
  /** Partitions created ahead of time. */
  readonly created: readonly PartitionChange[];
  /** Old partitions dropped whole, with the events they held. */
  readonly dropped: readonly PartitionChange[];
}

/** What the service asks a target's maintenance to do. */
export interface MaintenancePlan {
  /** The run's `now`, ms. */
  readonly now: number;
  /**
   * Whole partitions whose every event is older than this (upper bound ≤ it) may be dropped: set only when
   * every event older than it is deleted by the policies anyway (a `*` age policy no other policy outlives).
   */
  readonly dropBefore: number | undefined;
  /** Batch size for any row-by-row work (ids of dropped partitions). */
  readonly batchSize: number;
}

/**
 * What a store implements for retention (memory, SQLite, PostgreSQL). Every call is its own short
 * transaction; the service loops over batches. Implementations never touch `foundation_streams`.
 */
export interface RetentionTarget {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /** Position of the `n`-th newest event (by position) the rule governs, or `undefined` when fewer exist. */
  nthNewest(rule: RetentionRule, n: number): Promise<number | undefined>;
  /** Deletes at most `limit` events the rule governs within `bound`, oldest first; resolves the count. */
  deleteBatch(rule: RetentionRule, bound: RetentionBound, limit: number): Promise<number>;
  /** Work before the deletes (PostgreSQL partitions: create the next ones, drop whole old ones). */
  maintain?(plan: MaintenancePlan): Promise<MaintenanceReport>;
}

/** What one policy deleted in a run. */
export interface PolicyOutcome {
  /** The policy's type pattern, e.g. `audit.*`. */
  readonly types: string;
  /** The policy's age limit, ms, or `null` when it has none. */
  readonly maxAgeMs: number | null;
  /** The policy's count limit, or `null` when it has none. */
  readonly maxCount: number | null;
  /** Events deleted because they were older than `maxAgeMs` (row by row; dropped partitions not included). */
  readonly deletedByAge: number;
  /** Events deleted because newer ones filled `maxCount`. */
  readonly deletedByCount: number;
}

/**
 * The report of one run: also the `data` of the `foundation.retention.completed` event the run appends to
 * the log.
 */
export interface RetentionReport {
  /** The run's `now` (ms since the epoch). */
  readonly startedAt: number;
  /** Duration of the run on the clock's monotonic time, ms. */
  readonly durationMs: number;
  /** Every event deleted, row by row and with dropped partitions. */
  readonly deleted: number;
  /** Delete statements run (each its own transaction). */
  readonly batches: number;
  /** What each policy deleted. */
  readonly policies: readonly PolicyOutcome[];
  /** The partitions created and dropped before the deletes. */
  readonly partitions: MaintenanceReport;
}
