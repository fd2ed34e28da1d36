import { afterEach, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../../errors/index.js';
import type { StoredEvent } from '../../model/types.js';
import { FakeClock } from '../../../testing/fake-clock.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { durableKit, type DurableKit } from './durable-test-kit.js';
import { durableSubscription } from './durable-subscription.js';
import type { DurableSubscription } from './types.js';

let kit: DurableKit;
const handles: DurableSubscription[] = [];
let unblock: () => void = () => undefined;

afterEach(async () => {
  unblock();
  await Promise.all(handles.splice(0).map((h) => h.stop().catch(() => undefined)));
  await kit.stop();
});

function positions(events: readonly StoredEvent[]): number[] {
  return events.map((e) => e.position);
}

async function storedPosition(name: string, partition = 0): Promise<number | undefined> {
  return (await kit.checkpoints.read(name))?.partitions[partition]?.position;
}

describe('durable subscription (memory, fake clock)', () => {
  it('delivers from the start in order, stores the checkpoint on stop, and a new handle resumes right after it', async () => {
    kit = await durableKit();
    const first = await kit.append(5);
    const seen: StoredEvent[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      { name: 'mailer', from: 'start', handler: (e) => void seen.push(e) },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.until(() => seen.length === 5, '5 delivered');
    const more = await kit.append(2);
    await kit.until(() => seen.length === 7, '7 delivered');
    expect(positions(seen)).toEqual(positions([...first, ...more]));
    await a.stop();
    expect(a.status().state).toBe('stopped');
    expect(await storedPosition('mailer')).toBe(7);

    const later = await kit.append(3);
    const resumed: StoredEvent[] = [];
    const b = durableSubscription(
      kit.events,
      kit.checkpoints,
      { name: 'mailer', from: 'start', handler: (e) => void resumed.push(e) },
      { clock: kit.clock },
    );
    handles.push(b);
    await b.start();
    await kit.until(() => resumed.length === 3, '3 resumed');
    expect(positions(resumed)).toEqual(positions(later));
  });

  it("starts a new name at the end with from: 'end' (default)", async () => {
    kit = await durableKit();
    await kit.append(3);
    const seen: StoredEvent[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      { name: 'tail', handler: (e) => void seen.push(e) },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    const after = await kit.append(2);
    await kit.until(() => seen.length === 2);
    expect(positions(seen)).toEqual(positions(after));
  });

  it('batches checkpoint writes: every N events, or T ms after the first unstored one', async () => {
    kit = await durableKit();
    const seen: StoredEvent[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'batched',
        from: 'start',
        checkpointEvery: 3,
        checkpointIntervalMs: 500,
        handler: (e) => void seen.push(e),
      },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.append(4);
    await kit.until(() => seen.length === 4);
    await kit.until(() => a.status().held[0]?.storedPosition === 3, 'stored after 3');
    expect(await storedPosition('batched')).toBe(3);
    await kit.clock.advanceAsync(499);
    expect(await storedPosition('batched')).toBe(3);
    await kit.clock.advanceAsync(1);
    await kit.until(() => a.status().held[0]?.storedPosition === 4, 'stored after 500 ms');
    expect(await storedPosition('batched')).toBe(4);
  });

  it('retries a failing handler with backoff, then fails with FND_EVENTS_SUBSCRIPTION_FAILED without acknowledging the event', async () => {
    kit = await durableKit();
    const events = await kit.append(4);
    const attempts: number[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'fragile',
        from: 'start',
        checkpointIntervalMs: 0,
        retry: { attempts: 3, backoffMs: 100 },
        handler: (e, ctx) => {
          if (e.position === 3) {
            attempts.push(ctx.attempt);
            throw new Error('downstream is down');
          }
        },
      },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.until(() => attempts.length === 1, 'first attempt');
    await kit.clock.advanceAsync(99);
    expect(attempts).toEqual([1]);
    await kit.clock.advanceAsync(1);
    await kit.until(() => attempts.length === 2, 'second attempt');
    await kit.clock.advanceAsync(199);
    expect(attempts).toEqual([1, 2]);
    await kit.clock.advanceAsync(1);
    await kit.until(() => a.status().state === 'failed', 'failed');
    expect(attempts).toEqual([1, 2, 3]);
    const error = a.status().error;
    expect(error?.code).toBe('FND_EVENTS_SUBSCRIPTION_FAILED');
    expect(error?.context).toMatchObject({ name: 'fragile', partition: 0, position: 3 });
    await expect(a.done).rejects.toMatchObject({ code: 'FND_EVENTS_SUBSCRIPTION_FAILED' });
    expect(await storedPosition('fragile')).toBe(2);
    const row = (await kit.checkpoints.read('fragile'))?.partitions[0];
    expect(row?.owner).toBeNull();

    // A new handle starts again at the unacknowledged event.
    const seen: StoredEvent[] = [];
    const b = durableSubscription(
      kit.events,
      kit.checkpoints,
      { name: 'fragile', handler: (e) => void seen.push(e) },
      { clock: kit.clock },
    );
    handles.push(b);
    await b.start();
    await kit.until(() => seen.length === 2);
    expect(positions(seen)).toEqual(positions(events.slice(2)));
  });

  it('sends an event that keeps failing to the dead-letter handler and goes on', async () => {
    kit = await durableKit();
    await kit.append(3);
    const dead: Array<{ position: number; message: string }> = [];
    const seen: number[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'with-dlq',
        from: 'start',
        retry: { attempts: 2, backoffMs: 10 },
        handler: (e) => {
          if (e.position === 2) throw new Error('poison');
          seen.push(e.position);
        },
        deadLetter: (e, error) => {
          dead.push({ position: e.position, message: error instanceof Error ? error.message : '' });
        },
      },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.until(() => seen.length === 1);
    await kit.clock.advanceAsync(10);
    await kit.until(() => seen.length === 2, 'after the dead letter');
    expect(seen).toEqual([1, 3]);
    expect(dead).toEqual([{ position: 2, message: 'poison' }]);
    expect(a.status()).toMatchObject({ state: 'running', deadLettered: 1, handled: 2 });
  });

  it('a stopped member releases its lease; a crashed member is taken over after its lease expires, and its late checkpoint is refused', async () => {
    kit = await durableKit();
    await kit.append(6);
    // Member A runs on its own clock that the test never advances: it is "frozen" (a crash or a long pause).
    const frozen = new FakeClock();
    const seenA: number[] = [];
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'orders',
        from: 'start',
        leaseMs: 1000,
        checkpointEvery: 2,
        group: { member: 'a', partitions: 1 },
        handler: async (e) => {
          seenA.push(e.position);
          if (e.position === 6) await new Promise<void>((resolve) => (unblock = resolve));
        },
      },
      { clock: frozen },
    );
    handles.push(a);
    await a.start();
    await kit.until(() => seenA.length === 6, 'A reached the blocking event');
    expect(await storedPosition('orders')).toBe(4);

    const seenB: number[] = [];
    const b = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'orders',
        leaseMs: 1000,
        checkpointIntervalMs: 0,
        group: { member: 'b', partitions: 1 },
        handler: (e) => void seenB.push(e.position),
      },
      { clock: kit.clock },
    );
    handles.push(b);
    await b.start();
    expect(b.status().held).toEqual([]);
    expect(b.status().members).toEqual(['a', 'b']);
    await kit.clock.advanceAsync(999);
    expect(seenB).toEqual([]);
    await kit.clock.advanceAsync(400);
    await kit.until(() => seenB.length === 2, 'B took over');
    // B resumes right after A's stored checkpoint: 5 is redelivered (at-least-once), 6 is A's in-flight event.
    expect(seenB).toEqual([5, 6]);
    expect(b.status().held.map((p) => p.partition)).toEqual([0]);

    // A wakes up and finishes its event: its checkpoint write is refused and it drops the partition.
    unblock();
    await kit.until(() => a.status().held.length === 0, 'A dropped the partition');
    await kit.until(() => b.status().held[0]?.storedPosition === 6, 'B stored');
    const row = (await kit.checkpoints.read('orders'))?.partitions[0];
    expect(row).toMatchObject({ owner: 'b', position: 6 });
    await expect(kit.checkpoints.commit('orders', 0, 'a', '99', 99)).rejects.toMatchObject({
      code: 'FND_EVENTS_CHECKPOINT_CONFLICT',
    });

    // A graceful stop releases at once: C takes over without waiting for the lease.
    await b.stop();
    expect((await kit.checkpoints.read('orders'))?.partitions[0]?.owner).toBeNull();
  });

  it('rebalances a group as members join and leave: fair shares, disjoint, every partition held, per-key order kept', async () => {
    kit = await durableKit();
    const handled: Array<{ member: string; stream: string; n: number }> = [];
    const member = (id: string): DurableSubscription => {
      const h = durableSubscription(
        kit.events,
        kit.checkpoints,
        {
          name: 'group',
          from: 'start',
          leaseMs: 1000,
          group: { member: id, partitions: 8 },
          handler: (e) => {
            handled.push({ member: id, stream: e.stream ?? '', n: (e.data as { n: number }).n });
          },
        },
        { clock: kit.clock },
      );
      handles.push(h);
      return h;
    };
    const heldBy = (hs: DurableSubscription[]): number[][] =>
      hs.map((h) => h.status().held.map((p) => p.partition));
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) await kit.clock.advanceAsync(334);
    };
    const a = member('a');
    await a.start();
    await kit.append(40, 10);
    await settle();
    expect(heldBy([a])).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
    const b = member('b');
    const c = member('c');
    await b.start();
    await c.start();
    await kit.append(40, 10);
    await settle();
    const three = heldBy([a, b, c]);
    expect(three.map((h) => h.length).sort()).toEqual([2, 3, 3]);
    expect(three.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await c.stop();
    await kit.append(40, 10);
    await settle();
    const two = heldBy([a, b]);
    expect(two.map((h) => h.length)).toEqual([4, 4]);
    expect(two.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await kit.until(() => new Set(handled.map((h) => h.n)).size === 120, 'all 120 handled');
    // Graceful handovers store checkpoints first: nothing was handled twice, and each stream in order.
    expect(handled).toHaveLength(120);
    const byStream = new Map<string, number[]>();
    for (const h of handled) byStream.set(h.stream, [...(byStream.get(h.stream) ?? []), h.n]);
    for (const ns of byStream.values()) expect(ns).toEqual([...ns].sort((x, y) => x - y));
  });

  it('reports a failing heartbeat in status and stops handling once its lease can no longer be renewed', async () => {
    kit = await durableKit();
    let down = false;
    const store = kit.checkpoints;
    const flaky: CheckpointStore = {
      kind: 'memory',
      open: () => store.open(),
      ensure: (...a) => store.ensure(...a),
      read: (...a) => store.read(...a),
      heartbeat: (...a) => (down ? Promise.reject(new Error('connection refused')) : store.heartbeat(...a)),
      acquire: (...a) => store.acquire(...a),
      release: (...a) => store.release(...a),
      leave: (...a) => store.leave(...a),
      commit: (...a) => store.commit(...a),
    };
    const seen: number[] = [];
    const a = durableSubscription(
      kit.events,
      flaky,
      { name: 'flaky', from: 'start', leaseMs: 1000, handler: (e) => void seen.push(e.position) },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.append(1);
    await kit.until(() => seen.length === 1);
    down = true;
    await kit.clock.advanceAsync(334);
    expect(a.status().heartbeatError?.code).toBe('FND_STORAGE_UNAVAILABLE');
    expect(a.status().held).toHaveLength(1);
    await kit.clock.advanceAsync(700);
    expect(a.status().held).toHaveLength(0);
    await kit.append(1);
    await kit.clock.advanceAsync(0);
    expect(seen).toEqual([1]);
    down = false;
    await kit.clock.advanceAsync(334);
    await kit.until(() => seen.includes(2), 'handling again');
    // Event 1 was handled but its checkpoint not stored before the lease lapsed: delivered again.
    expect(seen).toEqual([1, 1, 2]);
    expect(a.status().heartbeatError).toBeUndefined();
  });

  it('refuses garbage options with FND_EVENTS_INVALID_SUBSCRIPTION and leaves stored checkpoints intact', async () => {
    kit = await durableKit();
    await kit.append(3);
    const a = durableSubscription(
      kit.events,
      kit.checkpoints,
      {
        name: 'kept',
        from: 'start',
        group: { partitions: 4 },
        checkpointIntervalMs: 0,
        handler: () => undefined,
      },
      { clock: kit.clock },
    );
    handles.push(a);
    await a.start();
    await kit.until(() => a.status().handled === 3);
    await a.stop();
    const before = await kit.checkpoints.read('kept');
    const garbage: unknown[] = [
      undefined,
      null,
      'kept',
      {},
      { name: '', handler: () => undefined },
      { name: 'kept', handler: 'nope' },
      { name: 'kept', handler: () => undefined, from: -1 },
      { name: 'kept', handler: () => undefined, from: 'middle' },
      { name: 'kept', handler: () => undefined, group: { partitions: 0 } },
      { name: 'kept', handler: () => undefined, group: { partitions: 5000 } },
      { name: 'kept', handler: () => undefined, group: { key: 'type' } },
      { name: 'kept', handler: () => undefined, group: { member: '' } },
      { name: 'kept', handler: () => undefined, group: [] },
      { name: 'kept', handler: () => undefined, leaseMs: 10 },
      { name: 'kept', handler: () => undefined, leaseMs: 1000, heartbeatMs: 900 },
      { name: 'kept', handler: () => undefined, checkpointEvery: 0 },
      { name: 'kept', handler: () => undefined, retry: { attempts: 0 } },
      { name: 'kept', handler: () => undefined, retry: { tries: 3 } },
      { name: 'kept', handler: () => undefined, deadLetter: 42 },
      { name: 'kept', handler: () => undefined, filter: { types: ['NOT A TYPE'] } },
      { name: 'kept', handler: () => undefined, filter: { limit: 3 } },
      { name: 'kept', handler: () => undefined, surprise: true },
    ];
    for (const options of garbage) {
      let thrown: unknown;
      try {
        durableSubscription(kit.events, kit.checkpoints, options as never);
      } catch (error) {
        thrown = error;
      }
      expect(isFoundationError(thrown) && thrown.code, `garbage option set`).toBe(
        'FND_EVENTS_INVALID_SUBSCRIPTION',
      );
    }
    // A different partition count for an existing name is refused at start.
    const other = durableSubscription(
      kit.events,
      kit.checkpoints,
      { name: 'kept', group: { partitions: 8 }, handler: () => undefined },
      { clock: kit.clock },
    );
    await expect(other.start()).rejects.toMatchObject({ code: 'FND_EVENTS_INVALID_SUBSCRIPTION' });
    expect(await kit.checkpoints.read('kept')).toEqual(before);
  });
});
