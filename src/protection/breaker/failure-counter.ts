/**
 * The closed-state failure counters of the circuit breaker, one per failure policy: consecutive failures, a
 * sliding window of the last N calls, and a sliding time window of buckets. Pure models: the time of each
 * outcome is passed in (monotonic ms), counters live in plain fields and typed arrays, nothing is allocated
 * per call.
 *
 * @module
 */
import type { ResolvedFailurePolicy } from './breaker-options.js';

/** The counts a counter currently judges. */
export interface CounterCounts {
  /** Calls in the judged window (for the consecutive policy: the current run of failures). */
  readonly calls: number;
  /** Failures among those calls. */
  readonly failures: number;
}

/** A counter's state as JSON; times are wall ms. */
export type CounterSnapshot =
  | { readonly policy: 'consecutive'; readonly failures: number }
  | {
      readonly policy: 'count';
      /** Oldest first: `true` a failure, `false` a success. */
      readonly samples: readonly boolean[];
    }
  | {
      readonly policy: 'sampling';
      /** Non-empty buckets, newest first: wall ms at which the bucket starts, and its counts. */
      readonly buckets: readonly {
        readonly at: number;
        readonly successes: number;
        readonly failures: number;
      }[];
    };

/** The failure counter of the closed state. */
export interface FailureCounter {
  /** The failure policy this counter implements: `consecutive`, `count` or `sampling`. */
  readonly policy: ResolvedFailurePolicy['policy'];
  /** Records one outcome at monotonic time `now`; returns whether the breaker must open. */
  record(failure: boolean, now: number): boolean;
  /** Forgets every outcome. */
  reset(): void;
  /** What the counter judges at `now`. */
  counts(now: number): CounterCounts;
  /** The state as JSON; `offset` = wall ms − monotonic ms. */
  snapshot(offset: number): CounterSnapshot;
  /**
   * Takes over a snapshot (of any policy; one of another policy is ignored). A count window keeps the newest
   * samples that fit; a sampling window re-buckets by time.
   */
  restore(snapshot: CounterSnapshot, offset: number): void;
}

/** Opens after `threshold` failures in a row. */
export class ConsecutiveCounter implements FailureCounter {
  /** Always `consecutive`: this counter judges failures in a row. */
  readonly policy = 'consecutive';
  readonly #threshold: number;
  #failures = 0;

  /** @param threshold - failures in a row that open the breaker. */
  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  /** {@inheritDoc FailureCounter.record} */
  record(failure: boolean): boolean {
    if (!failure) {
      this.#failures = 0;
      return false;
    }
    this.#failures += 1;
    return this.#failures >= this.#threshold;
  }

  /** {@inheritDoc FailureCounter.reset} */
  reset(): void {
    this.#failures = 0;
  }

  /** {@inheritDoc FailureCounter.counts} */
  counts(): CounterCounts {
    return { calls: this.#failures, failures: this.#failures };
  }

  /** {@inheritDoc FailureCounter.snapshot} */
  snapshot(): CounterSnapshot {
    return { policy: 'consecutive', failures: this.#failures };
  }

  /** {@inheritDoc FailureCounter.restore} */
  restore(snapshot: CounterSnapshot): void {
    this.#failures = snapshot.policy === 'consecutive' ? snapshot.failures : 0;
  }
}

const EMPTY = 0;
const SUCCESS = 1;
const FAILURE = 2;

/** Opens when failures / calls ≥ threshold over the last `size` calls, once `minimumCalls` were seen. */
export class CountWindow implements FailureCounter {
  /** Always `count`: this counter judges a window of the last `size` calls. */
  readonly policy = 'count';
  readonly #threshold: number;
  readonly #minimumCalls: number;
  /** Ring of samples: 0 empty, 1 success, 2 failure. */
  readonly #samples: Uint8Array;
  #next = 0;
  #calls = 0;
  #failures = 0;

  /** @param options - the window's size, threshold and minimum calls. */
  constructor(options: { readonly size: number; readonly threshold: number; readonly minimumCalls: number }) {
    this.#threshold = options.threshold;
    this.#minimumCalls = options.minimumCalls;
    this.#samples = new Uint8Array(options.size);
  }

  /** {@inheritDoc FailureCounter.record} */
  record(failure: boolean): boolean {
    const samples = this.#samples;
    const index = this.#next;
    const old = samples[index];
    if (old === FAILURE) this.#failures -= 1;
    else if (old === EMPTY) this.#calls += 1;
    samples[index] = failure ? FAILURE : SUCCESS;
    if (failure) this.#failures += 1;
    this.#next = index + 1 === samples.length ? 0 : index + 1;
    return this.#calls >= this.#minimumCalls && this.#failures / this.#calls >= this.#threshold;
  }

  /** {@inheritDoc FailureCounter.reset} */
  reset(): void {
    this.#samples.fill(EMPTY);
    this.#next = 0;
    this.#calls = 0;
    this.#failures = 0;
  }

  /** {@inheritDoc FailureCounter.counts} */
  counts(): CounterCounts {
    return { calls: this.#calls, failures: this.#failures };
  }

  /** {@inheritDoc FailureCounter.snapshot} */
  snapshot(): CounterSnapshot {
    const samples: boolean[] = [];
    const size = this.#samples.length;
    for (let i = 0; i < size; i += 1) {
      const sample = this.#samples[(this.#next + i) % size];
      if (sample !== EMPTY) samples.push(sample === FAILURE);
    }
    return { policy: 'count', samples };
  }

  /** {@inheritDoc FailureCounter.restore} */
  restore(snapshot: CounterSnapshot): void {
    this.reset();
    if (snapshot.policy !== 'count') return;
    const samples = snapshot.samples;
    for (let i = Math.max(0, samples.length - this.#samples.length); i < samples.length; i += 1) {
      this.record(samples[i] === true);
    }
  }
}

/**
 * Opens when failures / calls ≥ threshold over the last `windowMs`, once the window saw `minimumRps` calls per
 * second on average. The window is a ring of `buckets` buckets of `windowMs / buckets` ms; it covers the
 * current (partial) bucket and the `buckets − 1` before it. Stale buckets are cleared as time moves on, at most
 * `buckets` of them per record.
 */
export class SamplingWindow implements FailureCounter {
  /** Always `sampling`: this counter judges a sliding time window of buckets. */
  readonly policy = 'sampling';
  readonly #threshold: number;
  readonly #minimumCalls: number;
  readonly #width: number;
  readonly #successes: Float64Array;
  readonly #failures: Float64Array;
  /** Bucket number (`floor(now / width)`) of the newest bucket. */
  #latest = Number.NEGATIVE_INFINITY;
  #calls = 0;
  #failed = 0;

  /** @param options - the window's length, buckets, threshold and minimum rate. */
  constructor(options: {
    readonly windowMs: number;
    readonly buckets: number;
    readonly threshold: number;
    readonly minimumRps: number;
  }) {
    this.#threshold = options.threshold;
    this.#minimumCalls = Math.max(1, (options.minimumRps * options.windowMs) / 1000);
    this.#width = options.windowMs / options.buckets;
    this.#successes = new Float64Array(options.buckets);
    this.#failures = new Float64Array(options.buckets);
  }

  /** {@inheritDoc FailureCounter.record} */
  record(failure: boolean, now: number): boolean {
    const slot = this.#advance(now);
    this.#calls += 1;
    if (failure) {
      this.#failed += 1;
      (this.#failures[slot] as number) += 1;
    } else {
      (this.#successes[slot] as number) += 1;
    }
    return this.#calls >= this.#minimumCalls && this.#failed / this.#calls >= this.#threshold;
  }

  /** Moves the window to the bucket of `now` (clearing the buckets that left it); returns that bucket's slot. */
  #advance(now: number): number {
    const size = this.#successes.length;
    const key = Math.floor(now / this.#width);
    const latest = this.#latest;
    if (key > latest) {
      if (key - latest >= size) {
        this.#successes.fill(0);
        this.#failures.fill(0);
        this.#calls = 0;
        this.#failed = 0;
      } else {
        for (let k = latest + 1; k <= key; k += 1) {
          const slot = ((k % size) + size) % size;
          const failed = this.#failures[slot] as number;
          this.#calls -= (this.#successes[slot] as number) + failed;
          this.#failed -= failed;
          this.#successes[slot] = 0;
          this.#failures[slot] = 0;
        }
      }
      this.#latest = key;
    }
    // A time before the newest bucket (it cannot happen with a monotonic clock) counts in the newest one.
    const newest = this.#latest;
    return ((newest % size) + size) % size;
  }

  /** {@inheritDoc FailureCounter.reset} */
  reset(): void {
    this.#successes.fill(0);
    this.#failures.fill(0);
    this.#latest = Number.NEGATIVE_INFINITY;
    this.#calls = 0;
    this.#failed = 0;
  }

  /** {@inheritDoc FailureCounter.counts} */
  counts(now: number): CounterCounts {
    if (this.#latest !== Number.NEGATIVE_INFINITY) this.#advance(now);
    return { calls: this.#calls, failures: this.#failed };
  }

  /** {@inheritDoc FailureCounter.snapshot} */
  snapshot(offset: number): CounterSnapshot {
    const buckets: { at: number; successes: number; failures: number }[] = [];
    const size = this.#successes.length;
    if (this.#latest !== Number.NEGATIVE_INFINITY) {
      for (let i = 0; i < size; i += 1) {
        const key = this.#latest - i;
        const slot = ((key % size) + size) % size;
        const successes = this.#successes[slot] as number;
        const failures = this.#failures[slot] as number;
        if (successes + failures > 0) buckets.push({ at: key * this.#width + offset, successes, failures });
      }
    }
    return { policy: 'sampling', buckets };
  }

  /** {@inheritDoc FailureCounter.restore} */
  restore(snapshot: CounterSnapshot, offset: number): void {
    this.reset();
    if (snapshot.policy !== 'sampling' || snapshot.buckets.length === 0) return;
    const size = this.#successes.length;
    // Bucket starts are multiples of the width: round (a wall time near 1.7e12 ms carries float noise); with
    // another width, a bucket lands in the nearest new one.
    const keyOf = (at: number): number => Math.round((at - offset) / this.#width);
    let latest = Number.NEGATIVE_INFINITY;
    for (const bucket of snapshot.buckets) latest = Math.max(latest, keyOf(bucket.at));
    this.#latest = latest;
    for (const bucket of snapshot.buckets) {
      const key = keyOf(bucket.at);
      if (key <= latest - size) continue;
      const slot = ((key % size) + size) % size;
      (this.#successes[slot] as number) += bucket.successes;
      (this.#failures[slot] as number) += bucket.failures;
      this.#calls += bucket.successes + bucket.failures;
      this.#failed += bucket.failures;
    }
  }
}

/** The counter of a failure policy. */
export function createFailureCounter(policy: ResolvedFailurePolicy): FailureCounter {
  switch (policy.policy) {
    case 'consecutive':
      return new ConsecutiveCounter(policy.threshold);
    case 'count':
      return new CountWindow(policy);
    case 'sampling':
      return new SamplingWindow(policy);
  }
}
