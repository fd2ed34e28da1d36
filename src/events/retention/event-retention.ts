/**
 * The retention service: runs the policies against a store's {@link RetentionTarget} in bounded batches,
 * reports each run as a `foundation.retention.completed` event in the log itself and as telemetry, and
 * runs on a schedule (one run at a time; the next is scheduled when the previous one has finished).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { systemClock, type Clock, type TimerHandle } from '../../kernel/clock.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { EventStore } from '../event-store.js';
import { compileRules, partitionDropBefore, validatePolicies } from './policy.js';
import type {
  MaintenanceReport,
  PolicyOutcome,
  RetentionBound,
  RetentionPolicy,
  RetentionReport,
  RetentionRule,
  RetentionTarget,
} from './types.js';

/** Type of the event each run appends. */
export const RETENTION_COMPLETED_TYPE = 'foundation.retention.completed';
/** Default time between runs: one hour. */
export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;
/** Default events per delete statement. */
export const DEFAULT_RETENTION_BATCH = 1000;
/** Largest batch. */
export const MAX_RETENTION_BATCH = 100_000;

/** Options of {@link EventRetention}. */
export interface EventRetentionOptions {
  /** The started event store the run reports to (and whose events the target deletes). */
  readonly events: EventStore;
  /** The store's deleter: `createRetentionTarget(storage)` or a target of your own. */
  readonly target: RetentionTarget;
  /** The policies (validated here: `FND_EVENTS_INVALID_POLICY`). */
  readonly policies: unknown;
  /** Time source of `now`, durations and the schedule. Default: the system clock. */
  readonly clock?: Clock;
  /** Time between the end of one scheduled run and the start of the next, ms (≥ 1000). Default 1 h. */
  readonly intervalMs?: number;
  /** Events per delete statement (1 … 100 000). Default 1000. */
  readonly batchSize?: number;
}

/** What the service reports through `status()`. */
export interface RetentionStatus {
  /** Whether runs are scheduled (an interval was set and the service is started). */
  readonly scheduled: boolean;
  /** Whether a run is in progress now. */
  readonly running: boolean;
  /** The report of the last completed run, if any. */
  readonly lastReport: RetentionReport | undefined;
  /** The error of the last failed run, if the last run failed. */
  readonly lastError: FoundationError | undefined;
}

const completed = telemetryEvent('events:retention_completed');
const failed = telemetryEvent('events:retention_failed');

function option(value: number | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
      message: `Invalid retention option: ${name} must be an integer from ${min} to ${max}`,
      context: { field: name, reason: `must be an integer from ${min} to ${max}` },
    });
  }
  return value;
}

/**
 * Deletes what retention policies allow, in batches, and reports every run.
 *
 * - `runRetention()` runs once now (a call while a run is in flight gets that run's promise: never two at
 *   once).
 * - `start()` schedules a run every `intervalMs` (measured from the end of the previous run); `stop()`
 *   cancels the schedule, asks a run in flight to stop after its current batch, and waits for it.
 *
 * Telemetry: `events:retention_completed` `{ deleted, batches, duration }`, `events:retention_failed` with
 * the error code.
 *
 * @example
 * ```ts
 * const retention = new EventRetention({
 *   events,
 *   target: createRetentionTarget(storage),
 *   policies: [{ types: '*', maxAgeMs: 30 * 86_400_000 }, { types: 'debug.*', maxCount: 10_000 }],
 * });
 * retention.start();
 * ```
 */
export class EventRetention {
  readonly #events: EventStore;
  readonly #target: RetentionTarget;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  #policies: readonly RetentionPolicy[];
  #rules: readonly RetentionRule[];
  #timer: TimerHandle | undefined;
  #inFlight: Promise<RetentionReport> | undefined;
  #stopping = false;
  #scheduled = false;
  #lastReport: RetentionReport | undefined;
  #lastError: FoundationError | undefined;

  /** Validates policies and options (`FND_EVENTS_INVALID_POLICY`); starts nothing. */
  constructor(options: EventRetentionOptions) {
    this.#events = options.events;
    this.#target = options.target;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = option(
      options.intervalMs,
      'intervalMs',
      DEFAULT_RETENTION_INTERVAL_MS,
      1000,
      2 ** 31 - 1,
    );
    this.#batchSize = option(options.batchSize, 'batchSize', DEFAULT_RETENTION_BATCH, 1, MAX_RETENTION_BATCH);
    this.#policies = validatePolicies(options.policies);
    this.#rules = compileRules(this.#policies);
  }

  /** The validated policies in force. */
  get policies(): readonly RetentionPolicy[] {
    return this.#policies;
  }

  /** Replaces the policies (validated first: on `FND_EVENTS_INVALID_POLICY` the old ones stay). */
  setPolicies(policies: unknown): void {
    const valid = validatePolicies(policies);
    this.#rules = compileRules(valid);
    this.#policies = valid;
  }

  /** Schedules a run every `intervalMs`. Idempotent. */
  start(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#stopping = false;
    this.#schedule();
  }

  /** Cancels the schedule and waits for a run in flight (which stops after its current batch). */
  async stop(): Promise<void> {
    this.#scheduled = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#stopping = true;
    await this.#inFlight?.catch(() => undefined);
  }

  /** Whether a schedule is set, a run is in flight, and the last run's report or error. */
  status(): RetentionStatus {
    return {
      scheduled: this.#scheduled,
      running: this.#inFlight !== undefined,
      lastReport: this.#lastReport,
      lastError: this.#lastError,
    };
  }

  #schedule(): void {
    if (!this.#scheduled) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.runRetention()
        .catch(() => undefined) // reported by the run (status, telemetry)
        .finally(() => {
          this.#schedule();
        });
    }, this.#intervalMs);
  }

  /**
   * Runs the policies once: the target's maintenance (partitions), then for each policy its age limit and its
   * count limit, batch by batch, then appends the report event. Resolves the report; rejects with the store's
   * error (what was deleted before it stays deleted, and the next run continues).
   */
  runRetention(): Promise<RetentionReport> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    this.#stopping = false;
    const run = this.#run().then(
      (report) => {
        this.#lastReport = report;
        this.#lastError = undefined;
        return report;
      },
      (error: unknown) => {
        const e =
          error instanceof FoundationError
            ? error
            : new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'Retention failed', cause: error });
        this.#lastError = e;
        if (failed.hasSubscribers) failed.emit({ count: 1 }, { code: e.code });
        throw e;
      },
    );
    this.#inFlight = run;
    void run
      .finally(() => {
        this.#inFlight = undefined;
      })
      .catch(() => undefined);
    return run;
  }

  async #run(): Promise<RetentionReport> {
    const now = this.#clock.now();
    const started = this.#clock.monotonic();
    const rules = this.#rules;
    let batches = 0;
    let partitions: MaintenanceReport = { created: [], dropped: [] };
    if (this.#target.maintain !== undefined) {
      partitions = await this.#target.maintain({
        now,
        dropBefore: partitionDropBefore(rules, now),
        batchSize: this.#batchSize,
      });
    }
    const outcomes: PolicyOutcome[] = [];
    for (const rule of rules) {
      const { maxAgeMs, maxCount } = rule.policy;
      let byAge = 0;
      let byCount = 0;
      if (maxAgeMs !== undefined) {
        const r = await this.#drain(rule, { beforeTime: now - maxAgeMs });
        byAge = r.deleted;
        batches += r.batches;
      }
      if (maxCount !== undefined && !this.#stopping) {
        const boundary = await this.#target.nthNewest(rule, maxCount);
        if (boundary !== undefined) {
          const r = await this.#drain(rule, { beforePosition: boundary });
          byCount = r.deleted;
          batches += r.batches;
        }
      }
      outcomes.push({
        types: rule.policy.types,
        maxAgeMs: maxAgeMs ?? null,
        maxCount: maxCount ?? null,
        deletedByAge: byAge,
        deletedByCount: byCount,
      });
    }
    const droppedEvents = partitions.dropped.reduce((sum, p) => sum + p.events, 0);
    const deleted = outcomes.reduce((sum, o) => sum + o.deletedByAge + o.deletedByCount, droppedEvents);
    const report: RetentionReport = {
      startedAt: now,
      durationMs: this.#clock.monotonic() - started,
      deleted,
      batches,
      policies: outcomes,
      partitions,
    };
    await this.#events.append({
      type: RETENTION_COMPLETED_TYPE,
      data: JSON.parse(JSON.stringify(report)) as Record<string, never>,
    });
    if (completed.hasSubscribers) {
      completed.emit({ deleted, batches, duration: report.durationMs }, { policies: outcomes.length });
    }
    return report;
  }

  /** Deletes batch after batch until one comes back short (or the service is stopping). */
  async #drain(rule: RetentionRule, bound: RetentionBound): Promise<{ deleted: number; batches: number }> {
    let deleted = 0;
    let batches = 0;
    while (!this.#stopping) {
      const n = await this.#target.deleteBatch(rule, bound, this.#batchSize);
      deleted += n;
      batches++;
      if (n < this.#batchSize) break;
      // Let appends and reads in, between two batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { deleted, batches };
  }
}
