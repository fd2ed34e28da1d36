import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoundationError, isFoundationError } from '../../errors/index.js';
import { onTelemetry, type TelemetryMessage } from '../../kernel/telemetry.js';
import { rejection } from '../../testing/capture.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { EventStore } from '../event-store.js';
import type { AppendOutcome, AppendRequest, EventStorePort, PreparedEvent } from '../model/port.js';
import type {
  AggregateGroup,
  AggregateQuery,
  EventInput,
  EventQuery,
  QueryPage,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from '../model/types.js';
import { MemoryEventStore } from '../stores/memory-store.js';
import { isSpooled } from './spool-answers.js';
import type { EventSpoolOptions } from './spool-options.js';
import { SpoolingEventStorePort } from './spooling-port.js';
import { preparedOf } from '../../../test/helpers/prepared-event.js';

type Mode = 'up' | 'down' | 'commit-then-fail' | 'broken';

/**
 * A memory store that can be made unreachable: `down` fails every call with FND_STORAGE_UNAVAILABLE,
 * `commit-then-fail` commits an append and then fails as if the answer were lost, `broken` fails appends
 * with FND_STORAGE_QUERY_FAILED. Closing it keeps its events (a restart of the process, not of the store).
 */
class OutagePort implements EventStorePort {
  readonly kind = 'postgres';
  readonly memory = new MemoryEventStore();
  readonly maxConcurrentGroups: number;
  mode: Mode = 'up';
  appendCalls = 0;

  constructor(maxConcurrentGroups = 1) {
    this.maxConcurrentGroups = maxConcurrentGroups;
  }

  open(): Promise<void> {
    return this.memory.open();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  async append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    this.appendCalls++;
    if (this.mode === 'down') throw unavailable();
    if (this.mode === 'broken') throw new FoundationError('FND_STORAGE_QUERY_FAILED', { message: 'bug' });
    const outcomes = await this.memory.append(requests);
    if (this.mode === 'commit-then-fail') throw unavailable();
    return outcomes;
  }
  get(id: string): Promise<StoredEvent | undefined> {
    return this.#read(() => this.memory.get(id));
  }
  streamVersion(stream: string): Promise<number> {
    return this.#read(() => this.memory.streamVersion(stream));
  }
  readStream(stream: string, options: Required<ReadStreamOptions>): Promise<StoredEvent[]> {
    return this.#read(() => this.memory.readStream(stream, options));
  }
  readAll(options: Required<ReadAllOptions>): Promise<StoredEvent[]> {
    return this.#read(() => this.memory.readAll(options));
  }
  query(query: EventQuery): Promise<QueryPage> {
    return this.#read(() => this.memory.query(query));
  }
  aggregate(query: AggregateQuery): Promise<AggregateGroup[]> {
    return this.#read(() => this.memory.aggregate(query));
  }
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    return this.#read(() => this.memory.byCorrelation(correlationId, limit));
  }
  async #read<T>(read: () => Promise<T>): Promise<T> {
    if (this.mode === 'down') throw unavailable();
    return read();
  }
  /** Everything stored, in position order. */
  all(): Promise<StoredEvent[]> {
    return this.memory.readAll({ afterPosition: 0, limit: 10_000 });
  }
}

function unavailable(): FoundationError {
  return new FoundationError('FND_STORAGE_UNAVAILABLE', {
    message: 'PostgreSQL is unavailable: ECONNREFUSED',
  });
}

function codeOf(error: unknown): string | undefined {
  return isFoundationError(error) ? error.code : undefined;
}

let dir: string;
let clock: FakeClock;
const opened: EventStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fnd-spool-'));
  clock = new FakeClock();
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(
  inner: EventStorePort,
  options: Partial<EventSpoolOptions> = {},
): Promise<{ store: EventStore; spooling: SpoolingEventStorePort }> {
  const spooling = new SpoolingEventStorePort(inner, {
    path: join(dir, 'spool.db'),
    retryInitialMs: 100,
    retryMaxMs: 1000,
    ...options,
    clock,
  });
  const store = new EventStore(spooling, { clock, node: 'node-a' });
  await store.start();
  opened.push(store);
  return { store, spooling };
}

async function stop(store: EventStore): Promise<void> {
  await store.stop();
  opened.splice(opened.indexOf(store), 1);
}

function event(stream: string, n: number, extra: Partial<EventInput> = {}): EventInput {
  return { type: 'test.counted', stream, data: { n }, ...extra };
}

/** The `n` of every stored event, in position order. */
async function storedNs(inner: OutagePort): Promise<number[]> {
  return (await inner.all()).map((e) => (e.data as { n: number }).n);
}

function listen(name: string): { messages: TelemetryMessage[]; stop: () => void } {
  const messages: TelemetryMessage[] = [];
  const stop = onTelemetry(name, (message) => messages.push(message));
  return { messages, stop };
}

describe('SpoolingEventStorePort', () => {
  it('appends straight to the store while it answers and the spool is empty', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    const result = await store.append(event('s', 1));
    expect(result.position).toBe(1);
    expect(isSpooled(result)).toBe(false);
    expect(spooling.status()).toMatchObject({ state: 'direct', events: 0, requests: 0 });
    expect(spooling.health().status).toBe('healthy');
  });

  it('spools while the store is down, keeps later appends behind the spool, and replays everything in order', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    const depth = listen('events:spool_depth');
    try {
      await store.append(event('s', 1));
      inner.mode = 'down';
      const spooledResults = [];
      for (let n = 2; n <= 5; n++) spooledResults.push(await store.append(event(n % 2 === 0 ? 's' : 't', n)));
      for (const result of spooledResults) {
        expect(isSpooled(result)).toBe(true);
        expect(result.spooled).toBe(true);
        expect(result.streamVersion).toBeNull();
        expect(result.events.every((e) => e.position === 0 && e.streamVersion === null)).toBe(true);
      }
      // Only the first spooled append tried the store; the others went behind it.
      expect(inner.appendCalls).toBe(2);
      expect(spooling.status()).toMatchObject({ state: 'spooling', events: 4, requests: 4 });
      expect(spooling.status().bytes).toBeGreaterThan(0);
      expect(spooling.health().status).toBe('degraded');
      expect(depth.messages.at(-1)?.measurements).toMatchObject({ events: 4, requests: 4 });

      // The store is back, but the spool is not empty: a new append still goes behind it.
      inner.mode = 'up';
      const behind = await store.append(event('s', 6));
      expect(isSpooled(behind)).toBe(true);
      expect(await storedNs(inner)).toEqual([1]);

      await clock.advanceAsync(100);
      await spooling.drained();
      expect(await storedNs(inner)).toEqual([1, 2, 3, 4, 5, 6]);
      const stored = await inner.all();
      expect(stored.filter((e) => e.stream === 's').map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
      expect(stored.map((e) => e.id).slice(1)).toEqual([
        ...spooledResults.map((r) => (r.events[0] as StoredEvent).id),
        (behind.events[0] as StoredEvent).id,
      ]);
      expect(spooling.status()).toMatchObject({ state: 'direct', events: 0, bytes: 0, replayedTotal: 5 });
      expect(spooling.health().status).toBe('healthy');
      expect(depth.messages.at(-1)?.measurements).toMatchObject({ events: 0, bytes: 0 });

      const after = await store.append(event('s', 7));
      expect(after.position).toBe(7);
    } finally {
      depth.stop();
    }
  });

  it('keeps the events their time, ids, correlation and data through the spool', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    inner.mode = 'down';
    const result = await store.append(
      event('s', 1, {
        id: '0190a000-0000-7000-8000-000000000001',
        correlationId: 'c-1',
        metadata: { k: 'ü' },
      }),
    );
    clock.advance(50);
    inner.mode = 'up';
    await spooling.replayNow();
    const [stored] = await inner.all();
    expect(stored).toMatchObject({
      id: '0190a000-0000-7000-8000-000000000001',
      time: (result.events[0] as StoredEvent).time,
      correlationId: 'c-1',
      data: { n: 1 },
      metadata: { k: 'ü' },
      node: 'node-a',
      position: 1,
      streamVersion: 1,
    });
  });

  it('refuses an expected version other than any while the store is down, and while events wait in the spool', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    inner.mode = 'down';
    const offline = await rejection(store.append(event('s', 1), { expectedVersion: 'no_stream' }));
    expect(codeOf(offline)).toBe('FND_STORAGE_UNAVAILABLE');
    expect((offline as Error).message).toMatch(/cannot be checked offline/);
    expect(spooling.status().events).toBe(0);

    await store.append(event('s', 2));
    inner.mode = 'up';
    const behind = await rejection(store.append(event('s', 3), { expectedVersion: 1 }));
    expect(codeOf(behind)).toBe('FND_STORAGE_UNAVAILABLE');
    expect((behind as Error).message).toMatch(/1 events wait in the local spool/);
    await spooling.replayNow();
    expect(await storedNs(inner)).toEqual([2]);
    const checked = await store.append(event('s', 4), { expectedVersion: 1 });
    expect(checked.streamVersion).toBe(2);
  });

  it('answers each request of a group on its own: any spooled, checked refused', async () => {
    const inner = new OutagePort();
    const { spooling } = await start(inner);
    inner.mode = 'down';
    const requests: AppendRequest[] = [
      { events: [prepared('a', 1)], expectedVersion: 'any', stream: null },
      { events: [prepared('b', 2)], expectedVersion: 'no_stream', stream: 'b' },
      { events: [prepared('a', 3)], expectedVersion: 'any', stream: null },
    ];
    const outcomes = await spooling.append(requests);
    expect(outcomes.map((o) => (o.ok ? (o.spooled ?? false) : o.error.code))).toEqual([
      true,
      'FND_STORAGE_UNAVAILABLE',
      true,
    ]);
    expect(spooling.status()).toMatchObject({ events: 2, requests: 2 });
  });

  it('passes failures other than an unreachable store through, spooling nothing', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    inner.mode = 'broken';
    expect(codeOf(await rejection(store.append(event('s', 1))))).toBe('FND_STORAGE_QUERY_FAILED');
    expect(spooling.status()).toMatchObject({ state: 'direct', events: 0 });
  });

  it('refuses with FND_EVENTS_SPOOL_FULL when full, drops nothing, and takes what still fits', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner, { maxEvents: 3 });
    const full = listen('events:spool_full');
    try {
      inner.mode = 'down';
      await store.append([event('s', 1), event('s', 2)]);
      const refused = await rejection(store.append([event('s', 3), event('s', 4)]));
      expect(codeOf(refused)).toBe('FND_EVENTS_SPOOL_FULL');
      expect((refused as FoundationError).context).toMatchObject({
        maxEvents: 3,
        spooledEvents: 2,
        requestEvents: 2,
      });
      expect(full.messages).toHaveLength(1);
      await store.append(event('s', 5));
      expect(spooling.status()).toMatchObject({ events: 3, refusedTotal: 1 });
      expect(spooling.health()).toMatchObject({ status: 'unhealthy' });
      expect(codeOf(await rejection(store.append(event('s', 6))))).toBe('FND_EVENTS_SPOOL_FULL');

      inner.mode = 'up';
      await clock.advanceAsync(100);
      await spooling.drained();
      expect(await storedNs(inner)).toEqual([1, 2, 5]);
    } finally {
      full.stop();
    }
  });

  it('bounds the bytes too', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner, { maxBytes: 600 });
    inner.mode = 'down';
    await store.append(event('s', 1, { data: { text: 'x'.repeat(100) } }));
    const refused = await rejection(store.append(event('s', 2, { data: { text: 'y'.repeat(400) } })));
    expect(codeOf(refused)).toBe('FND_EVENTS_SPOOL_FULL');
    expect(spooling.status().events).toBe(1);
    expect(spooling.status().bytes).toBeLessThanOrEqual(600);
  });

  it('backs off between failed replay attempts, doubling up to retryMaxMs', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner, { retryInitialMs: 100, retryMaxMs: 350 });
    const failed = listen('events:spool_replay_failed');
    try {
      inner.mode = 'down';
      await store.append(event('s', 1));
      const calls = (): number => inner.appendCalls;
      expect(calls()).toBe(1);
      const start0 = clock.now();
      expect(spooling.status().nextReplayAt).toBe(start0 + 100);
      await clock.advanceAsync(99);
      expect(calls()).toBe(1);
      await clock.advanceAsync(1);
      expect(calls()).toBe(2);
      expect(spooling.status()).toMatchObject({ failedAttempts: 1, nextReplayAt: clock.now() + 200 });
      expect(spooling.status().lastError?.code).toBe('FND_STORAGE_UNAVAILABLE');
      await clock.advanceAsync(200);
      expect(calls()).toBe(3);
      expect(spooling.status().nextReplayAt).toBe(clock.now() + 350);
      await clock.advanceAsync(350);
      expect(calls()).toBe(4);
      expect(failed.messages.map((m) => m.measurements.delay)).toEqual([200, 350, 350]);

      inner.mode = 'up';
      await clock.advanceAsync(350);
      await spooling.drained();
      expect(spooling.status()).toMatchObject({ failedAttempts: 0, lastError: undefined, state: 'direct' });
      expect(await storedNs(inner)).toEqual([1]);
    } finally {
      failed.stop();
    }
  });

  it('keeps everything and retries when the store fails a replay for another reason', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    inner.mode = 'down';
    await store.append(event('s', 1));
    inner.mode = 'broken';
    await spooling.replayNow();
    expect(spooling.status()).toMatchObject({ state: 'spooling', events: 1, failedAttempts: 1 });
    expect(spooling.status().lastError?.code).toBe('FND_STORAGE_QUERY_FAILED');
    expect(spooling.health().message).toMatch(/FND_STORAGE_QUERY_FAILED/);
    inner.mode = 'up';
    await clock.advanceAsync(200);
    await spooling.drained();
    expect(await storedNs(inner)).toEqual([1]);
  });

  it('replays in batches of replayBatchEvents', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner, { replayBatchEvents: 3 });
    const replayed = listen('events:spool_replayed');
    try {
      inner.mode = 'down';
      for (let n = 1; n <= 7; n++) await store.append(event('s', n));
      inner.mode = 'up';
      await spooling.replayNow();
      expect(replayed.messages.map((m) => m.measurements.events)).toEqual([3, 3, 1]);
      expect(replayed.messages.map((m) => m.measurements.depthEvents)).toEqual([4, 1, 0]);
      expect(await storedNs(inner)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      replayed.stop();
    }
  });

  it('is idempotent when a replay committed but its answer was lost, even across a crash and restart', async () => {
    const inner = new OutagePort();
    const first = await start(inner, { replayBatchEvents: 2 });
    inner.mode = 'down';
    for (let n = 1; n <= 5; n++) await first.store.append(event('s', n));
    // The store commits the first batch, then the connection dies before the answer.
    inner.mode = 'commit-then-fail';
    await first.spooling.replayNow();
    expect(await storedNs(inner)).toEqual([1, 2]);
    expect(first.spooling.status()).toMatchObject({ events: 5, failedAttempts: 1 });
    // The process "crashes" (the spool is closed with everything in it) and restarts on the same file.
    await stop(first.store);
    inner.mode = 'up';
    const second = await start(inner, { replayBatchEvents: 2 });
    expect(second.spooling.status()).toMatchObject({ events: 5, nextReplayAt: clock.now() });
    await clock.advanceAsync(0);
    await second.spooling.drained();
    expect(await storedNs(inner)).toEqual([1, 2, 3, 4, 5]);
    expect((await inner.all()).map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    expect(second.spooling.status()).toMatchObject({ events: 0, rejectedEvents: 0 });
  });

  it('survives a restart: what was spooled is replayed after the next start', async () => {
    const inner = new OutagePort();
    const first = await start(inner);
    inner.mode = 'down';
    for (let n = 1; n <= 3; n++) await first.store.append(event('s', n));
    await stop(first.store);
    expect(first.spooling.status()).toMatchObject({ state: 'closed', events: 3 });
    expect(first.spooling.health().status).toBe('unhealthy');

    const second = await start(inner);
    expect(second.spooling.status()).toMatchObject({ state: 'spooling', events: 3, requests: 3 });
    // Still down at first: the attempt at start fails and backs off.
    await clock.advanceAsync(0);
    expect(second.spooling.status().failedAttempts).toBe(1);
    inner.mode = 'up';
    await clock.advanceAsync(200);
    await second.spooling.drained();
    expect(await storedNs(inner)).toEqual([1, 2, 3]);
  });

  it('keeps a request the store refuses at replay as rejected, and lets an operator discard it', async () => {
    const inner = new OutagePort();
    const { store, spooling } = await start(inner);
    const id = '0190a000-0000-7000-8000-0000000000aa';
    inner.mode = 'down';
    await store.append(event('s', 1, { id }));
    await store.append(event('s', 2));
    // Meanwhile another node stored the same id with other content.
    await inner.memory.append([{ events: [prepared('s', 99, id)], expectedVersion: 'any', stream: null }]);
    inner.mode = 'up';
    await spooling.replayNow();
    expect(await storedNs(inner)).toEqual([99, 2]);
    expect(spooling.status()).toMatchObject({ events: 0, rejectedRequests: 1, rejectedEvents: 1 });
    expect(spooling.health().status).toBe('degraded');
    const [rejected] = spooling.rejected();
    expect(rejected).toMatchObject({ code: 'FND_EVENTS_ID_CONFLICT', events: 1 });
    expect(rejected?.request.events[0]?.id).toBe(id);
    expect(spooling.discardRejected()).toBe(1);
    expect(spooling.status().rejectedRequests).toBe(0);
    expect(spooling.health().status).toBe('healthy');
  });

  it('refuses a second spool on the same file while the first holds it', async () => {
    const { spooling } = await start(new OutagePort());
    expect(spooling.status().state).toBe('direct');
    const other = new EventStore(
      new SpoolingEventStorePort(new OutagePort(), { path: join(dir, 'spool.db'), clock }),
    );
    const error = await rejection(other.start());
    expect(codeOf(error)).toBe('FND_STORAGE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/in use/);
  });

  it('rejects bad options with FND_DATA_INVALID_INPUT', () => {
    const inner = new OutagePort();
    for (const options of [
      { path: '' },
      { path: ':memory:' },
      { path: join(dir, 'x.db'), maxEvents: 0 },
      { path: join(dir, 'x.db'), maxBytes: 1.5 },
      { path: join(dir, 'x.db'), retryInitialMs: 1000, retryMaxMs: 10 },
    ]) {
      let error: unknown;
      try {
        new SpoolingEventStorePort(inner, options);
      } catch (caught) {
        error = caught;
      }
      expect(codeOf(error)).toBe('FND_DATA_INVALID_INPUT');
    }
  });

  it('passes the subscription and inline-projection methods of the wrapped store through', async () => {
    const memory = new MemoryEventStore();
    const spooling = new SpoolingEventStorePort(memory, { path: join(dir, 'spool.db'), clock });
    for (const name of ['readCommitted', 'checkpointPosition', 'resolveFrom', 'setInlineProjector']) {
      expect(typeof (spooling as unknown as Record<string, unknown>)[name]).toBe('function');
    }
    const bare = new SpoolingEventStorePort(new OutagePort(), { path: join(dir, 'b.db') });
    expect([bare.readCommitted, bare.watch, bare.setInlineProjector]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    let watched = 0;
    const watching = Object.assign(new OutagePort(), {
      watch: (listener: () => void) => {
        watched++;
        listener();
        return () => undefined;
      },
    });
    let woken = 0;
    new SpoolingEventStorePort(watching, { path: join(dir, 'c.db') }).watch?.(() => woken++);
    expect([watched, woken]).toEqual([1, 1]);

    const store = new EventStore(spooling, { clock });
    await store.start();
    opened.push(store);
    const subscription = store.subscribe({ types: ['test.*'] }, { from: 'start' });
    try {
      await store.append(event('s', 1));
      const iterator = subscription[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      expect(first.value).toMatchObject({ type: 'test.counted', position: 1 });
    } finally {
      await subscription.close();
    }
  });

  it('keeps each stream in append order with concurrent writers and two groups in flight across an outage', async () => {
    const inner = new OutagePort(2);
    const { store, spooling } = await start(inner);
    expect(spooling.maxConcurrentGroups).toBe(2);
    const accepted = new Map<string, number[]>();
    let appends = 0;
    const writer = async (w: number): Promise<void> => {
      const stream = `w-${w}`;
      for (let i = 0; i < 12; i++) {
        const n = w * 100 + i;
        await store.append([event(stream, n), event('shared', n)]);
        accepted.set(stream, [...(accepted.get(stream) ?? []), n]);
        appends++;
        if (appends === 20) inner.mode = 'down';
        if (appends === 60) inner.mode = 'up';
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
    expect(spooling.status().events).toBeGreaterThan(0);
    await spooling.replayNow();
    await spooling.drained();
    const stored = await inner.all();
    expect(stored).toHaveLength(6 * 12 * 2);
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
    for (const [stream, ns] of accepted) {
      expect(stored.filter((e) => e.stream === stream).map((e) => (e.data as { n: number }).n)).toEqual(ns);
    }
    // Each writer's events on the shared stream keep that writer's order too.
    for (let w = 0; w < 6; w++) {
      const shared = stored
        .filter((e) => e.stream === 'shared' && Math.floor((e.data as { n: number }).n / 100) === w)
        .map((e) => (e.data as { n: number }).n);
      expect(shared).toEqual(accepted.get(`w-${w}`));
    }
    const versions = stored.filter((e) => e.stream === 'shared').map((e) => e.streamVersion);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });

  it('property: whatever the outages and restarts, every accepted event is stored exactly once, in append order', async () => {
    type Op =
      | { readonly kind: 'append'; readonly stream: string; readonly size: number }
      | { readonly kind: 'down' | 'up' | 'lost-answer' | 'restart' }
      | { readonly kind: 'tick'; readonly ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        stream: fc.constantFrom('a', 'b'),
        size: fc.integer({ min: 1, max: 3 }),
      }),
      fc.constantFrom<Op>({ kind: 'down' }, { kind: 'up' }, { kind: 'lost-answer' }, { kind: 'restart' }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const inner = new OutagePort();
        const path = join(dir, `prop-${run++}.db`);
        const options = { path, maxEvents: 12, retryInitialMs: 100, retryMaxMs: 800, replayBatchEvents: 4 };
        let current = await start(inner, options);
        const accepted: number[] = [];
        let n = 0;
        for (const step of ops) {
          if (step.kind === 'append') {
            const batch = Array.from({ length: step.size }, () => event(step.stream, ++n));
            try {
              await current.store.append(batch);
              for (const e of batch) accepted.push((e.data as { n: number }).n);
            } catch (error) {
              expect(['FND_EVENTS_SPOOL_FULL', 'FND_STORAGE_UNAVAILABLE']).toContain(codeOf(error));
            }
          } else if (step.kind === 'tick') {
            await clock.advanceAsync(step.ms);
          } else if (step.kind === 'restart') {
            await stop(current.store);
            current = await start(inner, options);
          } else {
            inner.mode = step.kind === 'lost-answer' ? 'commit-then-fail' : step.kind;
          }
        }
        inner.mode = 'up';
        await current.spooling.replayNow();
        await current.spooling.drained();
        // An append refused after the store committed it (answer lost, then the spool full) may be stored:
        // as with any lost answer, its caller cannot know. Every accepted one is stored, once, in order.
        const acceptedSet = new Set(accepted);
        const storedList = await storedNs(inner);
        expect(storedList.filter((x) => acceptedSet.has(x))).toEqual(accepted);
        expect(storedList.every((x) => x >= 1 && x <= n)).toBe(true);
        const stored = await inner.all();
        expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
        await stop(current.store);
      }),
      { numRuns: 60 },
    );
  });
});

function prepared(
  stream: string,
  n: number,
  id = `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
): PreparedEvent {
  return preparedOf({
    id,
    type: 'test.counted',
    stream,
    time: 1,
    monotonic: 1,
    correlationId: null,
    causationId: null,
    parentId: null,
    data: { n },
    metadata: {},
    node: 'other',
  });
}
