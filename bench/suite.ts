/**
 * The shape of a benchmark suite: cases, each with our implementation and the peers or baselines it is
 * measured against in the same process.
 *
 * @module
 */
import type { ImplResult } from './harness.js';

/** Who an implementation belongs to: the foundation, a peer library, or a bare-language baseline. */
export const IMPL_ROLES = ['ours', 'peer', 'baseline'] as const;

/** Role of one implementation in a case. Ratios are computed for `ours` rows against the first other row. */
export type ImplRole = (typeof IMPL_ROLES)[number];

/**
 * One implementation as a suite author writes it. `setup` runs once, outside timing; `fn` is the measured
 * operation and receives the setup state and the iteration index (use it to cycle over precomputed inputs,
 * so V8 cannot hoist a constant lookup out of the loop). Return the operation's result: the harness keeps
 * it in a sink so the call cannot be eliminated as dead code.
 */
export interface ImplSpec<S> {
  /** `ours` for the foundation's row; the peer's or baseline's name otherwise (e.g. `map`, `bare-call`). */
  readonly impl: string;
  readonly role: ImplRole;
  readonly setup?: () => S;
  readonly fn: (state: S, i: number) => unknown;
  /**
   * Runs each timed batch inside `body` (e.g. inside a context with `runInContext`). Its own cost is paid
   * once per batch of thousands of iterations, so it does not show in ns/op.
   */
  readonly around?: (state: S, body: () => number) => number;
  /** Runs once after the case (unsubscribe, close). */
  readonly teardown?: (state: S) => void;
}

/** One implementation after {@link impl} erased its state type, ready for the harness. */
export interface Impl {
  readonly impl: string;
  readonly role: ImplRole;
  /** The author's `fn`, called by a loop compiled for this implementation alone (see harness). */
  readonly fn: (state: unknown, i: number) => unknown;
  /** Runs `setup` (or returns `undefined` without one). */
  readonly setup: () => unknown;
  readonly around: (state: unknown, body: () => number) => number;
  readonly teardown: (state: unknown) => void;
}

/** A case: one operation, measured for every implementation, interleaved round by round. */
export interface BenchCase {
  readonly name: string;
  readonly impls: readonly Impl[];
  /** Text shown after the suite's table, from the case's results (e.g. ratios against a target). */
  readonly notes?: (results: readonly ImplResult[]) => string;
}

/** A suite: a module `bench/suites/<name>.bench.ts` whose default export is one of these. */
export interface Suite {
  readonly name: string;
  /** Synchronous cases ({@link BenchCase}) and asynchronous ones ({@link asyncCase}), run in order. */
  readonly cases: readonly AnyBenchCase[];
}

/**
 * Declares an implementation, keeping `setup` and `fn` type-checked against each other while letting a case
 * hold implementations with different state types.
 *
 * @example
 * ```ts
 * impl({ impl: 'map', role: 'peer', setup: () => new Map([['a', 1]]), fn: (m) => m.get('a') })
 * ```
 */
export function impl<S>(spec: ImplSpec<S>): Impl {
  // The harness only ever passes a state back to the spec that produced it, so erasing S is sound.
  const { setup, fn, around, teardown } = spec as unknown as ImplSpec<unknown>;
  return {
    impl: spec.impl,
    role: spec.role,
    setup: setup ?? (() => undefined),
    fn,
    around: around ?? ((_state, body) => body()),
    teardown: teardown ?? (() => undefined),
  };
}

/** What the runner tells a suite that is declared as a function of it (see {@link defineSuite}). */
export interface SuiteEnv {
  /** `--quick`: a smoke run; a suite should use tiny data sets so that every case runs in seconds. */
  readonly quick: boolean;
}

/**
 * Declares a suite; an identity function that gives the value its type. A suite may be a function of the
 * {@link SuiteEnv} when its data depends on the run (e.g. 10k rows for `--quick`, 1M otherwise).
 */
export function defineSuite<T extends Suite | ((env: SuiteEnv) => Suite)>(suite: T): T {
  return suite;
}

/**
 * One implementation of an asynchronous case, as a suite author writes it. Each round times a batch of
 * operations: `fn` is called and its result awaited, sequentially or with the case's `concurrency`
 * operations in flight.
 */
export interface AsyncImplSpec<S, C> {
  /** `ours` for the foundation's row; the peer's or baseline's name otherwise. */
  readonly impl: string;
  readonly role: ImplRole;
  /**
   * Runs once before the case's rounds, outside timing, with the case's state (see
   * {@link AsyncCaseSpec.setup}); may be async (open a store, create a schema).
   */
  readonly setup?: (caseState: C) => S | Promise<S>;
  /**
   * One operation; its result (or the value its promise resolves to) goes to the sink. `i` counts this
   * implementation's operations over the whole case (calibration and warmup included) and never repeats,
   * so `stream-${i}` names a new stream on every call.
   */
  readonly fn: (state: S, i: number) => unknown;
  /** Runs once after the case, also when it failed (close the store, drop the schema). */
  readonly teardown?: (state: S) => void | Promise<void>;
}

/** One asynchronous implementation after {@link asyncImpl} erased its state type. */
export interface AsyncImpl<C = unknown> {
  readonly impl: string;
  readonly role: ImplRole;
  readonly setup: (caseState: C) => Promise<unknown>;
  readonly fn: (state: unknown, i: number) => unknown;
  readonly teardown: (state: unknown) => Promise<void>;
}

/** An asynchronous case as a suite author writes it (see {@link asyncCase}). */
export interface AsyncCaseSpec<C> {
  readonly name: string;
  /** Operations kept in flight during a batch; 1 (the default) awaits each before starting the next. */
  readonly concurrency?: number;
  /**
   * Why the case cannot run on this machine (e.g. PostgreSQL unreachable), or `undefined` when it can.
   * Checked before `setup`. The runner skips an unavailable case with a warning, or fails in CI.
   */
  readonly unavailable?: () => Promise<string | undefined>;
  /** Runs once before every implementation's setup, outside timing (temp directory, shared data). */
  readonly setup?: () => C | Promise<C>;
  /** Runs once after every implementation's teardown, also when the case failed. */
  readonly teardown?: (caseState: C) => void | Promise<void>;
  /**
   * Text shown after the suite's table (e.g. a query plan, or a figure derived from the rows such as an
   * added-overhead ratio), computed after the measured rounds and before teardown, with the case's results
   * (one per implementation, in declaration order).
   */
  readonly notes?: (caseState: C, results: readonly ImplResult[]) => string | Promise<string>;
  readonly impls: readonly AsyncImpl<C>[];
}

/** An asynchronous case, ready for the harness (`runAsyncCase`). */
export interface AsyncBenchCase {
  readonly kind: 'async';
  readonly name: string;
  readonly concurrency: number;
  readonly unavailable: () => Promise<string | undefined>;
  readonly setup: () => Promise<unknown>;
  readonly teardown: (caseState: unknown) => Promise<void>;
  readonly notes: ((caseState: unknown, results: readonly ImplResult[]) => Promise<string>) | undefined;
  readonly impls: readonly AsyncImpl[];
}

/** Any case of a suite. */
export type AnyBenchCase = BenchCase | AsyncBenchCase;

/** Whether `benchCase` was declared with {@link asyncCase}. */
export function isAsyncCase(benchCase: AnyBenchCase): benchCase is AsyncBenchCase {
  return 'kind' in benchCase;
}

/**
 * Declares an implementation of an asynchronous case; `C` is the case state its `setup` receives.
 *
 * @example
 * ```ts
 * asyncImpl({ impl: 'ours', role: 'ours', setup: () => openStore(), fn: (s, i) => s.append(ev(i)), teardown: (s) => s.stop() })
 * ```
 */
export function asyncImpl<S, C = undefined>(spec: AsyncImplSpec<S, C>): AsyncImpl<C> {
  const { setup, fn, teardown } = spec as unknown as AsyncImplSpec<unknown, C>;
  return {
    impl: spec.impl,
    role: spec.role,
    setup: async (caseState) => (setup === undefined ? undefined : await setup(caseState)),
    fn,
    teardown: async (state) => {
      if (teardown !== undefined) await teardown(state);
    },
  };
}

/**
 * Declares an asynchronous case: every round times a batch of operations per implementation
 * (sequential, or `concurrency` in flight), interleaved like the synchronous cases.
 */
export function asyncCase<C = undefined>(spec: AsyncCaseSpec<C>): AsyncBenchCase {
  // The harness only passes the case state back to this case's own hooks and impls, so erasing C is sound.
  const erased = spec as unknown as AsyncCaseSpec<unknown>;
  const { unavailable, setup, teardown, notes } = erased;
  return {
    kind: 'async',
    name: spec.name,
    concurrency: Math.max(1, Math.floor(spec.concurrency ?? 1)),
    unavailable: async () => (unavailable === undefined ? undefined : await unavailable()),
    setup: async () => (setup === undefined ? undefined : await setup()),
    teardown: async (caseState) => {
      if (teardown !== undefined) await teardown(caseState);
    },
    notes: notes === undefined ? undefined : async (caseState, results) => await notes(caseState, results),
    impls: erased.impls,
  };
}
