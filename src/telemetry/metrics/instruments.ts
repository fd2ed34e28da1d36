/**
 * Instruments: the direct API of declared metrics. Each has an unbound form (`add(value, tags)`: computes
 * the series key from the tags on every call) and a bound form (`bind(tags)`: resolves the series once, so
 * the hot path is one field update or one sketch/histogram add).
 *
 * Invalid values (non-finite; negative for a counter) are never thrown on the hot path: they are dropped
 * and counted in the registry's `foundation.telemetry.dropped` counter.
 *
 * @module
 */
import { currentCorrelationId } from '../../errors/index.js';
import type { MetricDefinition, Tags } from '../types.js';
import type { HistogramCell, MetricState, ScalarCell, SketchCell } from './metric-state.js';

/** Options of the instrument factories: the definition minus name and kind, plus instrument options. */
export interface InstrumentOptions extends Omit<MetricDefinition, 'name' | 'kind'> {
  /**
   * Keep, per series, the latest observation made inside a context with a correlation id (exported as an
   * OpenMetrics exemplar). Off by default: it reads the async context on every observation (measured at
   * tens of ns). Enabling it on any factory call enables it for the metric.
   */
  readonly exemplars?: boolean;
}

/** A counter bound to one series. */
export interface BoundCounter {
  /** Adds `value` (default 1; finite and ≥ 0, else dropped and counted). */
  add(value?: number): void;
}

/** A counter: counts observations. */
export interface Counter {
  /** The metric's dotted name. */
  readonly name: string;
  /** Adds `value` (default 1; finite and ≥ 0, else dropped and counted) to the series of `tags`. */
  add(value?: number, tags?: Tags): void;
  /** The series of `tags`, resolved once. */
  bind(tags?: Tags): BoundCounter;
}

/** A sum bound to one series. */
export interface BoundSum {
  /** Adds `value` (finite, may be negative; else dropped and counted). */
  add(value: number): void;
}

/** A sum: adds observed values (may go down). */
export interface Sum {
  /** The metric's dotted name. */
  readonly name: string;
  /** Adds `value` (finite, may be negative; else dropped and counted) to the series of `tags`. */
  add(value: number, tags?: Tags): void;
  /** The series of `tags`, resolved once. */
  bind(tags?: Tags): BoundSum;
}

/** A last value bound to one series. */
export interface BoundLastValue {
  /** Sets the value (finite, else dropped and counted). */
  set(value: number): void;
}

/** A last value (gauge). */
export interface LastValue {
  /** The metric's dotted name. */
  readonly name: string;
  /** Sets the value of the series of `tags` (finite, else dropped and counted). */
  set(value: number, tags?: Tags): void;
  /** The series of `tags`, resolved once. */
  bind(tags?: Tags): BoundLastValue;
}

/** A summary or distribution bound to one series. */
export interface BoundObserver {
  /** Observes `value` (finite, else dropped and counted). */
  observe(value: number): void;
}

/** A summary (sliding-window quantiles) or a distribution (bucket histogram). */
export interface Observer {
  /** The metric's dotted name. */
  readonly name: string;
  /** Observes `value` (finite, else dropped and counted) in the series of `tags`. */
  observe(value: number, tags?: Tags): void;
  /** The series of `tags`, resolved once. */
  bind(tags?: Tags): BoundObserver;
}

/** A summary: quantiles over a sliding window. */
export type Summary = Observer;

/** A distribution: a histogram with explicit buckets. */
export type Distribution = Observer;

class BoundCounterImpl implements BoundCounter {
  readonly #cell: ScalarCell;
  readonly #state: MetricState<ScalarCell>;
  /** True for the overflow series (observations count as overflowed). */
  readonly #overflow: boolean;

  constructor(state: MetricState<ScalarCell>, tags: Tags | undefined) {
    const resolved = state.resolve(tags);
    this.#cell = resolved.cell;
    this.#state = state;
    this.#overflow = resolved.overflow;
  }

  add(value = 1): void {
    if (typeof value === 'number' && value >= 0 && value < Infinity) {
      this.#cell.value += value;
      if (this.#overflow || this.#state.exemplars) this.#extra(value);
    } else {
      this.#state.drop();
    }
  }

  #extra(value: number): void {
    if (this.#overflow) this.#state.overflowed += 1;
    if (this.#state.exemplars) this.#state.exemplar(this.#cell, value, currentCorrelationId());
  }
}

/** Shared parts of the bound sum, last value and observers: finite values only. */
abstract class BoundFinite<C extends ScalarCell | SketchCell | HistogramCell> {
  protected readonly cell: C;
  protected readonly state: MetricState<C>;
  /** True for the overflow series (observations count as overflowed). */
  protected readonly overflow: boolean;

  constructor(state: MetricState<C>, tags: Tags | undefined) {
    const resolved = state.resolve(tags);
    this.cell = resolved.cell;
    this.state = state;
    this.overflow = resolved.overflow;
  }

  /** Overflow counting and exemplars: off the common path. */
  protected extra(value: number): void {
    if (this.overflow) this.state.overflowed += 1;
    if (this.state.exemplars) this.state.exemplar(this.cell, value, currentCorrelationId());
  }
}

class BoundSumImpl extends BoundFinite<ScalarCell> implements BoundSum {
  add(value: number): void {
    if (typeof value === 'number' && value - value === 0) {
      this.cell.value += value;
      if (this.overflow || this.state.exemplars) this.extra(value);
    } else {
      this.state.drop();
    }
  }
}

class BoundLastValueImpl extends BoundFinite<ScalarCell> implements BoundLastValue {
  set(value: number): void {
    if (typeof value === 'number' && value - value === 0) {
      this.cell.value = value;
      if (this.overflow || this.state.exemplars) this.extra(value);
    } else {
      this.state.drop();
    }
  }
}

class BoundSketchImpl extends BoundFinite<SketchCell> implements BoundObserver {
  observe(value: number): void {
    if (typeof value === 'number' && value - value === 0) {
      this.cell.sketch.add(value);
      if (this.overflow || this.state.exemplars) this.extra(value);
    } else {
      this.state.drop();
    }
  }
}

class BoundHistogramImpl extends BoundFinite<HistogramCell> implements BoundObserver {
  observe(value: number): void {
    if (typeof value === 'number' && value - value === 0) {
      this.cell.histogram.observe(value);
      if (this.overflow || this.state.exemplars) this.extra(value);
    } else {
      this.state.drop();
    }
  }
}

function correlation(state: MetricState): string | undefined {
  return state.exemplars ? currentCorrelationId() : undefined;
}

/** The counter instrument over `state`. */
export function counterInstrument(state: MetricState<ScalarCell>): Counter {
  const name = state.definition.name;
  return {
    name,
    add(value = 1, tags?: Tags): void {
      state.record(value, tags, correlation(state));
    },
    bind: (tags?: Tags) => new BoundCounterImpl(state, tags),
  };
}

/** The sum instrument over `state`. */
export function sumInstrument(state: MetricState<ScalarCell>): Sum {
  return {
    name: state.definition.name,
    add(value: number, tags?: Tags): void {
      state.record(value, tags, correlation(state));
    },
    bind: (tags?: Tags) => new BoundSumImpl(state, tags),
  };
}

/** The last-value instrument over `state`. */
export function lastValueInstrument(state: MetricState<ScalarCell>): LastValue {
  return {
    name: state.definition.name,
    set(value: number, tags?: Tags): void {
      state.record(value, tags, correlation(state));
    },
    bind: (tags?: Tags) => new BoundLastValueImpl(state, tags),
  };
}

/** The summary instrument over `state`. */
export function summaryInstrument(state: MetricState<SketchCell>): Summary {
  return {
    name: state.definition.name,
    observe(value: number, tags?: Tags): void {
      state.record(value, tags, correlation(state));
    },
    bind: (tags?: Tags) => new BoundSketchImpl(state, tags),
  };
}

/** The distribution instrument over `state`. */
export function distributionInstrument(state: MetricState<HistogramCell>): Distribution {
  return {
    name: state.definition.name,
    observe(value: number, tags?: Tags): void {
      state.record(value, tags, correlation(state));
    },
    bind: (tags?: Tags) => new BoundHistogramImpl(state, tags),
  };
}
