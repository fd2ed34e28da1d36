/**
 * Group commit: while the store commits a group of append requests, new requests queue; when a commit
 * finishes, everything queued (up to a bound) goes as the next group, in one store call. An idle committer
 * sends a request at once, so a lone writer waits for nobody; under load, many writers share a transaction.
 *
 * Two refinements make the groups full under load:
 *
 * - After a commit the next group is decided one macrotask later (`setImmediate`), not in the same tick:
 *   the callers just answered then have had the chance to submit their next append and join it. Deciding at
 *   once sent the queue before they resubmitted, so with 16 writers groups alternated 15, 1, 15, 1…
 *   (measured: groups of 16 instead of 8 on average, +18–38 % appends/s on PostgreSQL). While the decision
 *   is pending the committer stays busy, so no request bypasses the queue. A lone writer (a group of one
 *   request, nothing else queued or in flight) is not made to wait for that macrotask.
 * - A store may commit several groups at once (`maxConcurrentGroups`, the port's `maxConcurrentGroups`):
 *   the next group then executes while the previous one waits for its commit's flush.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../errors/index.js';
import type { Clock } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import type { AppendOutcome, AppendRequest } from './model/port.js';

const groupCommitted = telemetryEvent('events:group_committed');

/** Commits one group: one outcome per request, in order; rejects only when the store itself fails. */
export type CommitGroup = (requests: readonly AppendRequest[]) => Promise<AppendOutcome[]>;

/** Options of a {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most requests in one group (≥ 1). */
  readonly maxGroupRequests: number;
  /**
   * Most groups committing at once (≥ 1; default 1). A group is sent while others commit only when it shares
   * no stream and no event id with them, so appends that touch the same stream or id still reach the store
   * in call order, each after the commit of the one before.
   */
  readonly maxConcurrentGroups?: number;
  /** Times each group for telemetry. */
  readonly clock: Clock;
}

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: FoundationError) => void;
}

/** A group being committed; `keys` (the streams and ids it touches) computed only when another group is weighed. */
interface InFlightGroup {
  readonly requests: readonly AppendRequest[];
  keys?: ReadonlySet<string>;
}

/**
 * Turns a store's group append into a per-request `submit`. Requests go to the store in submission order
 * (FIFO), in groups of at most `maxGroupRequests`, at most `maxConcurrentGroups` groups at a time. Each
 * caller's promise settles only after the commit of the group its request went in, with that request's own
 * outcome. When the store rejects a group, every request of that group rejects with the error (a
 * `FoundationError`, foreign errors wrapped as `FND_STORAGE_QUERY_FAILED`); other groups are unaffected.
 * Publishes `events:group_committed` `{ requests, events, duration }` after each successful group.
 *
 * The deferred decision after a commit uses `setImmediate`, deliberately not `unref()`ed: callers are
 * awaiting the requests it sends, so it must keep the process alive as the store's I/O does. It never
 * outlives the work: {@link GroupCommit.idle} waits for it.
 */
export class GroupCommit {
  readonly #commit: CommitGroup;
  readonly #max: number;
  readonly #maxGroups: number;
  readonly #clock: Clock;
  #queue: Pending[] = [];
  /** The groups being committed. */
  readonly #inFlight = new Set<InFlightGroup>();
  /** A commit finished and the next group will be decided in the next macrotask. */
  #deciding = false;
  #idleWaiters: (() => void)[] = [];

  /** @param commit - the store's group append (e.g. `port.append.bind(port)`). */
  constructor(commit: CommitGroup, options: GroupCommitOptions) {
    const maxGroups = options.maxConcurrentGroups ?? 1;
    for (const [name, value] of [
      ['maxGroupRequests', options.maxGroupRequests],
      ['maxConcurrentGroups', maxGroups],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new FoundationError('FND_DATA_INVALID_INPUT', {
          message: `${name} must be an integer ≥ 1`,
          context: { [name]: value },
        });
      }
    }
    this.#commit = commit;
    this.#max = options.maxGroupRequests;
    this.#maxGroups = maxGroups;
    this.#clock = options.clock;
  }

  /** Requests waiting to be sent in a group. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Groups being committed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Whether a group is being committed or the next group is about to be decided. */
  get busy(): boolean {
    return this.#inFlight.size > 0 || this.#deciding;
  }

  /** Queues a request; resolves with its outcome once its group committed. */
  submit(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#deciding) this.#dispatch();
    });
  }

  /** Resolves when no group is in flight, no decision is pending and nothing is queued. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  #isIdle(): boolean {
    return this.#inFlight.size === 0 && !this.#deciding && this.#queue.length === 0;
  }

  /** Sends groups from the head of the queue while a slot is free and the head does not overlap. */
  #dispatch(): void {
    while (this.#queue.length > 0 && this.#inFlight.size < this.#maxGroups) {
      const taken = this.#take();
      if (taken === undefined) return;
      this.#send(taken);
    }
  }

  /**
   * The next group: the longest prefix of the queue (at most `maxGroupRequests`) whose requests touch no
   * stream or id of a group in flight; `undefined` when the head itself overlaps.
   */
  #take(): Pending[] | undefined {
    const limit = Math.min(this.#queue.length, this.#max);
    if (this.#inFlight.size === 0) return this.#splice(limit);
    const busy = new Set<string>();
    for (const group of this.#inFlight) {
      group.keys ??= groupKeys(group.requests);
      for (const key of group.keys) busy.add(key);
    }
    let count = 0;
    while (count < limit && !touches((this.#queue[count] as Pending).request, busy)) count++;
    return count === 0 ? undefined : this.#splice(count);
  }

  #splice(count: number): Pending[] {
    if (count === this.#queue.length) {
      const group = this.#queue;
      this.#queue = [];
      return group;
    }
    return this.#queue.splice(0, count);
  }

  #send(group: Pending[]): void {
    const requests = group.map((p) => p.request);
    const inFlight: InFlightGroup = { requests };
    this.#inFlight.add(inFlight);
    const started = this.#clock.monotonic();
    let committed: Promise<AppendOutcome[]>;
    try {
      committed = this.#commit(requests);
    } catch (error) {
      committed = Promise.reject(classifyStoreError(error));
    }
    committed.then(
      (outcomes) => {
        this.#inFlight.delete(inFlight);
        if (outcomes.length !== group.length) {
          this.#fail(
            group,
            new FoundationError('FND_STORAGE_QUERY_FAILED', {
              message: `The store answered ${outcomes.length} outcomes for ${group.length} requests`,
              context: { requests: group.length, outcomes: outcomes.length },
            }),
          );
        } else {
          for (let i = 0; i < group.length; i++) (group[i] as Pending).resolve(outcomes[i] as AppendOutcome);
          if (groupCommitted.hasSubscribers) {
            let events = 0;
            for (const request of requests) events += request.events.length;
            groupCommitted.emit({
              requests: requests.length,
              events,
              duration: this.#clock.monotonic() - started,
            });
          }
        }
        this.#afterCommit(group.length);
      },
      (error: unknown) => {
        this.#inFlight.delete(inFlight);
        this.#fail(group, classifyStoreError(error));
        this.#afterCommit(group.length);
      },
    );
  }

  #fail(group: readonly Pending[], error: FoundationError): void {
    for (const pending of group) pending.reject(error);
  }

  /**
   * Decides the next group once the callers just answered have had a chance to submit again (one macrotask
   * later). Except for a lone writer (its group was its request alone, nothing else queued or in flight):
   * nobody else can join, so its next append goes at once (the macrotask cost it ~7 µs per append on SQLite).
   */
  #afterCommit(size: number): void {
    if (this.#deciding) return;
    if (size === 1 && this.#queue.length === 0 && this.#inFlight.size === 0) {
      this.#wakeIfIdle();
      return;
    }
    this.#deciding = true;
    setImmediate(() => {
      this.#deciding = false;
      this.#dispatch();
      this.#wakeIfIdle();
    });
  }

  #wakeIfIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** The streams (`s:` + name) and event ids (`i:` + id) the requests of a group touch. */
function groupKeys(requests: readonly AppendRequest[]): Set<string> {
  const keys = new Set<string>();
  for (const request of requests) {
    if (request.stream !== null) keys.add(`s:${request.stream}`);
    for (const event of request.events) {
      keys.add(`i:${event.id}`);
      if (event.stream !== null) keys.add(`s:${event.stream}`);
    }
  }
  return keys;
}

/** Whether a request touches a stream or id of `keys`. */
function touches(request: AppendRequest, keys: ReadonlySet<string>): boolean {
  if (request.stream !== null && keys.has(`s:${request.stream}`)) return true;
  for (const event of request.events) {
    if (keys.has(`i:${event.id}`)) return true;
    if (event.stream !== null && keys.has(`s:${event.stream}`)) return true;
  }
  return false;
}

/** A store failure as a `FoundationError`: foundation errors as they are, others as `FND_STORAGE_QUERY_FAILED`. */
export function classifyStoreError(error: unknown): FoundationError {
  if (isFoundationError(error)) return error;
  return new FoundationError('FND_STORAGE_QUERY_FAILED', {
    message: `The event store failed: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}
