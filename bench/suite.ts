/**
 * The shape of a benchmark suite: cases, each with our implementation and the peers or baselines it is
 * measured against in the same process.
 *
 * @module
 */

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
}

/** A suite: a module `bench/suites/<name>.bench.ts` whose default export is one of these. */
export interface Suite {
  readonly name: string;
  readonly cases: readonly BenchCase[];
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

/** Declares a suite; an identity function that gives the object its type. */
export function defineSuite(suite: Suite): Suite {
  return suite;
}
