import { describe, expect, it } from 'vitest';
import { createSink, type HarnessOptions } from './harness.js';
import { QUICK_ASYNC_HARNESS_OPTIONS, runAsyncCase } from './harness-async.js';
import { asyncCase, asyncImpl, isAsyncCase } from './suite.js';

const options: HarnessOptions = {
  ...QUICK_ASYNC_HARNESS_OPTIONS,
  fixedBatch: 3,
  warmupRounds: 1,
  minRounds: 3,
  maxRounds: 3,
};

/** Resolves after a few microtask turns, so several operations overlap. */
async function ticks(n: number): Promise<void> {
  for (let k = 0; k < n; k++) await Promise.resolve();
}

describe('runAsyncCase', () => {
  it('interleaves implementations batch by batch, flipping the order every round', async () => {
    const log: string[] = [];
    const op = (name: string) => async (_state: unknown, i: number) => {
      log.push(`${name}${i}`);
      await ticks(1);
      return i;
    };
    await runAsyncCase(
      asyncCase({
        name: 'order',
        impls: [
          asyncImpl({ impl: 'ours', role: 'ours', fn: op('A') }),
          asyncImpl({ impl: 'peer', role: 'peer', fn: op('B') }),
        ],
      }),
      { ...options, minRounds: 1, maxRounds: 1 },
      createSink(),
    );
    // 1 warmup round (A then B) + 1 measured round (B then A); indexes continue across batches.
    expect(log).toEqual(['A0', 'A1', 'A2', 'B0', 'B1', 'B2', 'B3', 'B4', 'B5', 'A3', 'A4', 'A5']);
  });

  it('runs case and implementation setup/teardown once each, in order, with their states', async () => {
    const log: string[] = [];
    const result = await runAsyncCase(
      asyncCase({
        name: 'lifecycle',
        setup: async () => {
          log.push('case setup');
          return { dir: '/tmp/x' };
        },
        teardown: async (c) => {
          log.push(`case teardown ${c.dir}`);
        },
        notes: (c, results) => `plan for ${c.dir}, ${results.map((r) => `${r.impl} ${r.rounds}`).join()}`,
        impls: [
          asyncImpl({
            impl: 'ours',
            role: 'ours',
            setup: async (c: { dir: string }) => {
              log.push(`ours setup ${c.dir}`);
              return { n: 7 };
            },
            fn: async (s) => s.n,
            teardown: async (s) => {
              log.push(`ours teardown ${s.n}`);
            },
          }),
        ],
      }),
      options,
      createSink(),
    );
    expect(log).toEqual(['case setup', 'ours setup /tmp/x', 'ours teardown 7', 'case teardown /tmp/x']);
    expect(result.notes).toBe('plan for /tmp/x, ours 3');
    expect(result.results[0]).toMatchObject({ impl: 'ours', role: 'ours', rounds: 3, batch: 3 });
  });

  it('keeps at most `concurrency` operations in flight, and reaches it', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    await runAsyncCase(
      asyncCase({
        name: 'concurrent',
        concurrency: 4,
        impls: [
          asyncImpl({
            impl: 'ours',
            role: 'ours',
            fn: async (_s, i) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              seen.push(i);
              await ticks(3);
              inFlight--;
            },
          }),
        ],
      }),
      { ...options, fixedBatch: 10 },
      createSink(),
    );
    expect(maxInFlight).toBe(4);
    // 4 batches (1 warmup + 3 measured) of 10 operations, every index once.
    expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('raises a fixed batch smaller than the concurrency to the concurrency', async () => {
    const result = await runAsyncCase(
      asyncCase({
        name: 'floor',
        concurrency: 5,
        impls: [asyncImpl({ impl: 'ours', role: 'ours', fn: async () => 1 })],
      }),
      { ...options, fixedBatch: 2 },
      createSink(),
    );
    expect(result.results[0]!.batch).toBe(5);
  });

  it('tears everything down and rethrows when an operation fails', async () => {
    const log: string[] = [];
    const failing = runAsyncCase(
      asyncCase({
        name: 'failing',
        concurrency: 2,
        teardown: () => {
          log.push('case teardown');
        },
        impls: [
          asyncImpl({
            impl: 'ours',
            role: 'ours',
            fn: async (_s, i) => {
              if (i === 1) throw new Error('boom');
            },
            teardown: () => {
              log.push('ours teardown');
            },
          }),
        ],
      }),
      options,
      createSink(),
    );
    await expect(failing).rejects.toThrow('boom');
    expect(log).toEqual(['ours teardown', 'case teardown']);
  });

  it('reports ns/op, ops/s and the last resolved value in the sink', async () => {
    const sink = createSink();
    const result = await runAsyncCase(
      asyncCase({
        name: 'sink',
        impls: [asyncImpl({ impl: 'ours', role: 'ours', fn: async (_s, i) => ({ i }) })],
      }),
      options,
      sink,
    );
    const row = result.results[0]!;
    expect(Number.isFinite(row.nsPerOp)).toBe(true);
    expect(row.nsPerOp).toBeGreaterThan(0);
    expect(row.opsPerSec).toBeCloseTo(1e9 / row.nsPerOp);
    expect(sink.last).toEqual({ i: 11 });
    expect(sink.batches).toBe(4);
  });

  it('calibrates the batch when no fixed batch is given', async () => {
    const result = await runAsyncCase(
      asyncCase({
        name: 'calibrated',
        concurrency: 2,
        impls: [asyncImpl({ impl: 'ours', role: 'ours', fn: async () => 1 })],
      }),
      { timeMs: 0, batchMs: 1, warmupRounds: 1, minRounds: 2, maxRounds: 2, fixedBatch: undefined },
      createSink(),
    );
    expect(result.results[0]!.batch).toBeGreaterThan(2);
    expect(result.results[0]!.rounds).toBe(2);
  });
});

describe('asyncCase', () => {
  it('is recognized as async, defaults to concurrency 1 and to an available case', async () => {
    const benchCase = asyncCase({ name: 'x', impls: [] });
    expect(isAsyncCase(benchCase)).toBe(true);
    expect(isAsyncCase({ name: 'sync', impls: [] })).toBe(false);
    expect(benchCase.concurrency).toBe(1);
    expect(await benchCase.unavailable()).toBeUndefined();
    expect(benchCase.notes).toBeUndefined();
  });
});
