/**
 * The spool's bookkeeping over its file: what it holds (pending and rejected requests, events, bytes), the
 * limits, and the telemetry of every change of depth. The routing and the replay loop live in
 * `spooling-port.ts`.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { AppendOutcome, AppendRequest } from '../model/port.js';
import { spoolFullError, spooledEvent } from './spool-answers.js';
import { SpoolFile, type AddResult, type RejectedSpoolEntry, type SpoolEntry } from './spool-file.js';
import type { ResolvedSpoolOptions } from './spool-options.js';

const spooled = telemetryEvent('events:spooled');
const spoolFull = telemetryEvent('events:spool_full');
const spoolDepth = telemetryEvent('events:spool_depth');
const spoolReplayed = telemetryEvent('events:spool_replayed');
const spoolRejected = telemetryEvent('events:spool_rejected');

/** What the spool holds and has done since it opened. */
export interface SpoolDepth {
  readonly requests: number;
  readonly events: number;
  readonly bytes: number;
  readonly rejectedRequests: number;
  readonly rejectedEvents: number;
  readonly rejectedBytes: number;
  /** Wall ms of the oldest pending request. */
  readonly oldestSpooledAt: number | undefined;
  readonly spooledTotal: number;
  readonly replayedTotal: number;
  readonly refusedTotal: number;
}

/** The spool file with its counters, limits and telemetry. Synchronous, like the file. */
export class Spool {
  readonly #file: SpoolFile;
  readonly #options: ResolvedSpoolOptions;
  #requests: number;
  #events: number;
  #bytes: number;
  #rejectedRequests: number;
  #rejectedEvents: number;
  #rejectedBytes: number;
  #oldest: number | undefined;
  #spooledTotal = 0;
  #replayedTotal = 0;
  #refusedTotal = 0;

  private constructor(file: SpoolFile, options: ResolvedSpoolOptions) {
    this.#file = file;
    this.#options = options;
    const totals = file.totals();
    this.#requests = totals.requests;
    this.#events = totals.events;
    this.#bytes = totals.bytes;
    this.#rejectedRequests = totals.rejectedRequests;
    this.#rejectedEvents = totals.rejectedEvents;
    this.#rejectedBytes = totals.rejectedBytes;
    this.#oldest = totals.oldestSpooledAt;
  }

  /** Opens the file at `options.path` and reads its totals (requests left by an earlier run count). */
  static async open(options: ResolvedSpoolOptions): Promise<Spool> {
    const spool = new Spool(await SpoolFile.open(options.path), options);
    spool.#emitDepth();
    return spool;
  }

  /** Pending requests (0: appends may go straight to the store). */
  get pending(): number {
    return this.#requests;
  }

  /** Current depth and totals. */
  depth(): SpoolDepth {
    return {
      requests: this.#requests,
      events: this.#events,
      bytes: this.#bytes,
      rejectedRequests: this.#rejectedRequests,
      rejectedEvents: this.#rejectedEvents,
      rejectedBytes: this.#rejectedBytes,
      oldestSpooledAt: this.#oldest,
      spooledTotal: this.#spooledTotal,
      replayedTotal: this.#replayedTotal,
      refusedTotal: this.#refusedTotal,
    };
  }

  /**
   * Spools requests (all `expectedVersion: 'any'`) in order, in one durable transaction; each one that does
   * not fit under the limits (pending plus rejected) is refused with `FND_EVENTS_SPOOL_FULL`.
   *
   * @throws FoundationError `FND_STORAGE_UNAVAILABLE` when the file cannot be written (nothing was added).
   */
  add(requests: readonly AppendRequest[], now: number): AppendOutcome[] {
    const { maxEvents, maxBytes, path } = this.#options;
    let heldEvents = this.#events + this.#rejectedEvents;
    let heldBytes = this.#bytes + this.#rejectedBytes;
    let results: AddResult[];
    try {
      results = this.#file.add(requests, now, (count, size) => {
        if (heldEvents + count > maxEvents || heldBytes + size > maxBytes) return false;
        heldEvents += count;
        heldBytes += size;
        return true;
      });
    } catch (error) {
      throw new FoundationError('FND_STORAGE_UNAVAILABLE', {
        message: `The event store is unreachable and the spool ${path} could not be written: ${
          error instanceof Error ? error.message : String(error)
        }`,
        context: { path },
        cause: error,
      });
    }
    const outcomes: AppendOutcome[] = [];
    const held = {
      events: this.#events + this.#rejectedEvents,
      bytes: this.#bytes + this.#rejectedBytes,
    };
    let addedRequests = 0;
    let addedEvents = 0;
    let addedBytes = 0;
    let refusedRequests = 0;
    let refusedEvents = 0;
    for (let k = 0; k < results.length; k++) {
      const request = requests[k] as AppendRequest;
      const result = results[k] as AddResult;
      if (result.added) {
        addedRequests++;
        addedEvents += request.events.length;
        addedBytes += result.bytes;
        outcomes.push({
          ok: true,
          events: request.events.map(spooledEvent),
          idempotent: false,
          spooled: true,
        });
      } else {
        refusedRequests++;
        refusedEvents += request.events.length;
        outcomes.push({
          ok: false,
          error: spoolFullError(this.#options, held, request.events.length, result.bytes),
        });
      }
    }
    if (addedRequests > 0) {
      this.#requests += addedRequests;
      this.#events += addedEvents;
      this.#bytes += addedBytes;
      this.#oldest ??= now;
      this.#spooledTotal += addedEvents;
      spooled.emit(
        { events: addedEvents, bytes: addedBytes, depthEvents: this.#events, depthBytes: this.#bytes },
        { path },
      );
      this.#emitDepth();
    }
    if (refusedRequests > 0) {
      this.#refusedTotal += refusedRequests;
      spoolFull.emit({ events: refusedEvents, requests: refusedRequests }, { path });
    }
    return outcomes;
  }

  /** The oldest pending requests (see {@link SpoolFile.head}). */
  head(maxRequests: number, maxEvents: number): SpoolEntry[] {
    return this.#file.head(maxRequests, maxEvents);
  }

  /**
   * Records the store's answers to a replayed batch: accepted requests leave the file, refused ones stay
   * marked rejected. Returns the events replayed.
   */
  settle(
    batch: readonly SpoolEntry[],
    outcomes: readonly AppendOutcome[],
    now: number,
    duration: number,
  ): number {
    const done: number[] = [];
    const rejected: { seq: number; code: string; message: string; events: number }[] = [];
    let events = 0;
    for (let k = 0; k < batch.length; k++) {
      const entry = batch[k] as SpoolEntry;
      const outcome = outcomes[k] as AppendOutcome;
      if (outcome.ok) {
        done.push(entry.seq);
        events += entry.events;
      } else {
        rejected.push({
          seq: entry.seq,
          code: outcome.error.code,
          message: outcome.error.message,
          events: entry.events,
        });
      }
    }
    this.#file.settle(done, rejected, now);
    for (const entry of batch) {
      this.#requests--;
      this.#events -= entry.events;
      this.#bytes -= entry.bytes;
    }
    for (let k = 0; k < batch.length; k++) {
      if ((outcomes[k] as AppendOutcome).ok) continue;
      const entry = batch[k] as SpoolEntry;
      this.#rejectedRequests++;
      this.#rejectedEvents += entry.events;
      this.#rejectedBytes += entry.bytes;
    }
    this.#replayedTotal += events;
    this.#oldest = this.#requests === 0 ? undefined : this.#file.head(1, 1)[0]?.spooledAt;
    const path = this.#options.path;
    for (const r of rejected) {
      spoolRejected.emit({ events: r.events }, { code: r.code, seq: r.seq, message: r.message, path });
    }
    spoolReplayed.emit(
      { events, requests: done.length, duration, depthEvents: this.#events, depthBytes: this.#bytes },
      { path },
    );
    this.#emitDepth();
    return events;
  }

  /** The requests the store refused at replay, oldest first. */
  rejected(limit: number): RejectedSpoolEntry[] {
    return this.#file.rejected(limit);
  }

  /** Deletes rejected requests (all, or those with the given `seq`s); returns how many. */
  discardRejected(seqs?: readonly number[]): number {
    const removed = this.#file.discardRejected(seqs);
    if (removed > 0) {
      const totals = this.#file.totals();
      this.#rejectedRequests = totals.rejectedRequests;
      this.#rejectedEvents = totals.rejectedEvents;
      this.#rejectedBytes = totals.rejectedBytes;
      this.#emitDepth();
    }
    return removed;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  #emitDepth(): void {
    if (!spoolDepth.hasSubscribers) return;
    spoolDepth.emit(
      {
        events: this.#events,
        bytes: this.#bytes,
        requests: this.#requests,
        rejectedEvents: this.#rejectedEvents,
      },
      { path: this.#options.path },
    );
  }
}
