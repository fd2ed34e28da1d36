/**
 * The measuring core for asynchronous operations (database appends, queries): like the synchronous
 * harness, every implementation of a case runs in the same process, interleaved round by round with the
 * order flipped every round, and the reported figure is the median ns/op across rounds. A round times one
 * batch of operations per implementation: awaited one after another (`concurrency` 1), or with
 * `concurrency` operations in flight at all times; ns/op is the batch's wall time ÷ its operations, so
 * for a concurrent case ops/s is the throughput.
 *
 * Setup and teardown (of the case and of each implementation) may be async and run outside the timed
 * region; teardown runs even when the case fails, so schemas and temp files do not leak.
 *
 * @module
 */
import { hrtime } from 'node:process';
import { summarizeRunner, type CaseResult, type HarnessOptions, type Sink } from './harness.js';
import type { AsyncBenchCase, AsyncImpl } from './suite.js';

/** Defaults for a real run of an async case: ~1 s of measured rounds, ~50 ms batches. */
export const DEFAULT_ASYNC_HARNESS_OPTIONS: HarnessOptions = {
  timeMs: 1000,
  batchMs: 50,
  warmupRounds: 3,
  minRounds: 10,
  maxRounds: 1000,
  fixedBatch: undefined,
};

/**
 * Smoke-run options for async cases (`--quick`): batches of 8 operations (at least `concurrency`), two
 * measured rounds. Numbers are not meaningful.
 */
export const QUICK_ASYNC_HARNESS_OPTIONS: HarnessOptions = {
  timeMs: 0,
  batchMs: 1,
  warmupRounds: 1,
  minRounds: 2,
  maxRounds: 2,
  fixedBatch: 8,
};

interface AsyncRunner {
  readonly impl: AsyncImpl;
  readonly state: unknown;
  batch: number;
  /** Index of this implementation's next operation; never reset, so indexes never repeat. */
  next: number;
  readonly samples: number[];
}

/** Runs `n` operations with at most `concurrency` in flight; rethrows the first failure once all settled. */
async function runOps(runner: AsyncRunner, n: number, concurrency: number, sink: Sink): Promise<void> {
  const { impl, state } = runner;
  const base = runner.next;
  runner.next += n;
  if (concurrency <= 1) {
    let last: unknown;
    for (let k = 0; k < n; k++) last = await impl.fn(state, base + k);
    sink.last = last;
    return;
  }
  let taken = 0;
  let failure: { error: unknown } | undefined;
  let last: unknown;
  const worker = async (): Promise<void> => {
    while (taken < n && failure === undefined) {
      const k = taken++;
      try {
        last = await impl.fn(state, base + k);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(concurrency, n); w++) workers.push(worker());
  await Promise.all(workers);
  if (failure !== undefined) throw failure.error;
  sink.last = last;
}

/** Times one batch of `runner.batch` operations; returns its duration in ns. */
async function timeBatch(runner: AsyncRunner, concurrency: number, sink: Sink): Promise<number> {
  const start = hrtime.bigint();
  await runOps(runner, runner.batch, concurrency, sink);
  const elapsed = Number(hrtime.bigint() - start);
  sink.batches += 1;
  return elapsed;
}

/** `batch` scaled so a batch lasts `targetNs`, by at most ×4 / ÷4 per step, never below `floor`. */
function scaled(batch: number, targetNs: number, elapsedNs: number, floor: number): number {
  const factor = Math.min(4, Math.max(0.25, targetNs / Math.max(elapsedNs, 1)));
  return Math.max(floor, Math.round(batch * factor));
}

/** Doubles the batch (from `concurrency`) until it takes at least half the target, then scales it. */
async function calibrate(runner: AsyncRunner, concurrency: number, sink: Sink, targetNs: number) {
  runner.batch = concurrency;
  for (;;) {
    const elapsed = await timeBatch(runner, concurrency, sink);
    if (elapsed >= targetNs / 2 || runner.batch >= 2 ** 24) {
      runner.batch = scaled(runner.batch, targetNs, elapsed, concurrency);
      return;
    }
    runner.batch *= 2;
  }
}

/** One batch per runner: declaration order on even rounds, reversed on odd ones. */
async function round(
  runners: readonly AsyncRunner[],
  index: number,
  concurrency: number,
  sink: Sink,
  onBatch: (runner: AsyncRunner, ns: number) => void,
): Promise<void> {
  const count = runners.length;
  for (let k = 0; k < count; k++) {
    const runner = runners[index % 2 === 0 ? k : count - 1 - k]!;
    onBatch(runner, await timeBatch(runner, concurrency, sink));
  }
}

async function measure(
  benchCase: AsyncBenchCase,
  runners: readonly AsyncRunner[],
  options: HarnessOptions,
  sink: Sink,
): Promise<void> {
  const { concurrency } = benchCase;
  const targetNs = options.batchMs * 1e6;
  if (options.fixedBatch === undefined) {
    for (const runner of runners) await calibrate(runner, concurrency, sink, targetNs);
  }
  for (let r = 0; r < options.warmupRounds; r++) {
    await round(runners, r, concurrency, sink, (runner, ns) => {
      if (options.fixedBatch === undefined) runner.batch = scaled(runner.batch, targetNs, ns, concurrency);
    });
  }
  const budgetNs = BigInt(Math.round(options.timeMs * 1e6));
  const started = hrtime.bigint();
  for (let r = 0; r < options.maxRounds; r++) {
    if (r >= options.minRounds && hrtime.bigint() - started >= budgetNs) break;
    await round(runners, options.warmupRounds + r, concurrency, sink, (runner, ns) => {
      runner.samples.push(ns / runner.batch);
    });
  }
}

/** Tears down every implementation that was set up, then the case; the first failure is rethrown. */
async function teardownAll(
  benchCase: AsyncBenchCase,
  caseState: unknown,
  runners: readonly AsyncRunner[],
): Promise<void> {
  const failures: unknown[] = [];
  for (const runner of runners) {
    await runner.impl.teardown(runner.state).catch((error: unknown) => failures.push(error));
  }
  await benchCase.teardown(caseState).catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw failures[0];
}

/**
 * Measures every implementation of an async case, interleaved, and returns the median ns/op of each (and
 * the case's notes, when it has some). Call `benchCase.unavailable()` first: this runs the case
 * unconditionally.
 */
export async function runAsyncCase(
  benchCase: AsyncBenchCase,
  options: HarnessOptions,
  sink: Sink,
): Promise<CaseResult> {
  const caseState = await benchCase.setup();
  const runners: AsyncRunner[] = [];
  let notes: string | undefined;
  let results: CaseResult['results'] = [];
  try {
    const floor = benchCase.concurrency;
    for (const impl of benchCase.impls) {
      const state = await impl.setup(caseState);
      runners.push({
        impl,
        state,
        batch: Math.max(options.fixedBatch ?? floor, floor),
        next: 0,
        samples: [],
      });
    }
    await measure(benchCase, runners, options, sink);
    results = runners.map(summarizeRunner);
    if (benchCase.notes !== undefined) notes = await benchCase.notes(caseState, results);
  } finally {
    await teardownAll(benchCase, caseState, runners);
  }
  return notes === undefined ? { case: benchCase.name, results } : { case: benchCase.name, results, notes };
}
