/**
 * The pool rows of the protection suite (issue 8): one acquire + release of ours (`createPool`) against
 * generic-pool 3.9.0 and tarn 3.1.2, with 1 acquirer (sequential) and with 100 acquirers (100 in flight).
 *
 * The same pool on every side: at most 10 resources, none kept warm (`min: 0`), no validation, the resource a
 * plain object created synchronously (`{ id }`), destroyed with nothing to do. Each pool is warmed in setup
 * (all 10 resources created, then released) so the measured rounds never create. With 100 acquirers 90 of them
 * wait at any time, so the FIFO waiter queue is on the measured path. Timeouts are each pool's defaults: ours
 * and tarn wait at most 30 s for an acquire; generic-pool's default is no acquire timeout (with one it would
 * arm a `setTimeout` per acquire), which favours it. An operation acquires and releases at once: ours
 * `(await pool.acquire()).release()`, generic-pool `pool.release(await pool.acquire())` (its release promise
 * is not awaited: the release is done when it returns), tarn `pool.release(await pool.acquire().promise)`.
 *
 * Every case's notes give ours ÷ peer next to the targets (≤ 0.5× generic-pool, ≤ 0.25× tarn).
 *
 * @module
 */
import * as genericPool from 'generic-pool';
import { Pool as TarnPool } from 'tarn';
import { createPool, type Pool } from '../../src/protection/pool/index.js';
import { asyncCase, asyncImpl, type AsyncBenchCase } from '../suite.js';
import { formatRatios } from './limits.js';

/** Resources of every pool of the cases. */
export const POOL_MAX = 10;

/** Acquirers in flight in the concurrent case. */
export const ACQUIRERS = 100;

/** ours ÷ peer targets of issue 8, by peer row. */
export const POOL_TARGETS = { 'generic-pool': 0.5, tarn: 0.25 } as const;

/** A pooled resource: its creation number (1, 2, …) in its pool. */
export interface BenchResource {
  readonly id: number;
}

/** A factory of numbered resources, and what it created and destroyed (for the tests). */
export interface ResourceFactory {
  readonly create: () => BenchResource;
  readonly destroy: (resource: BenchResource) => void;
  readonly created: () => number;
  readonly destroyed: () => number;
}

/** A new factory whose resources are numbered from 1. */
export function resourceFactory(): ResourceFactory {
  let created = 0;
  let destroyed = 0;
  return {
    create: () => ({ id: ++created }),
    destroy: () => {
      destroyed += 1;
    },
    created: () => created,
    destroyed: () => destroyed,
  };
}

/** One side of a pool case: the pool, its factory, and how to drain it. */
export interface PoolSide<P> {
  readonly pool: P;
  readonly factory: ResourceFactory;
  /** Drains the pool (every resource destroyed); harmless when called twice. */
  close(): Promise<void>;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** Acquires `count` resources at once, then releases them all: the pool holds `count` idle ones. */
async function warm<R>(
  acquire: () => Promise<R>,
  release: (resource: R) => unknown,
  count: number,
): Promise<void> {
  const held = await Promise.all(Array.from({ length: count }, acquire));
  for (const resource of held) release(resource);
}

/** Ours: `createPool({ max, create, destroy })` (its other options at their defaults), warmed. */
export async function oursPool(max: number = POOL_MAX): Promise<PoolSide<Pool<BenchResource>>> {
  const factory = resourceFactory();
  const pool = createPool<BenchResource>({
    name: 'bench',
    max,
    create: factory.create,
    destroy: factory.destroy,
  });
  await warm(
    () => pool.acquire(),
    (lease) => {
      lease.release();
    },
    max,
  );
  return { pool, factory, close: once(() => pool.drain()) };
}

/** generic-pool: `createPool({ create, destroy }, { max, min: 0 })` (its other options at their defaults), warmed. */
export async function genericPoolSide(
  max: number = POOL_MAX,
): Promise<PoolSide<genericPool.Pool<BenchResource>>> {
  const factory = resourceFactory();
  const pool = genericPool.createPool<BenchResource>(
    {
      create: () => Promise.resolve(factory.create()),
      destroy: (resource) => {
        factory.destroy(resource);
        return Promise.resolve();
      },
    },
    { max, min: 0 },
  );
  await warm(
    () => pool.acquire(),
    (resource) => pool.release(resource),
    max,
  );
  return {
    pool,
    factory,
    close: once(async () => {
      await pool.drain();
      await pool.clear();
    }),
  };
}

/** tarn: `new Pool({ create, destroy, min: 0, max })` (its other options at their defaults), warmed. */
export async function tarnPoolSide(max: number = POOL_MAX): Promise<PoolSide<TarnPool<BenchResource>>> {
  const factory = resourceFactory();
  const pool = new TarnPool<BenchResource>({
    create: () => Promise.resolve(factory.create()),
    destroy: factory.destroy,
    min: 0,
    max,
  });
  await warm(
    () => pool.acquire().promise,
    (resource) => pool.release(resource),
    max,
  );
  return {
    pool,
    factory,
    close: once(async () => {
      await pool.destroy();
    }),
  };
}

/** Ours' operation: acquire, then release at once. */
export async function oursAcquireRelease(side: PoolSide<Pool<BenchResource>>): Promise<BenchResource> {
  const lease = await side.pool.acquire();
  lease.release();
  return lease.resource;
}

/** generic-pool's operation: acquire, then release at once (its release promise not awaited). */
export async function genericAcquireRelease(
  side: PoolSide<genericPool.Pool<BenchResource>>,
): Promise<BenchResource> {
  const resource = await side.pool.acquire();
  void side.pool.release(resource);
  return resource;
}

/** tarn's operation: acquire, then release at once. */
export async function tarnAcquireRelease(side: PoolSide<TarnPool<BenchResource>>): Promise<BenchResource> {
  const resource = await side.pool.acquire().promise;
  side.pool.release(resource);
  return resource;
}

/** Pool acquire + release with `acquirers` in flight (1: sequential): ours vs generic-pool vs tarn. */
export function poolCase(acquirers: number): AsyncBenchCase {
  const who = acquirers <= 1 ? '1 acquirer' : `${String(acquirers)} acquirers`;
  return asyncCase({
    name: `pool acquire + release, ${who}, max ${String(POOL_MAX)}`,
    concurrency: acquirers,
    notes: (_state, results) => formatRatios(results, POOL_TARGETS),
    impls: [
      asyncImpl({
        impl: 'ours',
        role: 'ours',
        setup: () => oursPool(),
        fn: oursAcquireRelease,
        teardown: (side) => side.close(),
      }),
      asyncImpl({
        impl: 'generic-pool',
        role: 'peer',
        setup: () => genericPoolSide(),
        fn: genericAcquireRelease,
        teardown: (side) => side.close(),
      }),
      asyncImpl({
        impl: 'tarn',
        role: 'peer',
        setup: () => tarnPoolSide(),
        fn: tarnAcquireRelease,
        teardown: (side) => side.close(),
      }),
    ],
  });
}
