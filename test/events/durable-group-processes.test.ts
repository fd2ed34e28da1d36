/**
 * A consumer group of three real processes on PostgreSQL while events are appended; one member is killed
 * with SIGKILL mid-stream. Checks: every event was handled; each member handled each key in stream order
 * without skipping; no key was ever handled by two members at the same time (handling intervals of
 * different members never overlap); after the takeover the survivors only redelivered events after the
 * dead member's stored checkpoints (at-least-once), and they hold every partition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import { createCheckpointStore, partitionOfKey } from '../../src/events/subscriptions/durable/index.js';
import type { CheckpointStore } from '../../src/events/subscriptions/durable/index.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';
import { GROUP, type HandledLine } from './durable-group-shared.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./durable-group-child.ts', import.meta.url));
const STREAMS = 24;
const TOTAL = 600;

interface Member {
  readonly id: string;
  readonly child: ChildProcess;
  readonly starts: HandledLine[];
  readonly ends: HandledLine[];
  readonly ready: Promise<void>;
  readonly exited: Promise<NodeJS.Signals | null>;
  stderr(): string;
}

/** Everything handled so far, by any member (ids). */
const handledIds = new Set<string>();
const waiters: Array<() => void> = [];

function spawnMember(url: string, id: string): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, id], { cwd: ROOT, stdio: 'pipe' });
  const starts: HandledLine[] = [];
  const ends: HandledLine[] = [];
  let stderr = '';
  let buffer = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line === 'ready') onReady();
      else if (line.startsWith('start ')) starts.push(JSON.parse(line.slice(6)) as HandledLine);
      else if (line.startsWith('end ')) {
        const body = JSON.parse(line.slice(4)) as HandledLine;
        ends.push(body);
        handledIds.add(body.id);
        for (const w of waiters.splice(0)) w();
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    child.on('close', (_code, signal) => {
      onReady();
      resolve(signal);
    });
  });
  return { id, child, starts, ends, ready, exited, stderr: () => stderr };
}

/** Resolves once `done()` holds (checked after each handled event). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
}

describePg('durable consumer group across processes (PostgreSQL, kill -9)', () => {
  let schema: TestSchema;
  let storage: Storage;
  let events: EventStore;
  let checkpoints: CheckpointStore;
  const members: Member[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    storage = new Storage(schema.url);
    await storage.open();
    events = createEventStore(storage);
    await events.start();
    checkpoints = createCheckpointStore(storage);
    await checkpoints.open();
  });

  afterAll(async () => {
    for (const m of members) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    await events.stop();
    await storage.close();
    await schema.drop();
  });

  it(
    'hands every event to exactly one live member per key at a time, and takes over a killed member',
    { timeout: 120_000 },
    async () => {
      for (const id of ['m1', 'm2', 'm3']) members.push(spawnMember(schema.url, id));
      await Promise.all(members.map((m) => m.ready));
      const appended: string[] = [];
      const append = async (from: number, count: number): Promise<void> => {
        for (let n = from; n < from + count; n += 6) {
          const batch = Array.from({ length: Math.min(6, from + count - n) }, (_, i) => ({
            type: 'proc.n',
            stream: `p-${(n + i) % STREAMS}`,
            data: { n: n + i },
          }));
          // Several streams per append, and a few appends in flight at once.
          const results = await Promise.all(batch.map((e) => events.append(e)));
          for (const r of results) appended.push(...r.events.map((e) => e.id));
        }
      };
      await append(0, 200);
      await until(() => handledIds.size >= 150);
      // The victim is the member holding the most partitions now (not a fixed one: right after the start, a
      // member may not hold any yet, and a member without partitions proves nothing about a takeover).
      const owning = (await checkpoints.read('procs'))?.partitions ?? [];
      const held = (m: Member): number => owning.filter((p) => p.owner === m.id).length;
      const victim = members.reduce((best, m) => (held(m) > held(best) ? m : best));
      victim.child.kill('SIGKILL');
      // An event the victim was handling when it died ends with it.
      const killedAt = performance.timeOrigin + performance.now();
      expect(await victim.exited).toBe('SIGKILL');
      const before = (await checkpoints.read('procs'))?.partitions ?? [];
      const victimPartitions = before.filter((p) => p.owner === victim.id).map((p) => p.partition);
      // The victim was doing its share when it died.
      expect(victimPartitions.length).toBeGreaterThan(0);
      expect(victim.ends.length).toBeGreaterThan(0);
      await append(200, TOTAL - 200);
      await until(() => appended.every((id) => handledIds.has(id)));

      // Survivors stop gracefully.
      const survivors = members.filter((m) => m !== victim);
      for (const m of survivors) m.child.kill('SIGTERM');
      expect(await Promise.all(survivors.map((m) => m.exited))).toEqual([null, null]);
      for (const m of members) expect(m.stderr()).toBe('');

      // 1. Everything handled.
      expect(appended).toHaveLength(TOTAL);
      const streamOf = (n: number): string => `p-${n % STREAMS}`;
      // 2. Per key, in handling order: stream order without skipping, and never two members on one key at
      // once (intervals of different members do not overlap).
      const intervals = members.flatMap((m) =>
        m.starts.map((s) => ({
          member: m.id,
          key: s.stream,
          n: s.n,
          start: s.at,
          end: m.ends.find((e) => e.id === s.id)?.at ?? (m === victim ? killedAt : Number.POSITIVE_INFINITY),
        })),
      );
      for (let k = 0; k < STREAMS; k++) {
        const list = intervals.filter((x) => x.key === streamOf(k)).sort((a, b) => a.start - b.start);
        expect(list[0]?.n).toBe(k);
        for (let i = 1; i < list.length; i++) {
          const prev = list[i - 1];
          const cur = list[i];
          if (prev === undefined || cur === undefined) continue;
          // Stream order, never skipping: a takeover may go back (redelivery), never forward.
          const seen = list.slice(0, i).reduce((max, x) => Math.max(max, x.n), -1);
          expect(cur.n, `${streamOf(k)} skipped an event`).toBeLessThanOrEqual(seen + STREAMS);
          if (prev.member === cur.member) continue;
          expect(
            prev.end,
            `${streamOf(k)}: ${prev.member} still on it when ${cur.member} started`,
          ).toBeLessThanOrEqual(cur.start);
        }
      }
      // 3. Redelivery only for the victim's partitions, only after its stored checkpoint.
      const handledBy = new Map<string, Set<string>>();
      for (const m of members)
        for (const e of m.ends) handledBy.set(e.id, (handledBy.get(e.id) ?? new Set()).add(m.id));
      const positions = new Map<string, number>();
      const all = await events.query({ types: ['proc.*'], limit: 1000 });
      for (const e of all.events) positions.set(e.id, e.position);
      for (const [id, by] of handledBy) {
        if (by.size === 1) continue;
        const e = all.events.find((x) => x.id === id);
        const partition = partitionOfKey(e?.stream ?? '', GROUP.partitions);
        expect(by.has(victim.id), `event ${id} handled twice without the victim`).toBe(true);
        expect(victimPartitions).toContain(partition);
        expect(positions.get(id)).toBeGreaterThan(before[partition]?.position ?? 0);
      }
      // 4. The survivors released everything on stop; each partition's stored checkpoint covers every event of
      // that partition. (A worker reads every event but stores its place when it handled one of its own or on
      // its interval: one stopped before it read the other partitions' last events stays just before them,
      // which loses nothing.)
      const after = (await checkpoints.read('procs'))?.partitions ?? [];
      expect(after.map((p) => p.owner === null || p.owner === victim.id)).toEqual(after.map(() => true));
      const lastOf = new Map<number, number>();
      for (const e of all.events) {
        const partition = partitionOfKey(e.stream ?? '', GROUP.partitions);
        lastOf.set(partition, Math.max(lastOf.get(partition) ?? 0, e.position));
      }
      expect(lastOf.size).toBe(after.length);
      for (const p of after) expect(p.position).toBeGreaterThanOrEqual(lastOf.get(p.partition) ?? Infinity);
    },
  );
});
