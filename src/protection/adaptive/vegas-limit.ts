/**
 * Vegas, as Netflix concurrency-limits' `VegasLimit` (after TCP Vegas): the lowest RTT seen is taken as the
 * no-load RTT, and each sample estimates the queue the limit builds at the dependency,
 * `queue = ceil(limit × (1 − rttNoLoad / rtt))`. A queue at most `threshold` grows the limit fast (by `beta`),
 * below `alpha` slowly, above `beta` it shrinks; between `alpha` and `beta` it holds. Thresholds scale with
 * `log10(limit)` (at least 1, so small limits still move). A drop always shrinks the limit.
 *
 * Every `probeMultiplier × limit` calls (jittered by [0.5, 1)) the no-load RTT is measured again, so it can
 * follow a dependency whose base latency changed. Deviation from Netflix, which takes the next sample's RTT as
 * it comes — under sustained overload that RTT includes the queue, and the limit then ratchets up and stays
 * high: the limit drops to `probeLimit` (at least `minLimit`) until a sample admitted at that concurrency
 * arrives, whose RTT becomes the no-load RTT, and then returns to where it was (Envoy samples its minRTT the
 * same way).
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

/** Vegas parameters (all optional). `alpha`, `beta` and `threshold` are multiples of `log10(limit)`. */
export interface VegasParams {
  /** Below this estimated queue the limit grows by `log10(limit)`. Default 3. */
  readonly alpha?: number;
  /** Above this estimated queue the limit shrinks by `log10(limit)`; at most `threshold`, it grows by this. Default 6. */
  readonly beta?: number;
  /** At most this estimated queue, the limit grows by `beta`. Default 1. */
  readonly threshold?: number;
  /** Weight of the new limit against the old, in `(0, 1]`. Default 1 (no smoothing). */
  readonly smoothing?: number;
  /** The no-load RTT is re-probed every `probeMultiplier × limit` calls (jittered). Default 30. */
  readonly probeMultiplier?: number;
  /** The concurrency at which the no-load RTT is probed. Default 3. */
  readonly probeLimit?: number;
}

/** The defaults of {@link VegasParams}. */
export const VEGAS_DEFAULTS = {
  alpha: 3,
  beta: 6,
  threshold: 1,
  smoothing: 1,
  probeMultiplier: 30,
  probeLimit: 3,
} as const;

/** Everything a {@link VegasLimit} needs: bounds, the starting limit, resolved parameters, a random source. */
export interface VegasSettings extends LimitBounds, Required<VegasParams> {
  /** The limit before any sample (an integer within the bounds; option `initialLimit`, default 20). */
  readonly initialLimit: number;
  /** Uniform in [0, 1), for the probe jitter. */
  readonly random: () => number;
}

/** `log10(limit)`, at least 1. */
function log10(limit: number): number {
  return limit <= 10 ? 1 : Math.log10(limit);
}

/** The Vegas limit algorithm. Options are assumed valid (see `validateAdaptiveOptions`). */
export class VegasLimit implements LimitAlgorithm {
  /** Always `vegas`: the algorithm's name, as in the options. */
  readonly name = 'vegas';
  #settings: VegasSettings;
  #estimate: number;
  #limit: number;
  /** The lowest RTT since the last probe; 0 before the first sample. */
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;
  /** While probing: the limit lent to the probe (the estimate is kept aside). */
  #probing = 0;

  constructor(settings: VegasSettings) {
    this.#settings = settings;
    this.#estimate = settings.initialLimit;
    this.#limit = limitOf(this.#estimate, settings);
    this.#probeJitter = 0.5 + settings.random() / 2;
  }

  /** The current limit. */
  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT in use (ms; 0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad;
  }

  /** New parameters and bounds; the limit (clamped) and the no-load RTT are kept. */
  configure(settings: VegasSettings): void {
    this.#settings = settings;
    this.#estimate = clampLimit(this.#estimate, settings);
    if (this.#probing > 0) this.#probing = limitOf(Math.min(this.#estimate, settings.probeLimit), settings);
    this.#limit = this.#probing > 0 ? this.#probing : limitOf(this.#estimate, settings);
  }

  /** Whether the no-load RTT is being probed (the limit is lowered to the probe's meanwhile). */
  get probing(): boolean {
    return this.#probing > 0;
  }

  /** Feeds one sample; returns the new limit. */
  update(sample: LimitSample): number {
    const settings = this.#settings;
    const estimate = this.#estimate;
    const rtt = sample.rttMs;
    if (this.#probing > 0) {
      // Only a call admitted at the probe's concurrency measures the no-load RTT.
      if (sample.inflight > this.#probing || sample.dropped || !(rtt > 0)) return this.#limit;
      this.#probing = 0;
      this.#rttNoLoad = rtt;
      this.#limit = limitOf(estimate, settings);
      return this.#limit;
    }
    this.#probeCount += sample.calls ?? 1;
    if (this.#probeCount >= this.#probeJitter * settings.probeMultiplier * estimate) {
      this.#probeCount = 0;
      this.#probeJitter = 0.5 + settings.random() / 2;
      this.#probing = limitOf(Math.min(estimate, settings.probeLimit), settings);
      this.#limit = this.#probing;
      return this.#limit;
    }
    let target: number;
    const step = log10(estimate);
    if (sample.dropped) {
      target = estimate - step;
    } else {
      if (!(rtt > 0)) return this.#limit;
      if (this.#rttNoLoad === 0 || rtt < this.#rttNoLoad) {
        this.#rttNoLoad = rtt;
        return this.#limit;
      }
      // Do not grow a limit nobody uses.
      if (sample.inflight * 2 < estimate) return this.#limit;
      const queue = Math.ceil(estimate * (1 - this.#rttNoLoad / rtt));
      if (queue <= settings.threshold * step) target = estimate + settings.beta * step;
      else if (queue < settings.alpha * step) target = estimate + step;
      else if (queue > settings.beta * step) target = estimate - step;
      else return this.#limit;
    }
    target = clampLimit(target, settings);
    this.#estimate = clampLimit((1 - settings.smoothing) * estimate + settings.smoothing * target, settings);
    this.#limit = limitOf(this.#estimate, settings);
    return this.#limit;
  }
}
