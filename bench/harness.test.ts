import { describe, expect, it } from 'vitest';
import { createSink, quantile, QUICK_HARNESS_OPTIONS, runCase, type HarnessOptions } from './harness.js';
import { impl } from './suite.js';

describe('quantile', () => {
  it('interpolates between sorted values', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3], 0.5)).toBe(2);
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it('is NaN for no values', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});

const options: HarnessOptions = {
  ...QUICK_HARNESS_OPTIONS,
  fixedBatch: 5,
  warmupRounds: 1,
  minRounds: 3,
  maxRounds: 3,
};

describe('runCase', () => {
  it('interleaves implementations, flipping the order every round', () => {
    const batches: string[] = [];
    const record = (name: string) => (_state: unknown, body: () => number) => {
      batches.push(name);
      return body();
    };
    runCase(
      {
        name: 'order',
        impls: [
          impl({ impl: 'ours', role: 'ours', around: record('A'), fn: () => 1 }),
          impl({ impl: 'peer', role: 'peer', around: record('B'), fn: () => 2 }),
        ],
      },
      options,
      createSink(),
    );
    // 1 warmup round + 3 measured rounds.
    expect(batches.join('')).toBe('ABBAABBA');
  });

  it('calls setup and teardown once per implementation, passes the state and iteration index to fn', () => {
    const log: string[] = [];
    const indexes: number[] = [];
    const result = runCase(
      {
        name: 'state',
        impls: [
          impl({
            impl: 'ours',
            role: 'ours',
            setup: () => {
              log.push('setup');
              return { base: 100 };
            },
            fn: (state, i) => {
              indexes.push(i);
              return state.base + i;
            },
            teardown: (state) => log.push(`teardown ${state.base}`),
          }),
        ],
      },
      options,
      createSink(),
    );
    expect(log).toEqual(['setup', 'teardown 100']);
    // 4 batches (1 warmup + 3 measured) of 5 iterations, each counting from 0.
    expect(indexes).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({ impl: 'ours', role: 'ours', rounds: 3, batch: 5 });
  });

  it('reports finite positive ns/op and matching ops/s, and keeps the last result in the sink', () => {
    const sink = createSink();
    const result = runCase(
      { name: 'sink', impls: [impl({ impl: 'ours', role: 'ours', fn: (_s, i) => ({ i }) })] },
      options,
      sink,
    );
    const row = result.results[0]!;
    expect(row.nsPerOp).toBeGreaterThan(0);
    expect(Number.isFinite(row.nsPerOp)).toBe(true);
    expect(row.opsPerSec).toBeCloseTo(1e9 / row.nsPerOp);
    expect(sink.last).toEqual({ i: 4 });
    expect(sink.batches).toBe(4);
  });

  it("gives a case's notes its results; no notes without the hook", () => {
    const seen: string[][] = [];
    const withNotes = runCase(
      {
        name: 'notes',
        notes: (results) => {
          seen.push(results.map((row) => `${row.impl}/${row.role}/${String(row.rounds)}`));
          return `rows: ${String(results.length)}`;
        },
        impls: [
          impl({ impl: 'ours', role: 'ours', fn: () => 1 }),
          impl({ impl: 'peer', role: 'peer', fn: () => 2 }),
        ],
      },
      options,
      createSink(),
    );
    expect(withNotes.notes).toBe('rows: 2');
    expect(seen).toEqual([['ours/ours/3', 'peer/peer/3']]);
    const without = runCase(
      { name: 'plain', impls: [impl({ impl: 'ours', role: 'ours', fn: () => 1 })] },
      options,
      createSink(),
    );
    expect('notes' in without).toBe(false);
  });

  it('calibrates the batch size when no fixed batch is given', () => {
    const result = runCase(
      { name: 'calibrated', impls: [impl({ impl: 'ours', role: 'ours', fn: (_s, i) => i * 2 })] },
      { timeMs: 0, batchMs: 1, warmupRounds: 1, minRounds: 2, maxRounds: 2, fixedBatch: undefined },
      createSink(),
    );
    expect(result.results[0]!.batch).toBeGreaterThan(1);
    expect(result.results[0]!.rounds).toBe(2);
  });
});
