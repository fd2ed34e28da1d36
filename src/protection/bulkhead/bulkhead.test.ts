import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { type TelemetryMessage, channelName } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { createDeadlineLayer } from '../deadline/deadline-layer.js';
import { pipeline } from '../pipeline.js';
import { createBulkheadLayer } from './bulkhead-layer.js';
import { BulkheadState } from './bulkhead-state.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const flush = (): Promise<void> =>
  new Promise((r) => {
    setImmediate(r);
  });

describe('BulkheadState', () => {
  it('admits up to maxConcurrent, queues FIFO up to maxQueue, hands slots over in order', () => {
    const state = new BulkheadState<string>({ maxConcurrent: 2, maxQueue: 2 });
    expect(state.tryEnter()).toBe(true);
    expect(state.tryEnter()).toBe(true);
    expect(state.tryEnter()).toBe(false);
    expect(state.enqueue('a')).toBe(true);
    expect(state.enqueue('b')).toBe(true);
    expect(state.enqueue('c')).toBe(false);
    expect(state.next()).toBeUndefined();
    state.leave();
    expect(state.next()).toBe('a');
    expect(state.running).toBe(2);
    expect(state.remove((w) => w === 'b')).toEqual(['b']);
    expect(state.queued).toBe(0);
  });

  it('keeps FIFO order over many enqueues and dequeues (compaction)', () => {
    const state = new BulkheadState<number>({ maxConcurrent: 1, maxQueue: 1000 });
    state.tryEnter();
    const out: number[] = [];
    for (let i = 0; i < 500; i += 1) state.enqueue(i);
    for (let i = 0; i < 300; i += 1) {
      state.leave();
      out.push(state.next() as number);
    }
    for (let i = 500; i < 700; i += 1) state.enqueue(i);
    while (state.queued > 0) {
      state.leave();
      out.push(state.next() as number);
    }
    expect(out).toEqual(Array.from({ length: 700 }, (_, i) => i));
  });
});

describe('BulkheadState properties', () => {
  it('never runs more than maxConcurrent nor queues more than maxQueue, and serves waiters in FIFO order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.constantFrom('arrive', 'finish', 'drop'), { maxLength: 200 }),
        (maxConcurrent, maxQueue, ops) => {
          const state = new BulkheadState<number>({ maxConcurrent, maxQueue });
          const expectedQueue: number[] = [];
          const served: number[] = [];
          const dropped = new Set<number>();
          let id = 0;
          for (const op of ops) {
            if (op === 'arrive') {
              id += 1;
              if (!state.tryEnter() && state.enqueue(id)) expectedQueue.push(id);
            } else if (op === 'finish' && state.running > 0) {
              state.leave();
              const next = state.next();
              if (next !== undefined) served.push(next);
            } else if (op === 'drop' && state.queued > 0) {
              const victim = expectedQueue.find((w) => !dropped.has(w) && !served.includes(w));
              if (victim !== undefined) {
                expect(state.remove((w) => w === victim)).toEqual([victim]);
                dropped.add(victim);
              }
            }
            expect(state.running).toBeLessThanOrEqual(maxConcurrent);
            expect(state.queued).toBeLessThanOrEqual(maxQueue);
          }
          expect(served).toEqual(expectedQueue.filter((w) => !dropped.has(w)).slice(0, served.length));
        },
      ),
    );
  });
});

describe('bulkhead layer', () => {
  function setup(maxConcurrent: number, maxQueue: number) {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const layer = createBulkheadLayer({ maxConcurrent, maxQueue });
    return { clock, timer, layer };
  }

  it('runs at most maxConcurrent, queues FIFO, refuses beyond the queue with FND_PROTECT_BULKHEAD_FULL', async () => {
    const seen: TelemetryMessage[] = [];
    const listener = (m: unknown): void => {
      seen.push(m as TelemetryMessage);
    };
    diagnosticsChannel.subscribe(channelName('protection:rejected'), listener);
    try {
      const { clock, timer, layer } = setup(1, 1);
      const policy = pipeline('svc', [layer], { clock, timer });
      const first = deferred<string>();
      const order: string[] = [];
      const a = policy.execute(() => {
        order.push('a');
        return first.promise;
      });
      const b = policy.execute(() => {
        order.push('b');
        return 'b';
      });
      const c = policy.execute(() => 'c').catch((e: unknown) => e);
      const error = (await c) as FoundationError;
      expect(error.code).toBe('FND_PROTECT_BULKHEAD_FULL');
      expect(error.context).toMatchObject({
        layer: 'bulkhead',
        policy: 'svc',
        maxConcurrent: 1,
        maxQueue: 1,
      });
      expect(layer.status()).toMatchObject({ running: 1, queued: 1, rejected: 1 });
      expect(order).toEqual(['a']);
      first.resolve('a');
      await expect(a).resolves.toBe('a');
      await expect(b).resolves.toBe('b');
      expect(order).toEqual(['a', 'b']);
      expect(layer.status()).toMatchObject({ running: 0, queued: 0 });
      expect(seen.map((m) => m.metadata)).toEqual([
        { policy: 'svc', layer: 'bulkhead', code: 'FND_PROTECT_BULKHEAD_FULL' },
      ]);
    } finally {
      diagnosticsChannel.unsubscribe(channelName('protection:rejected'), listener);
    }
  });

  it('abort-safe: a waiter aborted while queued never runs, and its place is freed', async () => {
    const { clock, timer, layer } = setup(1, 1);
    const plain = pipeline('plain', [layer], { clock, timer });
    const bounded = pipeline('bounded', [createDeadlineLayer({ ms: 100 }), layer], { clock, timer });
    const blocker = deferred<string>();
    const a = plain.execute(() => blocker.promise);
    let ranB = false;
    const b = bounded
      .execute(() => {
        ranB = true;
        return 'b';
      })
      .catch((e: unknown) => e);
    await clock.advanceAsync(110);
    expect(((await b) as FoundationError).context).toMatchObject({ layer: 'deadline' });
    // The queue's one place is held by b's dead waiter: c sweeps it out and takes it.
    const c = plain.execute(() => 'c');
    expect(layer.status()).toMatchObject({ running: 1, queued: 1, rejected: 0 });
    blocker.resolve('a');
    await expect(a).resolves.toBe('a');
    await expect(c).resolves.toBe('c');
    expect(ranB).toBe(false);
    expect(layer.status()).toMatchObject({ running: 0, queued: 0 });
  });

  it('abort-safe: a cancelled waiter is skipped when its turn comes', async () => {
    const { clock, timer, layer } = setup(1, 2);
    const policy = pipeline('svc', [layer], { clock, timer });
    const blocker = deferred<string>();
    const a = policy.execute(() => blocker.promise);
    const caller = new AbortController();
    let ranB = false;
    const b = policy
      .execute(() => {
        ranB = true;
        return 'b';
      }, caller.signal)
      .catch((e: unknown) => e);
    const c = policy.execute(() => 'c');
    caller.abort();
    expect(((await b) as FoundationError).code).toBe('FND_PROTECT_CANCELLED');
    blocker.resolve('a');
    await expect(a).resolves.toBe('a');
    await expect(c).resolves.toBe('c');
    expect(ranB).toBe(false);
    expect(layer.status()).toMatchObject({ running: 0, queued: 0 });
  });

  it('configure: a larger limit starts waiters at once, running calls continue', async () => {
    const { clock, timer, layer } = setup(1, 5);
    const policy = pipeline('svc', [layer], { clock, timer });
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    const started: number[] = [];
    const calls = gates.map((gate, i) =>
      policy.execute(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    expect(started).toEqual([0]);
    layer.configure({ maxConcurrent: 3, maxQueue: 5 });
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((gate, i) => {
      gate.resolve(i);
    });
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2]);
    expect(() => {
      layer.configure({ maxConcurrent: 0 });
    }).toThrow(expect.objectContaining({ context: { option: 'bulkhead.maxConcurrent' } }));
  });
});
