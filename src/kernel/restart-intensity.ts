/**
 * Restart intensity (pure model): a sliding window of restart times, OTP semantics. A supervisor allows at
 * most `maxRestarts` restarts within any `withinMs` window; the restart that would make it `maxRestarts + 1`
 * escalates.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';

/** Limits of a {@link RestartIntensity}. */
export interface RestartIntensityOptions {
  /** Restarts allowed within the window (0 = the first restart escalates). */
  readonly maxRestarts: number;
  /** Window length in ms. A restart at `t` counts until (excluding) `t + withinMs`. */
  readonly withinMs: number;
}

/**
 * Counts restarts in a sliding window.
 *
 * @example
 * ```ts
 * const intensity = new RestartIntensity({ maxRestarts: 3, withinMs: 5000 });
 * intensity.record(now); // true while at most 3 restarts happened in the last 5000 ms
 * ```
 */
export class RestartIntensity {
  /** The configured limit. */
  readonly maxRestarts: number;
  /** The configured window in ms. */
  readonly withinMs: number;
  readonly #times: number[] = [];

  /** Throws `FND_CONFIG_INVALID_VALUE` on a negative or non-finite limit. */
  constructor(options: RestartIntensityOptions) {
    if (!Number.isInteger(options.maxRestarts) || options.maxRestarts < 0) {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: 'maxRestarts must be a non-negative integer',
        context: { maxRestarts: options.maxRestarts },
      });
    }
    if (!Number.isFinite(options.withinMs) || options.withinMs <= 0) {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: 'withinMs must be a positive number',
        context: { withinMs: options.withinMs },
      });
    }
    this.maxRestarts = options.maxRestarts;
    this.withinMs = options.withinMs;
  }

  /**
   * Records a restart at `now` (ms; must not go backwards) and returns whether the supervisor is still within
   * its limit: `false` means more than `maxRestarts` restarts happened within `withinMs` — escalate.
   */
  record(now: number): boolean {
    this.#prune(now);
    this.#times.push(now);
    return this.#times.length <= this.maxRestarts;
  }

  /** Restarts counted in the window ending at `now`. */
  count(now: number): number {
    this.#prune(now);
    return this.#times.length;
  }

  /** Forgets every recorded restart. */
  reset(): void {
    this.#times.length = 0;
  }

  #prune(now: number): void {
    while (this.#times.length > 0 && now - (this.#times[0] as number) >= this.withinMs) this.#times.shift();
  }
}
