/**
 * Aggregates the samples of consecutive calls into one, so a limit algorithm moves once per window (about one
 * round trip of calls, as TCP moves its window once per RTT) instead of once per call: per-call updates react
 * to the same overload many times over before its effect shows in the RTTs, and overshoot. A window holds
 * `size` samples; its sample has the mean RTT, the largest in-flight count, `dropped` if any call was, and
 * the number of calls.
 * As Netflix concurrency-limits' `WindowedLimit` with an average sample window, counted in calls, not time.
 *
 * @module
 */
import type { LimitSample } from './limit-algorithm.js';

/** A window of samples (pure: no clock). */
export class SampleWindow {
  #count = 0;
  #rttSum = 0;
  #inflight = 0;
  #dropped = false;

  /** Samples gathered in the current window. */
  get count(): number {
    return this.#count;
  }

  /** Adds a sample; when the window then holds `size` samples, returns their aggregate and starts a new one. */
  add(sample: LimitSample, size: number): LimitSample | undefined {
    this.#count += 1;
    this.#rttSum += sample.rttMs;
    if (sample.inflight > this.#inflight) this.#inflight = sample.inflight;
    if (sample.dropped) this.#dropped = true;
    if (this.#count < size) return undefined;
    const aggregate: LimitSample = {
      rttMs: this.#rttSum / this.#count,
      inflight: this.#inflight,
      dropped: this.#dropped,
      calls: this.#count,
    };
    this.#count = 0;
    this.#rttSum = 0;
    this.#inflight = 0;
    this.#dropped = false;
    return aggregate;
  }
}
