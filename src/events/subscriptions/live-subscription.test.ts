import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { onTelemetry } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/index.js';
import type { CommittedPage } from '../model/port.js';
import type { StoredEvent } from '../model/types.js';
import { LiveSubscription, type CommittedReader } from './live-subscription.js';

function event(position: number): StoredEvent {
  return {
    id: `id-${position}`,
    type: 't.e',
    stream: null,
    streamVersion: null,
    position,
    time: 0,
    monotonic: 0,
    correlationId: null,
    causationId: null,
    parentId: null,
    data: {},
    metadata: {},
    node: 'n',
  };
}

function page(positions: number[], options: Partial<CommittedPage> = {}): CommittedPage {
  const last = positions.at(-1);
  return {
    events: positions.map(event),
    checkpoints: positions.map(String),
    head: last === undefined ? '0' : String(last),
    more: false,
    held: false,
    lastPosition: last ?? 0,
    ...options,
  };
}

/** A reader answering a script of pages / errors, recording each call's `after`; then empty pages. */
function scripted(script: (CommittedPage | Error)[]): CommittedReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    readCommitted(_filter, after) {
      calls.push(after);
      const next = script.shift();
      if (next === undefined) return Promise.resolve(page([], { head: after }));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
}

function subscription(reader: CommittedReader, clock: FakeClock, name: string): LiveSubscription {
  return new LiveSubscription({
    reader,
    clock,
    filter: {},
    start: '0',
    startPosition: 0,
    batchSize: 10,
    bufferSize: 10,
    name,
    signal: undefined,
    onEnd: () => undefined,
  });
}

/** Records the telemetry of one event name for one subscription. */
function record(event: string, name: string): { list: Record<string, unknown>[]; off: () => void } {
  const list: Record<string, unknown>[] = [];
  const off = onTelemetry(event, (message) => {
    if (message.metadata.name === name) list.push({ ...message.measurements, ...message.metadata });
  });
  return { list, off };
}

describe('LiveSubscription', () => {
  it('retries a read that failed with a retryable error, with backoff on the clock, and keeps its place', async () => {
    const clock = new FakeClock();
    const unavailable = (): FoundationError =>
      new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'connection lost' });
    const reader = scripted([page([1, 2]), unavailable(), unavailable(), page([3])]);
    const retries = record('events:subscription_retry', 'retry');
    try {
      const sub = subscription(reader, clock, 'retry');
      const it = sub[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ position: 1 });
      expect((await it.next()).value).toMatchObject({ position: 2 });
      sub.wake();
      await clock.advanceAsync(0);
      expect(retries.list).toEqual([
        { attempt: 1, delay: 100, name: 'retry', code: 'FND_STORAGE_UNAVAILABLE' },
      ]);
      // A wake-up does not cut the backoff short.
      sub.wake();
      await clock.advanceAsync(99);
      expect(reader.calls).toEqual(['0', '2']);
      await clock.advanceAsync(1);
      expect(retries.list.map((r) => r.delay)).toEqual([100, 200]);
      await clock.advanceAsync(200);
      expect((await it.next()).value).toMatchObject({ position: 3 });
      expect(reader.calls.slice(0, 4)).toEqual(['0', '2', '2', '2']);
      expect(sub.status()).toMatchObject({ state: 'live', delivered: 3, checkpoint: '3' });
      await sub.close();
    } finally {
      retries.off();
    }
  });

  it('re-reads a held page with a bounded backoff, and at once when woken', async () => {
    const clock = new FakeClock();
    const held = (): CommittedPage => page([], { head: '0', held: true, lastPosition: 5 });
    const reader = scripted([held(), held(), held(), page([1])]);
    const heldEvents = record('events:subscription_held', 'held');
    try {
      const sub = subscription(reader, clock, 'held');
      await clock.advanceAsync(0);
      expect(heldEvents.list.map((h) => h.delay)).toEqual([10]);
      expect(sub.status()).toMatchObject({ state: 'catching_up', lag: 5 });
      await clock.advanceAsync(10);
      expect(heldEvents.list.map((h) => h.delay)).toEqual([10, 20]);
      sub.wake(); // a commit notification: read now, not in 20 ms
      await clock.advanceAsync(0);
      expect(reader.calls).toHaveLength(3);
      expect(heldEvents.list.map((h) => h.delay)).toEqual([10, 20, 40]);
      await clock.advanceAsync(40);
      expect(reader.calls).toHaveLength(4);
      expect((await sub[Symbol.asyncIterator]().next()).value).toMatchObject({ position: 1 });
      await sub.close();
      expect(clock.pending()).toBe(0);
    } finally {
      heldEvents.off();
    }
  });

  it('a non-retryable read failure fails the subscription with FND_EVENTS_SUBSCRIPTION_FAILED', async () => {
    const clock = new FakeClock();
    const broken = new FoundationError('FND_STORAGE_QUERY_FAILED', { message: 'syntax error' });
    const sub = subscription(scripted([broken]), clock, 'broken');
    const next = sub[Symbol.asyncIterator]().next();
    await expect(next).rejects.toMatchObject({ code: 'FND_EVENTS_SUBSCRIPTION_FAILED', cause: broken });
    await expect(sub.done).rejects.toMatchObject({ code: 'FND_EVENTS_SUBSCRIPTION_FAILED' });
    expect(sub.status().state).toBe('failed');
  });

  it('an idle live subscription has no timer and reads only when woken', async () => {
    const clock = new FakeClock();
    const reader = scripted([page([1])]);
    const sub = subscription(reader, clock, 'idle');
    const it = sub[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ position: 1 });
    await clock.advanceAsync(60_000);
    expect(clock.pending()).toBe(0);
    const calls = reader.calls.length;
    await clock.advanceAsync(60_000);
    expect(reader.calls).toHaveLength(calls);
    sub.wake();
    await clock.advanceAsync(0);
    expect(reader.calls).toHaveLength(calls + 1);
    await sub.close();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
