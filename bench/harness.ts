/**
 * The measuring core: runs every implementation of a case in the same process, interleaved round by round
 * (A, B, A, B, … with the order flipped every round), each round timing one calibrated batch per
 * implementation with `process.hrtime.bigint()`, and reports the median ns/op across rounds. Synchronous
 * operations only; asynchronous ones (awaited batches) are measured by `harness-async.ts`.
 *
 * Why interleave: machine noise (other processes, CPU frequency, GC of a previous case) drifts over seconds;
 * measuring A for two seconds then B for two seconds puts that drift into the ratio. Alternating short
 * batches spreads it over both sides. See docs/decisions/0002-bench-harness.md.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hrtime } from 'node:process';
import type { BenchCase, Impl, ImplRole } from './suite.js';

/** How long and how often to measure. */
export interface HarnessOptions {
  /** Wall-time budget of the measured rounds of one case, in ms (warmup and calibration excluded). */
  readonly timeMs: number;
  /** Target duration of one batch (one implementation, one round), in ms. */
  readonly batchMs: number;
  /** Interleaved rounds run (and re-calibrated) before measuring; not reported. */
  readonly warmupRounds: number;
  /** Measured rounds run even when the time budget is spent. */
  readonly minRounds: number;
  /** Measured rounds never exceeded, whatever the budget. */
  readonly maxRounds: number;
  /** Iterations per batch without calibration (smoke runs); `undefined` calibrates to `batchMs`. */
  readonly fixedBatch: number | undefined;
}

/** Defaults for a real run: ~1 s of measured rounds per case, ~10 ms batches. */
export const DEFAULT_HARNESS_OPTIONS: HarnessOptions = {
  timeMs: 1000,
  batchMs: 10,
  warmupRounds: 5,
  minRounds: 10,
  maxRounds: 1000,
  fixedBatch: undefined,
};

/** Smoke-run options (`--quick`): tiny fixed batches, two measured rounds. Numbers are not meaningful. */
export const QUICK_HARNESS_OPTIONS: HarnessOptions = {
  timeMs: 0,
  batchMs: 1,
  warmupRounds: 1,
  minRounds: 2,
  maxRounds: 2,
  fixedBatch: 100,
};

/** The measurement of one implementation in one case. */
export interface ImplResult {
  readonly impl: string;
  readonly role: ImplRole;
  /** Median ns per operation across the measured rounds. */
  readonly nsPerOp: number;
  /** `1e9 / nsPerOp`. */
  readonly opsPerSec: number;
  /** Half the interquartile range of the per-round ns/op, relative to the median (0.05 = ±5 %). */
  readonly spread: number;
  /** Measured rounds. */
  readonly rounds: number;
  /** Iterations per batch. */
  readonly batch: number;
}

/** The measurement of one case: one result per implementation, in declaration order. */
export interface CaseResult {
  readonly case: string;
  readonly results: readonly ImplResult[];
  /** Text the case wants shown after the suite's table (e.g. a query plan); async cases only. */
  readonly notes?: string;
}

/**
 * Where measured results go so V8 cannot drop the measured calls as dead code: each iteration's result is
 * assigned to a loop variable whose final value is stored here, so every result flows into a value that
 * escapes. (Comparing each result with a sentinel as well was tried: it cost ~2 ns per iteration, more than
 * the cheapest operations measured.) The runner prints it at the end of the run.
 */
export interface Sink {
  last: unknown;
  batches: number;
}

/** Creates an empty {@link Sink}. */
export function createSink(): Sink {
  return { last: undefined, batches: 0 };
}

type BatchLoop = (fn: Impl['fn'], state: unknown, n: number, sink: Sink) => number;

/**
 * Compiles a fresh batch loop. Each implementation gets its own loop function, hence its own call-site
 * feedback: a loop shared by all implementations would see several `fn`s, go megamorphic and stop inlining,
 * penalizing whichever implementation happens to be measured second. The source must differ each time
 * (`tag`): V8 caches `new Function` by source text and the cached function shares its feedback.
 */
function compileBatchLoop(tag: string): BatchLoop {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a new function per implementation is the point (see above).
  return new Function(
    'fn',
    'state',
    'n',
    'sink',
    `'use strict'; // ${tag}
    let last;
    for (let i = 0; i < n; i++) {
      last = fn(state, i);
    }
    sink.last = last;
    return 1;`,
  ) as BatchLoop;
}

interface Runner {
  readonly impl: Impl;
  readonly loop: BatchLoop;
  readonly state: unknown;
  batch: number;
  readonly samples: number[];
}

/** Runs one batch of `runner.batch` iterations and returns its duration in ns. */
function timeBatch(runner: Runner, sink: Sink): number {
  const { impl, loop, state, batch } = runner;
  const start = hrtime.bigint();
  sink.batches += impl.around(state, () => loop(impl.fn, state, batch, sink));
  return Number(hrtime.bigint() - start);
}

/** Doubles the batch until it takes at least half the target, then scales it to the target. */
function calibrate(runner: Runner, sink: Sink, targetNs: number): void {
  runner.batch = 1;
  for (;;) {
    const elapsed = timeBatch(runner, sink);
    if (elapsed >= targetNs / 2 || runner.batch >= 2 ** 30) {
      runner.batch = scaled(runner.batch, targetNs, elapsed);
      return;
    }
    runner.batch *= 2;
  }
}

/** `batch` scaled so a batch lasts `targetNs`, by at most ×4 / ÷4 per step. */
function scaled(batch: number, targetNs: number, elapsedNs: number): number {
  const factor = Math.min(4, Math.max(0.25, targetNs / Math.max(elapsedNs, 1)));
  return Math.max(1, Math.round(batch * factor));
}

/**
 * One implementation's result from its per-round samples (ns/op): the median, and the spread as half the
 * interquartile range relative to the median.
 */
export function summarizeRunner(runner: {
  readonly impl: { readonly impl: string; readonly role: ImplRole };
  readonly samples: readonly number[];
  readonly batch: number;
}): CaseResult['results'][number] {
  const sorted = runner.samples.slice().sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  return {
    impl: runner.impl.impl,
    role: runner.impl.role,
    nsPerOp: median,
    opsPerSec: 1e9 / median,
    spread: (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / 2 / median,
    rounds: sorted.length,
    batch: runner.batch,
  };
}

/** The value at quantile `q` (0..1) of sorted `values`, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** Runs one batch per runner: in declaration order on even rounds, reversed on odd ones. */
function round(
  runners: readonly Runner[],
  round: number,
  sink: Sink,
  onBatch: (r: Runner, ns: number) => void,
) {
  const count = runners.length;
  for (let k = 0; k < count; k++) {
    const runner = runners[round % 2 === 0 ? k : count - 1 - k]!;
    onBatch(runner, timeBatch(runner, sink));
  }
}

/** Measures every implementation of `benchCase`, interleaved, and returns the median ns/op of each. */
export function runCase(benchCase: BenchCase, options: HarnessOptions, sink: Sink): CaseResult {
  const targetNs = options.batchMs * 1e6;
  const runners: Runner[] = benchCase.impls.map((impl) => ({
    impl,
    loop: compileBatchLoop(`${benchCase.name} / ${impl.impl} / ${randomUUID()}`),
    state: impl.setup(),
    batch: options.fixedBatch ?? 1,
    samples: [],
  }));

  if (options.fixedBatch === undefined) {
    for (const runner of runners) calibrate(runner, sink, targetNs);
  }
  for (let r = 0; r < options.warmupRounds; r++) {
    round(runners, r, sink, (runner, ns) => {
      if (options.fixedBatch === undefined) runner.batch = scaled(runner.batch, targetNs, ns);
    });
  }

  const budgetNs = BigInt(Math.round(options.timeMs * 1e6));
  const started = hrtime.bigint();
  for (let r = 0; r < options.maxRounds; r++) {
    if (r >= options.minRounds && hrtime.bigint() - started >= budgetNs) break;
    round(runners, options.warmupRounds + r, sink, (runner, ns) => {
      runner.samples.push(ns / runner.batch);
    });
  }

  for (const runner of runners) runner.impl.teardown(runner.state);

  const results = runners.map(summarizeRunner);
  return benchCase.notes === undefined
    ? { case: benchCase.name, results }
    : { case: benchCase.name, results, notes: benchCase.notes(results) };
}
