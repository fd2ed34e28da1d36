/**
 * The retry budget, a pure model: retries may be at most `ratio` of the calls seen over the last `windowMs`,
 * plus a reserve of `minRetriesPerSecond × windowMs / 1000` so that a quiet service can still retry (as
 * Finagle's RetryBudget). Counted in a sliding window of 10 buckets (`now` is passed in, monotonic ms).
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';

/** Options of the retry budget. */
export interface RetryBudgetOptions {
  /** Retries allowed per call seen in the window (0.1 = 10 %), ≥ 0. */
  readonly ratio: number;
  /** Width of the sliding window, ms (positive). Default 10 000. */
  readonly windowMs?: number;
  /** A floor of retries per second allowed whatever the traffic, ≥ 0. Default 1. */
  readonly minRetriesPerSecond?: number;
}

const BUCKETS = 10;

/** Checks a budget's options, throwing `FND_PROTECT_INVALID_POLICY` naming the bad option. */
export function validateBudget(options: RetryBudgetOptions): Required<RetryBudgetOptions> {
  const { ratio, windowMs = 10_000, minRetriesPerSecond = 1 } = options;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0) {
    throw invalidPolicy('retry.budget.ratio must be a finite number ≥ 0', { option: 'retry.budget.ratio' });
  }
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw invalidPolicy('retry.budget.windowMs must be a finite number of ms > 0', {
      option: 'retry.budget.windowMs',
    });
  }
  if (
    typeof minRetriesPerSecond !== 'number' ||
    !Number.isFinite(minRetriesPerSecond) ||
    minRetriesPerSecond < 0
  ) {
    throw invalidPolicy('retry.budget.minRetriesPerSecond must be a finite number ≥ 0', {
      option: 'retry.budget.minRetriesPerSecond',
    });
  }
  return { ratio, windowMs, minRetriesPerSecond };
}

/** The sliding-window retry budget. */
export class RetryBudget {
  #options: Required<RetryBudgetOptions>;
  #width: number;
  readonly #epochs = new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY);
  readonly #calls = new Array<number>(BUCKETS).fill(0);
  readonly #retries = new Array<number>(BUCKETS).fill(0);

  constructor(options: RetryBudgetOptions) {
    this.#options = validateBudget(options);
    this.#width = this.#options.windowMs / BUCKETS;
  }

  /** The options in force. */
  get options(): Required<RetryBudgetOptions> {
    return this.#options;
  }

  /** New options; the counts are kept when the window's width is unchanged. */
  configure(options: RetryBudgetOptions): void {
    const next = validateBudget(options);
    if (next.windowMs !== this.#options.windowMs) {
      this.#epochs.fill(Number.NEGATIVE_INFINITY);
      this.#calls.fill(0);
      this.#retries.fill(0);
      this.#width = next.windowMs / BUCKETS;
    }
    this.#options = next;
  }

  /** Counts a call (its first attempt) at `now`. */
  recordCall(now: number): void {
    const slot = this.#slot(now);
    this.#calls[slot] = (this.#calls[slot] as number) + 1;
  }

  /** Retries still allowed at `now` (may be fractional; a retry needs ≥ 1). */
  available(now: number): number {
    const epoch = Math.floor(now / this.#width);
    let calls = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      if ((this.#epochs[i] as number) > epoch - BUCKETS) {
        calls += this.#calls[i] as number;
        retries += this.#retries[i] as number;
      }
    }
    const reserve = (this.#options.minRetriesPerSecond * this.#options.windowMs) / 1000;
    return reserve + this.#options.ratio * calls - retries;
  }

  /** Takes one retry from the budget at `now`; false (and nothing taken) when it is spent. */
  tryRetry(now: number): boolean {
    if (this.available(now) < 1) return false;
    const slot = this.#slot(now);
    this.#retries[slot] = (this.#retries[slot] as number) + 1;
    return true;
  }

  #slot(now: number): number {
    const epoch = Math.floor(now / this.#width);
    const slot = ((epoch % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#calls[slot] = 0;
      this.#retries[slot] = 0;
    }
    return slot;
  }
}
