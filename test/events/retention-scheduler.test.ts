/**
 * The retention service's schedule on a fake clock: a run every interval, measured from the end of the
 * previous run, never two at once, stop() waits for the run in flight and stops it between batches.
 */
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/event-store.js';
import {
  EventRetention,
  MemoryRetentionTarget,
  RETENTION_COMPLETED_TYPE,
  type RetentionBound,
  type RetentionRule,
  type RetentionTarget,
} from '../../src/events/retention/index.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/** A target whose delete batches wait for `release()`, counting calls and the most in flight at once. */
class GatedTarget implements RetentionTarget {
  readonly kind = 'memory';
  readonly #inner: RetentionTarget;
  #waiting: (() => void)[] = [];
  inFlight = 0;
  maxInFlight = 0;
  batches = 0;
  constructor(inner: RetentionTarget) {
    this.#inner = inner;
  }
  nthNewest(rule: RetentionRule, n: number): Promise<number | undefined> {
    return this.#inner.nthNewest(rule, n);
  }
  async deleteBatch(rule: RetentionRule, bound: RetentionBound, limit: number): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.batches++;
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.inFlight--;
    return this.#inner.deleteBatch(rule, bound, limit);
  }
  /** Lets every waiting batch go. */
  release(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const go of waiting) go();
  }
  get waiting(): number {
    return this.#waiting.length;
  }
}

/** Lets setImmediate callbacks and promise chains run (the service yields between batches). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function setup(batchSize = 1000) {
  const clock = new FakeClock({ now: Date.UTC(2026, 0, 10) });
  const port = new MemoryEventStore();
  const events = new EventStore(port, { clock });
  await events.start();
  const target = new GatedTarget(new MemoryRetentionTarget(port));
  const retention = new EventRetention({
    events,
    target,
    policies: [{ types: 'tick', maxAgeMs: 1000 }],
    clock,
    intervalMs: 60_000,
    batchSize,
  });
  const reports = async () => (await events.query({ types: [RETENTION_COMPLETED_TYPE] })).events.length;
  return { clock, events, target, retention, reports };
}

describe('retention schedule', () => {
  it('runs every interval and never overlaps a slow run', async () => {
    const { clock, target, retention, reports } = await setup();
    retention.start();
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(59_999);
    expect(target.batches).toBe(0);
    await clock.advanceAsync(1);
    expect(target.waiting).toBe(1);
    // The run hangs: ten more intervals pass, no second run starts and no timer is pending.
    await clock.advanceAsync(600_000);
    expect(target.batches).toBe(1);
    expect(clock.pending()).toBe(0);
    expect(retention.status().running).toBe(true);
    // A manual run meanwhile joins the one in flight.
    const joined = retention.runRetention();
    target.release();
    await joined;
    await settle();
    expect(await reports()).toBe(1);
    expect(target.maxInFlight).toBe(1);
    // The next run is one interval after the end of the previous one.
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(60_000);
    expect(target.waiting).toBe(1);
    target.release();
    await settle();
    expect(await reports()).toBe(2);
    await retention.stop();
    expect(clock.pending()).toBe(0);
    expect(retention.status()).toMatchObject({ scheduled: false, running: false });
  });

  it('stop() cancels the schedule, waits for the run in flight and stops it after its current batch', async () => {
    const { clock, events, target, retention, reports } = await setup(2);
    for (let i = 0; i < 10; i++) await events.append({ type: 'tick' });
    clock.setWallTime(clock.now() + 5000);
    retention.start();
    await clock.advanceAsync(60_000);
    expect(target.waiting).toBe(1);
    const stopped = retention.stop();
    target.release();
    await stopped;
    expect(target.batches).toBe(1);
    expect(clock.pending()).toBe(0);
    // The stopped run still reports what it did (2 of the 10 events).
    const report = retention.status().lastReport;
    expect(report?.deleted).toBe(2);
    expect(await reports()).toBe(1);
    await clock.advanceAsync(600_000);
    expect(target.batches).toBe(1);
  });

  it('a failed run is reported (status, no event) and the schedule goes on', async () => {
    const { clock, events, target, retention } = await setup();
    retention.start();
    await events.stop(); // the report append fails: the run fails
    await clock.advanceAsync(60_000);
    target.release();
    await settle();
    expect(retention.status().lastError?.code).toBe('FND_SYSTEM_SERVICE_UNAVAILABLE');
    expect(retention.status().lastReport).toBeUndefined();
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(60_000);
    expect(target.batches).toBe(2);
    target.release();
    await retention.stop();
  });
});
