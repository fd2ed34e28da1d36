import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { FoundationError, isFoundationError } from '../errors/index.js';
import type { TelemetryMessage } from '../kernel/telemetry.js';
import { rejection } from '../testing/capture.js';
import { FakeClock } from '../testing/fake-clock.js';
import { EventStore, MAX_CORRELATION_CHAIN } from './event-store.js';
import type { AppendOutcome, AppendRequest, EventStorePort } from './model/port.js';
import type { ReadAllOptions, ReadStreamOptions, StoredEvent } from './model/types.js';
import { READ_FROM_END } from './read-options.js';
import { MemoryEventStore } from './stores/memory-store.js';

interface Group {
  readonly requests: readonly AppendRequest[];
  release(): void;
  fail(error: unknown): void;
}

/** A memory store whose appends wait until the test releases each group; records what it was asked. */
class HeldPort implements EventStorePort {
  readonly kind = 'held';
  readonly memory = new MemoryEventStore();
  readonly groups: Group[] = [];
  readonly calls: unknown[][] = [];
  opened = 0;
  closed = 0;
  openError: Error | undefined;

  open(): Promise<void> {
    this.opened++;
    if (this.openError !== undefined) {
      const error = this.openError;
      this.openError = undefined;
      return Promise.reject(error);
    }
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
  append(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      this.groups.push({
        requests,
        release: () => {
          resolve(this.memory.append(requests));
        },
        fail: reject,
      });
    });
  }
  get(id: string) {
    return this.memory.get(id);
  }
  streamVersion(stream: string) {
    return this.memory.streamVersion(stream);
  }
  readStream(stream: string, options: Required<ReadStreamOptions>) {
    this.calls.push(['readStream', stream, options]);
    return this.memory.readStream(stream, options);
  }
  readAll(options: Required<ReadAllOptions>) {
    this.calls.push(['readAll', options]);
    return this.memory.readAll(options);
  }
  query(query: Parameters<EventStorePort['query']>[0]) {
    return this.memory.query(query);
  }
  aggregate(query: Parameters<EventStorePort['aggregate']>[0]) {
    return this.memory.aggregate(query);
  }
  byCorrelation(correlationId: string, limit: number): Promise<StoredEvent[]> {
    this.calls.push(['byCorrelation', correlationId, limit]);
    return this.memory.byCorrelation(correlationId, limit);
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets committed groups settle their callers and the group commit decide (one macrotask later) the next group. */
async function flush(): Promise<void> {
  await macrotask();
  await macrotask();
}

function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

async function started(port: EventStorePort = new MemoryEventStore(), clock = new FakeClock()) {
  const store = new EventStore(port, { clock, node: 'node-a' });
  await store.start();
  return store;
}

describe('EventStore lifecycle', () => {
  it('refuses every method before start and after stop with FND_SYSTEM_SERVICE_UNAVAILABLE', async () => {
    const store = new EventStore(new MemoryEventStore());
    const calls = (s: EventStore) => [
      () => s.append({ type: 'a.b' }),
      () => s.get('x'),
      () => s.readStream('s'),
      () => s.readAll(),
      () => s.query({}),
      () => s.aggregate({ groupBy: 'type' }),
      () => s.correlationChain('c'),
      () => s.streamVersion('s'),
    ];
    for (const call of calls(store)) {
      expect(await rejection(call())).toMatchObject({ code: 'FND_SYSTEM_SERVICE_UNAVAILABLE' });
    }
    await store.start();
    await store.append({ type: 'a.b' });
    await store.stop();
    for (const call of calls(store)) {
      expect(await rejection(call())).toMatchObject({ code: 'FND_SYSTEM_SERVICE_UNAVAILABLE' });
    }
  });

  it('start and stop are idempotent; a restarted store works again', async () => {
    const port = new HeldPort();
    const store = new EventStore(port);
    await Promise.all([store.start(), store.start()]);
    await store.start();
    expect(port.opened).toBe(1);
    await Promise.all([store.stop(), store.stop()]);
    await store.stop();
    expect(port.closed).toBe(1);
    await store.start();
    expect(port.opened).toBe(2);
    expect(await store.readAll()).toEqual([]);
  });

  it('a failed open leaves the store stopped and classified; start can be retried', async () => {
    const port = new HeldPort();
    port.openError = new Error('cannot open');
    const store = new EventStore(port);
    expect(await rejection(store.start())).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED' });
    expect(await rejection(store.readAll())).toMatchObject({ code: 'FND_SYSTEM_SERVICE_UNAVAILABLE' });
    await store.start();
    expect(await store.readAll()).toEqual([]);
  });

  it('stop waits for the appends in flight and queued to commit, then closes the adapter', async () => {
    const port = new HeldPort();
    const store = await started(port);
    const first = track(store.append({ type: 'a.one' }));
    const second = track(store.append({ type: 'a.two' }));
    const stopped = track(store.stop());
    expect(await rejection(store.append({ type: 'a.three' }))).toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
    });
    await flush();
    expect(stopped.settled).toBe(false);
    port.groups[0]?.release();
    await flush();
    expect(first.settled).toBe(true);
    expect(stopped.settled).toBe(false);
    port.groups[1]?.release();
    await flush();
    expect(second.value?.events[0]?.type).toBe('a.two');
    expect(stopped.settled).toBe(true);
    expect(port.closed).toBe(1);
  });

  it('rejects invalid options', () => {
    for (const options of [{ maxEventBytes: 0 }, { maxBatchEvents: 1.5 }, { maxGroupRequests: -1 }]) {
      expect(() => new EventStore(new MemoryEventStore(), options)).toThrow(FoundationError);
    }
  });
});

describe('EventStore appends', () => {
  it('stamps the clock times and the node name', async () => {
    const clock = new FakeClock({ now: 1_800_000_000_000, monotonic: 50 });
    const store = await started(new MemoryEventStore(), clock);
    clock.advance(25);
    const { events } = await store.append([{ type: 'a.b' }, { type: 'c.d' }]);
    expect(events.map((e) => [e.time, e.monotonic, e.node])).toEqual([
      [1_800_000_000_025, 75, 'node-a'],
      [1_800_000_000_025, 75, 'node-a'],
    ]);
  });

  it('applies maxEventBytes and maxBatchEvents', async () => {
    const store = new EventStore(new MemoryEventStore(), { maxEventBytes: 100, maxBatchEvents: 3 });
    await store.start();
    await store.append({ type: 'a.b', data: 'x'.repeat(80) });
    expect(await rejection(store.append({ type: 'a.b', data: 'x'.repeat(100) }))).toMatchObject({
      code: 'FND_EVENTS_TOO_LARGE',
    });
    await store.append([{ type: 'a.b' }, { type: 'a.b' }, { type: 'a.b' }]);
    expect(
      await rejection(store.append([{ type: 'a.b' }, { type: 'a.b' }, { type: 'a.b' }, { type: 'a.b' }])),
    ).toMatchObject({ code: 'FND_EVENTS_INVALID_EVENT', context: { count: 4, max: 3 } });
    expect(await rejection(store.append({ type: 'a.b' }, null as never))).toMatchObject({
      code: 'FND_EVENTS_INVALID_EVENT',
    });
    expect(await store.readAll()).toHaveLength(4);
  });

  it('puts appends arriving while a group commits into ONE next group; each caller waits for its own', async () => {
    const port = new HeldPort();
    const store = await started(port);
    const a = track(store.append({ type: 'a.a', stream: 's' }));
    const b = track(store.append({ type: 'b.b', stream: 's' }));
    const c = track(store.append([{ type: 'c.c' }, { type: 'c.d' }]));
    const d = track(store.append({ type: 'd.d', stream: 's' }, { expectedVersion: 1 }));
    await flush();
    expect(port.groups.map((g) => g.requests.length)).toEqual([1]);
    expect([a.settled, b.settled, c.settled, d.settled]).toEqual([false, false, false, false]);
    port.groups[0]?.release();
    await flush();
    expect(a.value?.streamVersion).toBe(1);
    expect(port.groups.map((g) => g.requests.length)).toEqual([1, 3]);
    expect([b.settled, c.settled, d.settled]).toEqual([false, false, false]);
    port.groups[1]?.release();
    await flush();
    expect(b.value?.streamVersion).toBe(2);
    expect(c.value?.events.map((e) => e.type)).toEqual(['c.c', 'c.d']);
    // d expected version 1, but b went first in the same group: only d fails.
    expect(d.error).toMatchObject({
      code: 'FND_EVENTS_VERSION_CONFLICT',
      context: { expected: 1, actual: 2 },
    });
  });

  it('a store failure fails every append of that group only; the next group still commits', async () => {
    const port = new HeldPort();
    const store = await started(port);
    const a = track(store.append({ type: 'a.a' }));
    const b = track(store.append({ type: 'b.b' }));
    const c = track(store.append({ type: 'c.c' }));
    port.groups[0]?.release();
    await flush();
    const lost = new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'connection lost' });
    port.groups[1]?.fail(lost);
    await flush();
    expect(a.value?.events[0]?.type).toBe('a.a');
    expect(b.error).toBe(lost);
    expect(c.error).toBe(lost);
    const e = track(store.append({ type: 'e.e' }));
    port.groups[2]?.release();
    await flush();
    expect(e.value?.events[0]?.type).toBe('e.e');
    expect((await store.readAll()).map((x) => x.type)).toEqual(['a.a', 'e.e']);
  });

  it('publishes events:appended and events:append_failed', async () => {
    const seen: TelemetryMessage[] = [];
    const listener = (message: unknown) => {
      seen.push(message as TelemetryMessage);
    };
    const channels = ['foundation:events:appended', 'foundation:events:append_failed'];
    for (const name of channels) diagnosticsChannel.subscribe(name, listener);
    try {
      const clock = new FakeClock();
      const port = new HeldPort();
      const store = await started(port, clock);
      const pending = store.append([{ type: 'a.b' }, { type: 'a.c' }]);
      clock.advance(4);
      port.groups[0]?.release();
      await pending;
      await rejection(store.append({ type: 'Bad Type' }));
      expect(seen.map((m) => [m.name, m.measurements, m.metadata])).toEqual([
        ['events:appended', { count: 2, duration: 4 }, { idempotent: false }],
        ['events:append_failed', { count: 1 }, { code: 'FND_EVENTS_INVALID_EVENT' }],
      ]);
    } finally {
      for (const name of channels) diagnosticsChannel.unsubscribe(name, listener);
    }
  });
});

describe('EventStore reads', () => {
  const stores: EventStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
  });

  it('hands the adapter validated read options with their defaults', async () => {
    const port = new HeldPort();
    const store = await started(port);
    stores.push(store);
    await store.readStream('s');
    await store.readStream('s', { direction: 'backward', limit: 5 });
    await store.readAll();
    await store.correlationChain('c-1');
    expect(port.calls).toEqual([
      ['readStream', 's', { direction: 'forward', from: 1, limit: 1000 }],
      ['readStream', 's', { direction: 'backward', from: READ_FROM_END, limit: 5 }],
      ['readAll', { afterPosition: 0, limit: 1000 }],
      ['byCorrelation', 'c-1', MAX_CORRELATION_CHAIN],
    ]);
  });

  it('classifies a failing adapter read as FND_STORAGE_QUERY_FAILED', async () => {
    const port = new HeldPort();
    port.get = () => Promise.reject(new Error('disk gone'));
    const store = await started(port);
    stores.push(store);
    const error = await rejection(store.get('x'));
    expect(isFoundationError(error, 'FND_STORAGE_QUERY_FAILED')).toBe(true);
  });

  it('time range queries and time buckets follow the clock', async () => {
    const clock = new FakeClock({ now: 1_700_000_000_000 });
    const store = await started(new MemoryEventStore(), clock);
    stores.push(store);
    const t0 = clock.now();
    await store.append({ id: 't0', type: 'tick' });
    clock.advance(1500);
    await store.append({ id: 't1', type: 'tick' });
    clock.advance(1000);
    await store.append({ id: 't2', type: 'tock' });
    const q = async (query: object) => (await store.query(query)).events.map((e) => e.id);
    expect(await q({ from: t0 })).toEqual(['t0', 't1', 't2']);
    expect(await q({ from: t0 + 1 })).toEqual(['t1', 't2']);
    expect(await q({ to: t0 + 1500 })).toEqual(['t0']);
    expect(await q({ from: t0 + 1500, to: t0 + 2500 })).toEqual(['t1']);
    expect(await q({ from: t0 + 1500, to: t0 + 2501 })).toEqual(['t1', 't2']);
    expect(await store.aggregate({ groupBy: 'time', bucketMs: 1000 })).toEqual([
      { key: t0, count: 1 },
      { key: t0 + 1000, count: 1 },
      { key: t0 + 2000, count: 1 },
    ]);
    expect(await store.aggregate({ groupBy: 'time', bucketMs: 2000 })).toEqual([
      { key: t0, count: 2 },
      { key: t0 + 2000, count: 1 },
    ]);
  });
});
