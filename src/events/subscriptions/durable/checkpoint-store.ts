/**
 * The port of durable subscriptions' coordination state: per subscription name, a partition count, one
 * checkpoint row per partition with the lease of the member handling it, and the members' heartbeats.
 * Adapters: memory (in-process), SQLite, PostgreSQL. Every operation is one atomic step on the store, so
 * members coordinate only through these rows.
 *
 * @module
 */

/** A subscription name's fixed settings, written once by the first member that starts it. */
export interface SubscriptionRecord {
  /** The subscription name. */
  readonly name: string;
  /** Number of partitions (1 for a plain durable subscription). Fixed once created. */
  readonly partitions: number;
  /** Where a partition without a checkpoint starts: after this position (0 = from the start). */
  readonly startPosition: number;
  /** Wall time of creation, ms. */
  readonly createdAt: number;
}

/** One partition's row. */
export interface PartitionRow {
  /** The partition number, from 0. */
  readonly partition: number;
  /** Checkpoint of the last acknowledged event, `null` before the first. */
  readonly checkpoint: string | null;
  /** Position of that event (0 before the first). */
  readonly position: number;
  /** Member holding the lease, `null` when free. */
  readonly owner: string | null;
  /** When the lease ends (store time, ms); the partition is free once `now >= leaseExpiresAt`. */
  readonly leaseExpiresAt: number;
  /** Wall time of the last checkpoint or lease change, ms. */
  readonly updatedAt: number;
}

/** A member's heartbeat row. */
export interface MemberRow {
  /** The member's id. */
  readonly member: string;
  /** Store time (ms) of the member's last heartbeat. */
  readonly heartbeatAt: number;
  /** Store time (ms) after which the member counts as dead. */
  readonly expiresAt: number;
}

/** What a heartbeat returns: the store's time and the group as the store sees it. */
export interface GroupView {
  /** The store's current time, ms (the time leases are compared with). */
  readonly now: number;
  /** Members whose heartbeat has not expired, sorted by id. */
  readonly members: readonly MemberRow[];
  /** Every partition, by number. */
  readonly partitions: readonly PartitionRow[];
}

/**
 * Coordination state of durable subscriptions. Times are the store's: the memory and SQLite adapters use
 * their clock, PostgreSQL uses the database server's clock, so members on different machines compare
 * leases with one clock.
 */
export interface CheckpointStore {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /** Runs the `subscriptions` migrations (idempotent). */
  open(): Promise<void>;
  /**
   * Creates the subscription and its partition rows if the name is new; returns the stored record (an
   * existing one wins, whatever the arguments).
   */
  ensure(name: string, partitions: number, startPosition: number): Promise<SubscriptionRecord>;
  /** The record and partition rows of a name, or `undefined` when it was never created. */
  read(name: string): Promise<{ record: SubscriptionRecord; partitions: PartitionRow[] } | undefined>;
  /**
   * Records that `member` is alive until now + `leaseMs`, renews every lease it holds by the same amount,
   * forgets members dead for long, and returns the group's view.
   */
  heartbeat(name: string, member: string, leaseMs: number): Promise<GroupView>;
  /**
   * Takes the leases of those `partitions` that are free, expired or already held by `member`, until now +
   * `leaseMs`. Returns the partitions now held (sorted).
   */
  acquire(name: string, member: string, partitions: readonly number[], leaseMs: number): Promise<number[]>;
  /** Gives up `member`'s leases on `partitions` (rows held by others are untouched). */
  release(name: string, member: string, partitions: readonly number[]): Promise<void>;
  /** Releases every lease of `member` and deletes its heartbeat row. */
  leave(name: string, member: string): Promise<void>;
  /**
   * Stores a partition's checkpoint, only while `member` holds an unexpired lease on it.
   *
   * @throws FoundationError `FND_EVENTS_CHECKPOINT_CONFLICT` when the lease is lost (expired or held by
   *   another member); the stored checkpoint is unchanged.
   */
  commit(
    name: string,
    partition: number,
    member: string,
    checkpoint: string,
    position: number,
  ): Promise<void>;
}
