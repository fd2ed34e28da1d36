/**
 * A model of a consumer group driven by fast-check: members join, heartbeat (the same steps as a durable
 * subscription's round: renew, drop what is lost, release surplus, take free partitions), handle events of
 * the partitions they hold, crash (stop forever, keeping their leases until they expire), leave gracefully,
 * while time moves. The leases live in a real {@link MemoryCheckpointStore}.
 *
 * Properties: at no time do two members both believe they hold a partition (a belief lasts at most the
 * lease from the start of the heartbeat that renewed it); once things calm down every partition is held by
 * exactly one live member, within its fair share; each key's events are handled in order, never skipping
 * one (a redelivery after a takeover goes back, never forward); every event is eventually handled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../../errors/index.js';
import { FakeClock } from '../../../testing/fake-clock.js';
import { planAssignment } from './assignment.js';
import { MemoryCheckpointStore } from './memory-checkpoint-store.js';
import { fnv1a32, partitionOfKey } from './partition.js';

const NAME = 'g';
const LEASE = 1000;

type Op =
  | { readonly kind: 'join' }
  | { readonly kind: 'tick'; readonly member: number }
  | { readonly kind: 'work'; readonly member: number; readonly steps: number }
  | { readonly kind: 'crash'; readonly member: number }
  | { readonly kind: 'leave'; readonly member: number }
  | { readonly kind: 'advance'; readonly ms: number };

interface Held {
  validUntil: number;
  /** Index into the partition's events of the next one to handle. */
  cursor: number;
}

interface Member {
  readonly id: string;
  state: 'alive' | 'crashed' | 'left';
  readonly held: Map<number, Held>;
}

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'join' }) },
  { weight: 6, arbitrary: fc.nat(7).map((member): Op => ({ kind: 'tick', member })) },
  {
    weight: 6,
    arbitrary: fc
      .record({ member: fc.nat(7), steps: fc.integer({ min: 1, max: 5 }) })
      .map((r): Op => ({ kind: 'work', ...r })),
  },
  { weight: 1, arbitrary: fc.nat(7).map((member): Op => ({ kind: 'crash', member })) },
  { weight: 1, arbitrary: fc.nat(7).map((member): Op => ({ kind: 'leave', member })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: LEASE }).map((ms): Op => ({ kind: 'advance', ms })) },
);

async function simulate(
  partitions: number,
  keys: number,
  eventCount: number,
  ops: readonly Op[],
): Promise<void> {
  const clock = new FakeClock();
  const store = new MemoryCheckpointStore({ clock });
  await store.ensure(NAME, partitions, 0);
  // The log: event i has key k(i) and is the seq-th event of its key.
  const log = Array.from({ length: eventCount }, (_, i) => `key-${(i * 7 + (i >> 2)) % keys}`);
  const seqOf: number[] = [];
  const perKey = new Map<string, number>();
  for (const key of log) {
    const seq = perKey.get(key) ?? 0;
    seqOf.push(seq);
    perKey.set(key, seq + 1);
  }
  const byPartition: number[][] = Array.from({ length: partitions }, () => []);
  log.forEach((key, i) => byPartition[partitionOfKey(key, partitions)]?.push(i));
  const handled = new Map<string, number[]>();
  const members: Member[] = [];

  const drop = (m: Member, p: number): void => {
    m.held.delete(p);
  };
  const commit = async (m: Member, p: number, h: Held): Promise<boolean> => {
    try {
      await store.commit(NAME, p, m.id, String(h.cursor), h.cursor);
      return true;
    } catch (error) {
      if (!isFoundationError(error) || error.code !== 'FND_EVENTS_CHECKPOINT_CONFLICT') throw error;
      drop(m, p);
      return false;
    }
  };
  const tick = async (m: Member): Promise<void> => {
    const renewedAt = clock.monotonic();
    const view = await store.heartbeat(NAME, m.id, LEASE);
    const owned = new Map<number, number>();
    for (const row of view.partitions) {
      if (row.owner === m.id && row.leaseExpiresAt > view.now) owned.set(row.partition, row.position);
    }
    for (const [p, h] of m.held) {
      if (owned.has(p)) h.validUntil = renewedAt + LEASE;
      else drop(m, p);
    }
    const plan = planAssignment(m.id, view, partitions);
    for (const p of plan.release) {
      const h = m.held.get(p);
      if (h !== undefined) await commit(m, p, h);
      drop(m, p);
      await store.release(NAME, m.id, [p]);
      owned.delete(p);
    }
    if (plan.acquire.length > 0) {
      const got = await store.acquire(NAME, m.id, plan.acquire, LEASE);
      const rows = (await store.read(NAME))?.partitions ?? [];
      for (const p of got) owned.set(p, rows[p]?.position ?? 0);
    }
    for (const [p, position] of owned) {
      if (!m.held.has(p)) m.held.set(p, { validUntil: renewedAt + LEASE, cursor: position });
    }
  };
  const work = async (m: Member, steps: number): Promise<void> => {
    for (const [p, h] of [...m.held]) {
      for (let s = 0; s < steps; s++) {
        if (clock.monotonic() >= h.validUntil) {
          drop(m, p);
          break;
        }
        const index = byPartition[p]?.[h.cursor];
        if (index === undefined) break;
        const key = log[index] as string;
        handled.set(key, [...(handled.get(key) ?? []), seqOf[index] as number]);
        h.cursor++;
        if (h.cursor % 2 === 0 && !(await commit(m, p, h))) break;
      }
      const still = m.held.get(p);
      if (still !== undefined) await commit(m, p, still);
    }
  };
  const checkSafety = (): void => {
    const now = clock.monotonic();
    for (let p = 0; p < partitions; p++) {
      const believers = members.filter((m) => m.state !== 'left' && (m.held.get(p)?.validUntil ?? -1) > now);
      expect(
        believers.length,
        `partition ${p} believed held by ${believers.map((m) => m.id).join(',')}`,
      ).toBeLessThanOrEqual(1);
    }
  };

  for (const o of ops) {
    const m =
      o.kind === 'join' || o.kind === 'advance' ? undefined : members[o.member % Math.max(1, members.length)];
    switch (o.kind) {
      case 'join':
        if (members.length < 8) members.push({ id: `m${members.length}`, state: 'alive', held: new Map() });
        break;
      case 'advance':
        clock.advance(o.ms);
        break;
      case 'tick':
        if (m?.state === 'alive') await tick(m);
        break;
      case 'work':
        if (m?.state === 'alive') await work(m, o.steps);
        break;
      case 'crash':
        if (m?.state === 'alive') m.state = 'crashed';
        break;
      case 'leave':
        if (m?.state === 'alive') {
          for (const [p, h] of [...m.held]) await commit(m, p, h);
          m.held.clear();
          await store.leave(NAME, m.id);
          m.state = 'left';
        }
        break;
    }
    checkSafety();
  }

  // Calm: crashed members' leases expire, live members heartbeat and work until nothing is left.
  const alive = members.filter((m) => m.state === 'alive');
  if (alive.length === 0) members.push({ id: `m${members.length}`, state: 'alive', held: new Map() });
  const live = members.filter((m) => m.state === 'alive');
  clock.advance(LEASE);
  for (let round = 0; round < 4; round++) for (const m of live) await tick(m);
  checkSafety();
  const quota = Math.ceil(partitions / live.length);
  for (let p = 0; p < partitions; p++) {
    const holders = live.filter((m) => m.held.has(p));
    expect(holders.length, `partition ${p} held once after calm`).toBe(1);
  }
  for (const m of live) expect(m.held.size).toBeLessThanOrEqual(quota);
  for (let round = 0; round < eventCount + 1; round++) for (const m of live) await work(m, eventCount);

  // Per key: in order, never skipping (a takeover may go back to the stored checkpoint), all handled.
  for (const [key, total] of perKey) {
    const seqs = handled.get(key) ?? [];
    let max = -1;
    for (const seq of seqs) {
      expect(seq, `key ${key} skipped an event`).toBeLessThanOrEqual(max + 1);
      max = Math.max(max, seq);
    }
    expect(max, `key ${key} not fully handled`).toBe(total - 1);
  }
}

describe('consumer group assignment model', () => {
  it('never lets two members hold a partition at once, converges to fair shares, keeps per-key order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(op, { minLength: 1, maxLength: 80 }),
        async (partitions, keys, events, ops) => {
          await simulate(partitions, keys, events, [{ kind: 'join' }, ...ops]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hashes keys to partitions stably (FNV-1a, fixed values) and in range', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (key, partitions) => {
        const p = partitionOfKey(key, partitions);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(partitions);
        expect(partitionOfKey(key, partitions)).toBe(p);
      }),
    );
  });
});
