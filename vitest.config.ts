import { defineConfig } from 'vitest/config';

/** Lines and branches every critical folder must keep covered (issue 9: "above 95 % on critical paths"). */
const critical = { lines: 95, branches: 95 } as const;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Collected when the run asks for it: `npm test` is `vitest run --coverage`, so the full suite (and CI)
    // measures and enforces, while `npx vitest run <one file>` stays fast and is not failed by thresholds over
    // files that one test file never loads.
    coverage: {
      provider: 'v8',
      // Only the shipped code. src/testing/** stays in: it is the public `./testing` subpath (fake clock, error
      // capture) that users import in their own tests, not a private helper of ours.
      include: ['src/**/*.ts'],
      exclude: [
        'src/**/*.test.ts',
        'src/**/*.d.ts',
        // Declarations only: no statement to run (other type-only modules compile to nothing and count 0/0).
        'src/**/types.ts',
        'src/**/*-types.ts',
      ],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // The summary (and the threshold check) also when a test failed: a red run still shows what it covered.
      reportOnFailure: true,
      // A glob key is checked against the files it matches; one that matches nothing (src/jobs/** until the
      // jobs capability lands) has 0 of 0 covered, which counts as 100 %, so it already applies when it exists.
      thresholds: {
        'src/errors/**': critical,
        // Measured 100 % lines, 95.3 % branches (25 of 533 not taken, none reachable: defensive `?? 0` / `?? []`
        // fallbacks for values the SQL or the indexes always provide, an always non-empty WHERE).
        'src/events/stores/**': critical,
        // Measured on the config tests alone: 99.3 % lines, 97.1 % branches (34 of 1175 not taken: defensive
        // fallbacks such as `?? ''` and the SQLite primary-key race the immediate transaction rules out, parser
        // errors without a position, a lost-connection read whose retry succeeds, rollback of stale overrides).
        'src/config/**': critical,
        'src/jobs/**': critical,
        // Protection models: the pure state machines and math (take `now`, no I/O, no timers).
        // (ceilDiv and floorDiv's corrections of the float quotient cannot run below 2^53: v8-ignored there.)
        'src/protection/rate-limit/{token-bucket,gcra,sliding-window,fixed-window,memory-models}.ts':
          critical,
        'src/protection/breaker/{breaker-machine,failure-counter}.ts': critical,
        'src/protection/adaptive/{aimd-limit,gradient2-limit,vegas-limit,sample-window,limit-algorithm}.ts':
          critical,
        'src/protection/retry/{backoff,budget}.ts': critical,
        'src/protection/bulkhead/bulkhead-state.ts': critical,
      },
    },
  },
});
