/**
 * The fuzz suite's shared settings: every property in `test/fuzz/` runs through {@link fuzz}, which takes its
 * seed from `FUZZ_SEED` (default {@link DEFAULT_FUZZ_SEED}, so a failure replays) and its case count from
 * `FUZZ_RUNS` (default {@link DEFAULT_FUZZ_RUNS}, so `npm test` stays fast; `npm run fuzz` asks for 2000), and
 * records how many cases ran in the test's meta (`fuzzCases`), which `case-count-reporter.ts` sums.
 *
 * Conventions: a fuzz test file is `test/fuzz/<input path>.fuzz.test.ts`, its tests are named
 * `fuzz: <input path> …`.
 *
 * @module
 */
import fc from 'fast-check';
import type { TestContext } from 'vitest';
import { isErrorCode, isFoundationError } from '../../src/errors/index.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Cases a fuzz property ran in this test (summed by the case-count reporter). */
    fuzzCases?: number;
  }
}

/** Cases per property when `FUZZ_RUNS` is not set. */
export const DEFAULT_FUZZ_RUNS = 100;

/** Seed when `FUZZ_SEED` is not set. */
export const DEFAULT_FUZZ_SEED = 20_261_129;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * Cases for one property: `FUZZ_RUNS` (default {@link DEFAULT_FUZZ_RUNS}) times `scale`, at least `min`.
 * Properties that spawn a process per case use a small scale.
 */
export function fuzzRuns(scale = 1, min = 1): number {
  return Math.max(min, Math.round(positiveInteger('FUZZ_RUNS', DEFAULT_FUZZ_RUNS) * scale));
}

/** The seed of every property: `FUZZ_SEED` or {@link DEFAULT_FUZZ_SEED}. */
export function fuzzSeed(): number {
  return positiveInteger('FUZZ_SEED', DEFAULT_FUZZ_SEED);
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Fraction of `FUZZ_RUNS` this property runs (default 1). */
  readonly scale?: number;
  /** Fewest cases whatever `FUZZ_RUNS` says (default 1). */
  readonly min?: number;
}

/**
 * Checks `property` with the suite's seed and case count, adds the cases run to the test's `fuzzCases`
 * meta, and throws fast-check's report (seed, path, counterexample) when it fails.
 */
export async function fuzz<Ts>(
  context: TestContext,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  options: FuzzOptions = {},
): Promise<void> {
  const numRuns = fuzzRuns(options.scale ?? 1, options.min ?? 1);
  const details = await fc.check(property as fc.IRawProperty<Ts>, { seed: fuzzSeed(), numRuns });
  const meta = context.task.meta;
  meta.fuzzCases = (meta.fuzzCases ?? 0) + details.numRuns;
  if (details.failed) {
    const report = fc.defaultReportMessage(details) ?? 'property failed';
    throw new Error(report, { cause: details.errorInstance });
  }
}

/** Whether `error` is a `FoundationError` whose code is in the catalog. */
export function hasCatalogCode(error: unknown): boolean {
  return isFoundationError(error) && isErrorCode(error.code);
}

/** A line that looks like a stack frame (`at fn (file:1:2)`) or a source location. */
export const STACK_TRACE = /\bat [^\s]+ \(.*:\d+:\d+\)|^\s+at\s|node_modules|\.ts:\d+|\.js:\d+/m;
