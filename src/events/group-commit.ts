/**
 * Group commit: while the store commits one group of append requests, new requests queue; when the commit
 * finishes, everything queued (up to a bound) goes as the next group, in one store call. An idle committer
 * sends a request at once, so a lone writer waits for nobody; under load, many writers share a transaction.
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
  /** Times each group for telemetry. */
  readonly clock: Clock;
}

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: FoundationError) => void;
}

/**
 * Turns a store's group append into a per-request `submit`. Each caller's promise settles only after the
 * commit of the group its request went in, with that request's own outcome. When the store rejects a group,
 * every request of that group rejects with the error (a `FoundationError`, foreign errors wrapped as
 * `FND_STORAGE_QUERY_FAILED`); later groups still run. Publishes `events:group_committed`
 * `{ requests, events, duration }` after each successful group.
 */
export class GroupCommit {
  readonly #commit: CommitGroup;
  readonly #max: number;
  readonly #clock: Clock;
  #queue: Pending[] = [];
  #inFlight = false;
  #idleWaiters: (() => void)[] = [];

  /** @param commit the store's group append (e.g. `port.append.bind(port)`). */
  constructor(commit: CommitGroup, options: GroupCommitOptions) {
    if (!Number.isInteger(options.maxGroupRequests) || options.maxGroupRequests < 1) {
      throw new FoundationError('FND_DATA_INVALID_INPUT', {
        message: 'maxGroupRequests must be an integer ≥ 1',
        context: { maxGroupRequests: options.maxGroupRequests },
      });
    }
    this.#commit = commit;
    this.#max = options.maxGroupRequests;
    this.#clock = options.clock;
  }

  /** Requests waiting for the group in flight to finish. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Whether a group is being committed. */
  get busy(): boolean {
    return this.#inFlight;
  }

  /** Queues a request; resolves with its outcome once its group committed. */
  submit(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#inFlight) this.#flush();
    });
  }

  /** Resolves when no group is in flight and nothing is queued. */
  idle(): Promise<void> {
    if (!this.#inFlight && this.#queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  #flush(): void {
    let group: Pending[];
    if (this.#queue.length <= this.#max) {
      group = this.#queue;
      this.#queue = [];
    } else {
      group = this.#queue.splice(0, this.#max);
    }
    this.#inFlight = true;
    const requests = group.map((p) => p.request);
    const started = this.#clock.monotonic();
    let committed: Promise<AppendOutcome[]>;
    try {
      committed = this.#commit(requests);
    } catch (error) {
      committed = Promise.reject(classifyStoreError(error));
    }
    committed.then(
      (outcomes) => {
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
        this.#next();
      },
      (error: unknown) => {
        this.#fail(group, classifyStoreError(error));
        this.#next();
      },
    );
  }

  #fail(group: readonly Pending[], error: FoundationError): void {
    for (const pending of group) pending.reject(error);
  }

  #next(): void {
    this.#inFlight = false;
    if (this.#queue.length > 0) {
      this.#flush();
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** A store failure as a `FoundationError`: foundation errors as they are, others as `FND_STORAGE_QUERY_FAILED`. */
export function classifyStoreError(error: unknown): FoundationError {
  if (isFoundationError(error)) return error;
  return new FoundationError('FND_STORAGE_QUERY_FAILED', {
    message: `The event store failed: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}
