import { describe, expect, it } from 'vitest';
import {
  ACQUIRERS,
  genericAcquireRelease,
  genericPoolSide,
  oursAcquireRelease,
  oursPool,
  POOL_MAX,
  resourceFactory,
  tarnAcquireRelease,
  tarnPoolSide,
  type BenchResource,
  type PoolSide,
} from './pools.js';

/** What a side's pool looks like from outside: idle and lent resources. */
interface Counts {
  readonly idle: number;
  readonly inUse: number;
}

/** One pool under test: its side, its measured operation, how to count, and how to hold a resource. */
interface Subject {
  readonly name: string;
  open(): Promise<{
    side: PoolSide<unknown>;
    op: () => Promise<BenchResource>;
    counts: () => Counts;
    /** Acquires without releasing; `release` gives it back. */
    hold: () => Promise<{ resource: BenchResource; release: () => void }>;
  }>;
}

const subjects: readonly Subject[] = [
  {
    name: 'ours',
    async open() {
      const side = await oursPool();
      return {
        side,
        op: () => oursAcquireRelease(side),
        counts: () => ({ idle: side.pool.status().idle, inUse: side.pool.status().inUse }),
        hold: async () => {
          const lease = await side.pool.acquire();
          return {
            resource: lease.resource,
            release: () => {
              lease.release();
            },
          };
        },
      };
    },
  },
  {
    name: 'generic-pool',
    async open() {
      const side = await genericPoolSide();
      return {
        side,
        op: () => genericAcquireRelease(side),
        counts: () => ({ idle: side.pool.available, inUse: side.pool.borrowed }),
        hold: async () => {
          const resource = await side.pool.acquire();
          return { resource, release: () => void side.pool.release(resource) };
        },
      };
    },
  },
  {
    name: 'tarn',
    async open() {
      const side = await tarnPoolSide();
      return {
        side,
        op: () => tarnAcquireRelease(side),
        counts: () => ({ idle: side.pool.numFree(), inUse: side.pool.numUsed() }),
        hold: async () => {
          const resource = await side.pool.acquire().promise;
          return {
            resource,
            release: () => {
              side.pool.release(resource);
            },
          };
        },
      };
    },
  },
];

describe('resource factory', () => {
  it('numbers resources from 1 and counts creations and destructions', () => {
    const factory = resourceFactory();
    const a = factory.create();
    const b = factory.create();
    factory.destroy(a);
    expect([a.id, b.id]).toEqual([1, 2]);
    expect([factory.created(), factory.destroyed()]).toEqual([2, 1]);
  });
});

describe.each(subjects)('$name pool bench side', (subject) => {
  it(`is warm after setup: ${String(POOL_MAX)} resources created, all idle`, async () => {
    const { side, counts } = await subject.open();
    try {
      expect(side.factory.created()).toBe(POOL_MAX);
      expect(counts()).toEqual({ idle: POOL_MAX, inUse: 0 });
    } finally {
      await side.close();
    }
  });

  it('lends a pooled resource and takes it back, creating nothing more', async () => {
    const { side, op, counts } = await subject.open();
    try {
      const resource = await op();
      expect(resource.id).toBeGreaterThanOrEqual(1);
      expect(resource.id).toBeLessThanOrEqual(POOL_MAX);
      expect(counts()).toEqual({ idle: POOL_MAX, inUse: 0 });
      expect(side.factory.created()).toBe(POOL_MAX);
    } finally {
      await side.close();
    }
  });

  it(`serves ${String(ACQUIRERS)} concurrent acquirers with its ${String(POOL_MAX)} resources`, async () => {
    const { side, op, counts } = await subject.open();
    try {
      const lent = await Promise.all(Array.from({ length: ACQUIRERS }, op));
      expect(lent).toHaveLength(ACQUIRERS);
      const ids = new Set(lent.map((resource) => resource.id));
      expect(ids.size).toBeLessThanOrEqual(POOL_MAX);
      expect([...ids].every((id) => id >= 1 && id <= POOL_MAX)).toBe(true);
      expect(counts()).toEqual({ idle: POOL_MAX, inUse: 0 });
      expect(side.factory.created()).toBe(POOL_MAX);
    } finally {
      await side.close();
    }
  });

  it('makes an acquirer wait while every resource is lent, and hands it the one released', async () => {
    const { side, hold, counts } = await subject.open();
    try {
      const held = await Promise.all(Array.from({ length: POOL_MAX }, hold));
      expect(new Set(held.map((h) => h.resource.id)).size).toBe(POOL_MAX);
      expect(counts()).toEqual({ idle: 0, inUse: POOL_MAX });
      let served: BenchResource | undefined;
      const waiting = hold().then((h) => {
        served = h.resource;
        return h;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(served).toBeUndefined();
      held[3]!.release();
      const next = await waiting;
      expect(next.resource).toBe(held[3]!.resource);
      next.release();
      for (const [index, h] of held.entries()) if (index !== 3) h.release();
      expect(counts()).toEqual({ idle: POOL_MAX, inUse: 0 });
      expect(side.factory.created()).toBe(POOL_MAX);
    } finally {
      await side.close();
    }
  });

  it('destroys every resource on close', async () => {
    const { side } = await subject.open();
    await side.close();
    expect(side.factory.destroyed()).toBe(POOL_MAX);
  });
});
