/**
 * A vitest reporter for `npm run fuzz`: sums the `fuzzCases` meta that {@link fuzz} records on each test and
 * prints one line at the end of the run — `fuzz: <cases> cases in <properties> properties (<files> files,
 * FUZZ_RUNS=…, FUZZ_SEED=…)`. Use it beside the default reporter.
 *
 * @module
 */
import type { Reporter, TestModule } from 'vitest/node';
import { DEFAULT_FUZZ_RUNS, DEFAULT_FUZZ_SEED } from './fuzz.js';

/** What the reporter counted. */
export interface FuzzCaseCount {
  readonly cases: number;
  readonly properties: number;
  readonly files: number;
  readonly failed: number;
}

/** Sums the `fuzzCases` meta of every test of `modules`. */
export function countFuzzCases(modules: readonly TestModule[]): FuzzCaseCount {
  let cases = 0;
  let properties = 0;
  let failed = 0;
  let files = 0;
  for (const module of modules) {
    let counted = false;
    for (const testCase of module.children.allTests()) {
      const n = testCase.meta().fuzzCases;
      if (n === undefined) continue;
      counted = true;
      cases += n;
      properties += 1;
      if (testCase.result().state === 'failed') failed += 1;
    }
    if (counted) files += 1;
  }
  return { cases, properties, files, failed };
}

/** Prints the total number of fuzz cases run. */
export default class FuzzCaseCountReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const { cases, properties, files, failed } = countFuzzCases(testModules);
    const runs = process.env.FUZZ_RUNS ?? `${DEFAULT_FUZZ_RUNS} (default)`;
    const seed = process.env.FUZZ_SEED ?? `${DEFAULT_FUZZ_SEED} (default)`;
    const failures = failed === 0 ? '' : `, ${failed} failed`;
    process.stdout.write(
      `\nfuzz: ${cases} cases in ${properties} properties (${files} files${failures}; FUZZ_RUNS=${runs}, FUZZ_SEED=${seed})\n`,
    );
  }
}
