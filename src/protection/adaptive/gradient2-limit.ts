/**
 * Gradient2, as Netflix concurrency-limits' `Gradient2Limit`: the limit follows the gradient between a
 * long-term RTT (an exponential average over `longWindow` samples) and the latest RTT,
 * `gradient = clamp(tolerance × longRtt / rtt, 0.5, 1)`, so it holds while latency stays within `tolerance` of
 * its long-term level and shrinks (by at most half a step) when it rises beyond; `queueSize` is added on each
 * step so the limit keeps probing upwards. `newLimit = limit × gradient + queueSize`, smoothed by `smoothing`.
 * When the long-term RTT is more than twice the latest one (a recovery after a long overload) it is pulled
 * down by 5% per sample instead of waiting for the average. A call using less than half the limit leaves it
 * unchanged. Deviation from Netflix (which ignores drops): a dropped call counts as the steepest gradient.
 *
 * @module
 */
import {
  clampLimit,
  limitOf,
  type LimitAlgorithm,
  type LimitBounds,
  type LimitSample,
} from './limit-algorithm.js';

/** Gradient2 parameters (all optional). */
export interface Gradient2Params {
  /** How much the latest RTT may exceed the long-term RTT before the limit shrinks (≥ 1). Default 1.5. */
  readonly tolerance?: number;
  /** Weight of the new limit against the old, in `(0, 1]`. Default 0.2. */
  readonly smoothing?: number;
  /** Samples averaged by the long-term RTT (exponential average, after a plain average of 10). Default 600. */
  readonly longWindow?: number;
  /** Added to the limit on each step (headroom to probe upwards). Default 4. */
  readonly queueSize?: number;
}

/** The defaults of {@link Gradient2Params}. */
export const GRADIENT2_DEFAULTS = { tolerance: 1.5, smoothing: 0.2, longWindow: 600, queueSize: 4 } as const;

/** Everything a {@link Gradient2Limit} needs: bounds, the starting limit and resolved parameters. */
export interface Gradient2Settings extends LimitBounds, Required<Gradient2Params> {
  /** The limit before any sample (an integer within the bounds; option `initialLimit`, default 20). */
  readonly initialLimit: number;
}

/** Samples averaged plainly before the exponential average takes over. */
const WARMUP = 10;

/** The Gradient2 limit algorithm. Options are assumed valid (see `validateAdaptiveOptions`). */
export class Gradient2Limit implements LimitAlgorithm {
  /** Always `gradient2`: the algorithm's name, as in the options. */
  readonly name = 'gradient2';
  #settings: Gradient2Settings;
  #estimate: number;
  #limit: number;
  #longRtt = 0;
  #samples = 0;

  constructor(settings: Gradient2Settings) {
    this.#settings = settings;
    this.#estimate = settings.initialLimit;
    this.#limit = limitOf(this.#estimate, settings);
  }

  /** The current limit. */
  get limit(): number {
    return this.#limit;
  }

  /** The long-term RTT (ms; 0 before the first sample). */
  get longRtt(): number {
    return this.#longRtt;
  }

  /** New parameters and bounds; the limit (clamped) and the long-term RTT are kept. */
  configure(settings: Gradient2Settings): void {
    this.#settings = settings;
    this.#estimate = clampLimit(this.#estimate, settings);
    this.#limit = limitOf(this.#estimate, settings);
  }

  /** Feeds one sample; returns the new limit. */
  update(sample: LimitSample): number {
    const settings = this.#settings;
    const estimate = this.#estimate;
    const rtt = sample.rttMs;
    let gradient: number;
    if (sample.dropped) {
      gradient = 0.5;
    } else {
      if (!(rtt > 0)) return this.#limit;
      const longRtt = this.#average(rtt);
      if (longRtt / rtt > 2) this.#longRtt = longRtt * 0.95;
      // Do not grow a limit nobody uses.
      if (sample.inflight < estimate / 2) return this.#limit;
      gradient = Math.max(0.5, Math.min(1, (settings.tolerance * longRtt) / rtt));
    }
    const target = estimate * gradient + settings.queueSize;
    this.#estimate = clampLimit(estimate * (1 - settings.smoothing) + target * settings.smoothing, settings);
    this.#limit = limitOf(this.#estimate, settings);
    return this.#limit;
  }

  #average(rtt: number): number {
    if (this.#samples < WARMUP) {
      this.#samples += 1;
      this.#longRtt += (rtt - this.#longRtt) / this.#samples;
    } else {
      const factor = 2 / (this.#settings.longWindow + 1);
      this.#longRtt = this.#longRtt * (1 - factor) + rtt * factor;
    }
    return this.#longRtt;
  }
}
