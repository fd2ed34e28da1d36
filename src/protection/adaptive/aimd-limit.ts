/**
 * AIMD (additive increase, multiplicative decrease), as Netflix concurrency-limits' `AIMDLimit`: a call that
 * finished under the latency threshold raises the limit by one — only while the limit is being used (at least
 * half of it in flight), so an idle service does not inflate it — and a dropped or slow call multiplies it by
 * `backoffRatio`.
 *
 * @module
 */
import { limitOf, type LimitAlgorithm, type LimitBounds, type LimitSample } from './limit-algorithm.js';

/** AIMD parameters (all optional). */
export interface AimdParams {
  /** A call slower than this (ms) is an overload signal, like a drop. Default 1000. */
  readonly latencyThresholdMs?: number;
  /** Factor applied to the limit on a drop or a slow call, in `[0.5, 1)`. Default 0.9. */
  readonly backoffRatio?: number;
}

/** The defaults of {@link AimdParams}. */
export const AIMD_DEFAULTS = { latencyThresholdMs: 1000, backoffRatio: 0.9 } as const;

/** Everything an {@link AimdLimit} needs: bounds, the starting limit and resolved parameters. */
export interface AimdSettings extends LimitBounds, Required<AimdParams> {
  /** The limit before any sample (an integer within the bounds; option `initialLimit`, default 20). */
  readonly initialLimit: number;
}

/** The AIMD limit algorithm. Options are assumed valid (see `validateAdaptiveOptions`). */
export class AimdLimit implements LimitAlgorithm {
  /** Always `aimd`: the algorithm's name, as in the options. */
  readonly name = 'aimd';
  #settings: AimdSettings;
  #estimate: number;
  #limit: number;

  constructor(settings: AimdSettings) {
    this.#settings = settings;
    this.#estimate = settings.initialLimit;
    this.#limit = limitOf(this.#estimate, settings);
  }

  /** The current limit. */
  get limit(): number {
    return this.#limit;
  }

  /** New parameters and bounds; the current limit is kept (clamped into the new bounds). */
  configure(settings: AimdSettings): void {
    this.#settings = settings;
    this.#estimate = limitOf(this.#estimate, settings);
    this.#limit = this.#estimate;
  }

  /** Feeds one sample; returns the new limit. */
  update(sample: LimitSample): number {
    const settings = this.#settings;
    let estimate = this.#estimate;
    if (sample.dropped || sample.rttMs > settings.latencyThresholdMs) {
      estimate = Math.floor(estimate * settings.backoffRatio);
    } else if (sample.inflight * 2 >= estimate) {
      estimate += 1;
    } else {
      return this.#limit;
    }
    this.#limit = limitOf(estimate, settings);
    this.#estimate = this.#limit;
    return this.#limit;
  }
}
