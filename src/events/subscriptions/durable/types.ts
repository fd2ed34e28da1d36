/**
 * Public shapes of durable subscriptions and consumer groups.
 *
 * @module
 */
import type { FoundationError } from '../../../errors/index.js';
import type { StoredEvent } from '../../model/types.js';
import type { SubscriptionFilter } from '../types.js';
import type { PartitionKey } from './partition.js';

/** What the handler learns about the event it handles. */
export interface DurableEventContext {
  /** The subscription's name. */
  readonly name: string;
  /** The member handling it. */
  readonly member: string;
  /** The event's partition (0 for a subscription without group). */
  readonly partition: number;
  /** The event's checkpoint (stored once the handler succeeded). */
  readonly checkpoint: string;
  /** 1 for the first try, 2… for retries. */
  readonly attempt: number;
}

/** Handles one event. Resolving acknowledges it; throwing makes it retried (see {@link DurableRetryOptions}). */
export type DurableHandler = (event: StoredEvent, context: DurableEventContext) => void | Promise<void>;

/**
 * Called with an event whose handler failed every attempt; resolving acknowledges the event and the
 * subscription goes on; throwing fails the subscription.
 */
export type DeadLetterHandler = (
  event: StoredEvent,
  error: unknown,
  context: DurableEventContext,
) => void | Promise<void>;

/** Retries of a failing handler: exponential backoff between attempts. */
export interface DurableRetryOptions {
  /** Tries in all, ≥ 1 (1 = no retry). Default 5. */
  readonly attempts?: number;
  /** Wait before the 2nd try, ms; doubled each time. Default 100. */
  readonly backoffMs?: number;
  /** Longest wait between tries, ms. Default 5 000. */
  readonly maxBackoffMs?: number;
}

/** Options of a consumer group. */
export interface DurableGroupOptions {
  /** This member's id, unique among live members (1–200 chars). Default `<host>-<pid>-<random>`. */
  readonly member?: string;
  /** The key that orders events: `'stream'` (default) or a function of the event. */
  readonly key?: PartitionKey;
  /** Number of partitions, 1–1024. Default 16. Fixed when the name is first created. */
  readonly partitions?: number;
}

/** Options of {@link durableSubscription}. */
export interface DurableSubscriptionOptions {
  /** The durable name (1–200 chars: letters, digits, `.`, `_`, `-`, `:`, `/`). */
  readonly name: string;
  /** Which events (the query DSL's filters). Default: every event. */
  readonly filter?: SubscriptionFilter;
  /** Handles each event, once acknowledged never again (unless redelivered after a crash). */
  readonly handler: DurableHandler;
  /** Where a new name starts: `'start'`, `'end'` (default) or after a position. Ignored for an existing name. */
  readonly from?: 'start' | 'end' | number;
  /** Consumer group: several members share the work by key. Without it the name has one partition. */
  readonly group?: DurableGroupOptions;
  /** A lease lasts this long unless renewed, ms (100 – 3 600 000). Default 10 000. */
  readonly leaseMs?: number;
  /** Heartbeat (lease renewal, rebalancing) period, ms, below `leaseMs / 2`. Default `leaseMs / 3`. */
  readonly heartbeatMs?: number;
  /** Store the checkpoint after this many events (1–100 000). Default 100. */
  readonly checkpointEvery?: number;
  /** …or this long after the first unstored one, ms (0 = after every event). Default 1 000. */
  readonly checkpointIntervalMs?: number;
  /** Retries of a failing handler. */
  readonly retry?: DurableRetryOptions;
  /** Where an event goes after its last failed attempt; without it the subscription fails. */
  readonly deadLetter?: DeadLetterHandler;
  /** Events read per page (passed to `subscribe`). */
  readonly batchSize?: number;
  /** Events buffered ahead of the handler (passed to `subscribe`). */
  readonly bufferSize?: number;
}

/** Lifecycle of a durable subscription handle. */
export type DurableState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** One partition as this member sees it. */
export interface DurablePartitionStatus {
  /** The partition number, from 0. */
  readonly partition: number;
  /** Last checkpoint handled by this member (stored or not yet). */
  readonly checkpoint: string | null;
  /** Its position. */
  readonly position: number;
  /** Position last stored in the checkpoint store. */
  readonly storedPosition: number;
  /** Events committed after the last one handled (as far as the partition's reader knows). */
  readonly lag: number;
  /** Events of this partition handled by this member since it took the partition. */
  readonly handled: number;
}

/** What a handle reports. */
export interface DurableStatus {
  /** The subscription name shared by the group. */
  readonly name: string;
  /** This member's id. */
  readonly member: string;
  /** Where the handle is in its lifecycle. */
  readonly state: DurableState;
  /** The failure, in state `failed` (`FND_EVENTS_SUBSCRIPTION_FAILED`). */
  readonly error: FoundationError | undefined;
  /**
   * Why the last heartbeat failed (the store unreachable…), `undefined` once one succeeds. While heartbeats
   * fail, leases are not renewed: after `leaseMs` the member stops handling (a health signal).
   */
  readonly heartbeatError: FoundationError | undefined;
  /** Partition count of the name. */
  readonly partitions: number;
  /** Partitions this member holds, with their progress. */
  readonly held: readonly DurablePartitionStatus[];
  /** Live members at the last heartbeat (ids, sorted). */
  readonly members: readonly string[];
  /** Largest lag among held partitions. */
  readonly lag: number;
  /** Events handled by this member since start. */
  readonly handled: number;
  /** Events sent to the dead-letter handler since start. */
  readonly deadLettered: number;
}

/** A running durable subscription. */
export interface DurableSubscription {
  /** The subscription name shared by the group. */
  readonly name: string;
  /** This member's id. */
  readonly member: string;
  /**
   * Creates the name if new, joins the group and starts handling the partitions it obtains. Resolves once the
   * first heartbeat is done.
   */
  start(): Promise<void>;
  /**
   * Stops: waits for the events being handled, stores their checkpoints, releases the leases. Idempotent.
   */
  stop(): Promise<void>;
  /** What the handle reports now: state, held partitions, lag, counts. */
  status(): DurableStatus;
  /** Resolves when stopped; rejects with `FND_EVENTS_SUBSCRIPTION_FAILED` when the subscription fails. */
  readonly done: Promise<void>;
}
