/**
 * Durable subscriptions on SQLite and PostgreSQL: restart-resume. A subscription is stopped mid-stream
 * (gracefully, or by losing its store: a crash) while events keep being appended; a new store connection
 * and a new handle take over; the test checks the new handle delivered exactly the events after the
 * acknowledged checkpoint of each partition, nothing before, nothing lost, and each stream in order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import {
  createCheckpointStore,
  durableSubscription,
  partitionOfKey,
  type CheckpointStore,
  type DurableSubscription,
} from '../../src/events/subscriptions/durable/index.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

/** One "process": a storage, its event store and checkpoint store. */
interface Node {
  readonly storage: Storage;
  readonly events: EventStore;
  readonly checkpoints: CheckpointStore;
  close(): Promise<void>;
}

async function openNode(url: string): Promise<Node> {
  const storage = new Storage(url);
  await storage.open();
  const events = createEventStore(storage);
  await events.start();
  const checkpoints = createCheckpointStore(storage);
  return {
    storage,
    events,
    checkpoints,
    async close(): Promise<void> {
      await events.stop();
      await storage.close();
    },
  };
}

/** A promise resolved once `count()` reaches `target` (checked by `check()` after each handled event). */
function counter(): { check: () => void; reach: (target: () => boolean) => Promise<void> } {
  const waiting: Array<{ target: () => boolean; resolve: () => void }> = [];
  return {
    check(): void {
      for (const w of [...waiting]) {
        if (w.target()) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    reach(target: () => boolean): Promise<void> {
      if (target()) return Promise.resolve();
      return new Promise((resolve) => waiting.push({ target, resolve }));
    },
  };
}

async function appendMany(
  events: EventStore,
  type: string,
  from: number,
  count: number,
  streams: number,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let n = from; n < from + count; n++) {
    out.push(...(await events.append({ type, stream: `${type}-${n % streams}`, data: { n } })).events);
  }
  return out;
}

function restartContract(name: string, url: () => string): void {
  const nodes: Node[] = [];
  const handles: DurableSubscription[] = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop().catch(() => undefined)));
    for (const node of nodes) await node.close().catch(() => undefined);
  });
  const open = async (): Promise<Node> => {
    const node = await openNode(url());
    nodes.push(node);
    return node;
  };

  it(`${name}: a group stopped mid-stream resumes on a new connection exactly after each partition's checkpoint`, async () => {
    const partitions = 4;
    const TYPE = 'resume.group';
    const first = await open();
    const all: StoredEvent[] = await appendMany(first.events, TYPE, 0, 40, 7);
    const seenA: StoredEvent[] = [];
    const a = counter();
    const subA = durableSubscription(first.events, first.checkpoints, {
      name: 'resume-group',
      filter: { types: [TYPE] },
      from: 'start',
      checkpointEvery: 5,
      checkpointIntervalMs: 60_000,
      group: { member: 'a', partitions },
      handler: (event) => {
        seenA.push(event);
        a.check();
      },
    });
    handles.push(subA);
    await subA.start();
    await a.reach(() => seenA.length >= 15);
    // Stop while more events are being appended.
    const appending = appendMany(first.events, TYPE, 40, 20, 7);
    await subA.stop();
    all.push(...(await appending));
    const stored = (await first.checkpoints.read('resume-group'))?.partitions ?? [];
    expect(stored.map((p) => p.owner)).toEqual([null, null, null, null]);
    await first.close();

    // A new "process": new connection, new event store, new member.
    const second = await open();
    all.push(...(await appendMany(second.events, TYPE, 60, 20, 7)));
    const partitionOf = (e: StoredEvent): number => partitionOfKey(e.stream ?? e.id, partitions);
    const expected = all.filter((e) => e.position > (stored[partitionOf(e)]?.position ?? 0));
    const seenB: StoredEvent[] = [];
    const b = counter();
    const subB = durableSubscription(second.events, second.checkpoints, {
      name: 'resume-group',
      filter: { types: [TYPE] },
      from: 'end',
      group: { member: 'b', partitions },
      handler: (event) => {
        seenB.push(event);
        b.check();
      },
    });
    handles.push(subB);
    await subB.start();
    await b.reach(() => seenB.length >= expected.length);
    await subB.stop();
    // Graceful stop: A handled exactly up to its stored checkpoints; B exactly after them.
    const key = (e: StoredEvent): number => e.position;
    expect(seenB.map(key).sort((x, y) => x - y)).toEqual(expected.map(key));
    expect(seenA.map(key).sort((x, y) => x - y)).toEqual(
      all.filter((e) => e.position <= (stored[partitionOf(e)]?.position ?? 0)).map(key),
    );
    for (let p = 0; p < partitions; p++) {
      const inB = seenB.filter((e) => partitionOf(e) === p).map(key);
      expect(inB).toEqual([...inB].sort((x, y) => x - y));
    }
  });

  it(`${name}: after a crash (store lost mid-handler) a new member resumes right after the stored checkpoint`, async () => {
    const TYPE = 'resume.crash';
    const first = await open();
    const all = await appendMany(first.events, TYPE, 0, 30, 3);
    const seenA: StoredEvent[] = [];
    const a = counter();
    let unblock: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const subA = durableSubscription(first.events, first.checkpoints, {
      name: 'resume-crash',
      filter: { types: [TYPE] },
      from: 'start',
      leaseMs: 400,
      checkpointEvery: 4,
      checkpointIntervalMs: 60_000,
      group: { member: 'a', partitions: 1 },
      handler: async (event) => {
        seenA.push(event);
        a.check();
        if (seenA.length === 19) await blocked;
      },
    });
    handles.push(subA);
    await subA.start();
    await a.reach(() => seenA.length === 19);
    // The "crash": the store is gone under A (its heartbeats and checkpoint writes fail from now on).
    const stored = (await first.checkpoints.read('resume-crash'))?.partitions[0];
    expect(stored?.position).toBe(all[15]?.position);
    await first.storage.close();

    const second = await open();
    all.push(...(await appendMany(second.events, TYPE, 30, 10, 3)));
    const seenB: StoredEvent[] = [];
    const b = counter();
    const subB = durableSubscription(second.events, second.checkpoints, {
      name: 'resume-crash',
      filter: { types: [TYPE] },
      leaseMs: 400,
      group: { member: 'b', partitions: 1 },
      handler: (event) => {
        seenB.push(event);
        b.check();
      },
    });
    handles.push(subB);
    await subB.start();
    // B waits for A's lease to expire, then takes over.
    const expected = all.filter((e) => e.position > (stored?.position ?? 0));
    await b.reach(() => seenB.length >= expected.length);
    expect(seenB.map((e) => e.position)).toEqual(expected.map((e) => e.position));
    // A wakes up: its late checkpoint cannot land (store gone), and B's row is B's.
    unblock();
    await subA.stop();
    await subB.stop();
    const row = (await second.checkpoints.read('resume-crash'))?.partitions[0];
    expect(row?.position).toBe(all[all.length - 1]?.position);
    // Redelivered (at-least-once): A's handled-but-unstored events 17 and 18 and its in-flight 19th.
    expect(seenB.filter((e) => seenA.some((x) => x.id === e.id)).map((e) => e.id)).toEqual(
      all.slice(16, 19).map((e) => e.id),
    );
    await first.events.stop().catch(() => undefined);
  });
}

describe('durable subscriptions restart-resume (SQLite)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'durable-resume-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  restartContract('sqlite', () => `sqlite:${join(dir, 'resume.db')}`);
});

describePg('durable subscriptions restart-resume (PostgreSQL)', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(async () => {
    await schema.drop();
  });
  restartContract('postgres', () => schema.url);
});
