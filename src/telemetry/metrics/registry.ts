/**
 * The metrics registry: one per foundation instance (there is no global registry). It holds declared
 * metrics, hands out instruments, feeds event-declared metrics from telemetry events and collects
 * {@link MetricsSnapshot}s for exporters.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock } from '../../kernel/clock.js';
import type { MetricDefinition, MetricKind, MetricSnapshot, MetricsSnapshot } from '../types.js';
import { normalizeDefinition, sameDefinition } from './definition.js';
import { attachEventFeeds } from './from-events.js';
import {
  counterInstrument,
  distributionInstrument,
  lastValueInstrument,
  sumInstrument,
  summaryInstrument,
  type Counter,
  type Distribution,
  type InstrumentOptions,
  type LastValue,
  type Sum,
  type Summary,
} from './instruments.js';
import { MetricState, type HistogramCell, type ScalarCell, type SketchCell } from './metric-state.js';

/** The counter of dropped observations (invalid values), tagged by metric name. */
export const DROPPED_METRIC = 'foundation.telemetry.dropped';

/** Options of {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Time for sliding windows, exemplars and snapshot times. */
  readonly clock: Clock;
}

/**
 * A registry of declared metrics.
 *
 * @example
 * ```ts
 * const metrics = new MetricsRegistry({ clock: systemClock });
 * const requests = metrics.counter('app.requests', { tags: ['route'] });
 * const home = requests.bind({ route: '/' }); // hot path: home.add()
 * metrics.define({ name: 'foundation.events.appended', kind: 'counter', event: 'events:appended' });
 * const detach = metrics.attachEvents();
 * const snapshot = metrics.collect();
 * ```
 */
export class MetricsRegistry {
  readonly #clock: Clock;
  readonly #metrics = new Map<string, MetricState>();
  readonly #defineListeners = new Set<(state: MetricState) => void>();
  readonly #dropped: MetricState<ScalarCell>;

  /** @param options - the clock. */
  constructor(options: MetricsRegistryOptions) {
    this.#clock = options.clock;
    const dropped = normalizeDefinition({
      name: DROPPED_METRIC,
      kind: 'counter',
      description:
        'Observations dropped because their value was invalid (non-finite, or negative for a counter)',
      tags: ['metric'],
    });
    // Dropping into the dropped counter itself cannot happen (it only ever adds 1).
    this.#dropped = new MetricState<ScalarCell>(dropped, this.#clock, () => undefined);
    this.#metrics.set(DROPPED_METRIC, this.#dropped);
  }

  /**
   * Declares a metric. Defining the same name again with an equal definition (after defaults) is a no-op;
   * a different one is refused.
   *
   * @throws FoundationError `FND_TELEMETRY_INVALID_METRIC` for an invalid definition or a conflicting one.
   */
  define(definition: MetricDefinition): void {
    this.#define(definition);
  }

  #define(definition: MetricDefinition): MetricState {
    const normalized = normalizeDefinition(definition);
    const existing = this.#metrics.get(normalized.name);
    if (existing !== undefined) {
      if (!sameDefinition(existing.definition, normalized)) {
        throw new FoundationError('FND_TELEMETRY_INVALID_METRIC', {
          message: `Metric "${normalized.name}" is already defined differently`,
          context: { metric: normalized.name, kind: normalized.kind, existingKind: existing.definition.kind },
        });
      }
      return existing;
    }
    const name = normalized.name;
    const state = new MetricState(normalized, this.#clock, () => {
      this.#dropped.record(1, { metric: name }, undefined);
    });
    this.#metrics.set(name, state);
    for (const listener of this.#defineListeners) listener(state);
    return state;
  }

  #instrument(name: string, kind: MetricKind, options: InstrumentOptions | undefined): MetricState {
    const { exemplars, ...rest } = options ?? {};
    const state = this.#define({ ...rest, name, kind });
    if (exemplars === true) state.exemplars = true;
    return state;
  }

  /** Defines (or finds) a counter and returns its instrument. */
  counter(name: string, options?: InstrumentOptions): Counter {
    return counterInstrument(this.#instrument(name, 'counter', options) as MetricState<ScalarCell>);
  }

  /** Defines (or finds) a sum and returns its instrument. */
  sum(name: string, options?: InstrumentOptions): Sum {
    return sumInstrument(this.#instrument(name, 'sum', options) as MetricState<ScalarCell>);
  }

  /** Defines (or finds) a last value and returns its instrument. */
  lastValue(name: string, options?: InstrumentOptions): LastValue {
    return lastValueInstrument(this.#instrument(name, 'last_value', options) as MetricState<ScalarCell>);
  }

  /** Defines (or finds) a summary (sliding-window quantiles) and returns its instrument. */
  summary(name: string, options?: InstrumentOptions): Summary {
    return summaryInstrument(this.#instrument(name, 'summary', options) as MetricState<SketchCell>);
  }

  /** Defines (or finds) a distribution (`buckets` required) and returns its instrument. */
  distribution(name: string, options?: InstrumentOptions): Distribution {
    return distributionInstrument(
      this.#instrument(name, 'distribution', options) as MetricState<HistogramCell>,
    );
  }

  /** Every metric's normalized definition, in definition order (the dropped counter first). */
  definitions(): MetricDefinition[] {
    return [...this.#metrics.values()].map((state) => state.definition);
  }

  /** One metric's snapshot now, or `undefined` when no metric has that name. */
  metric(name: string): MetricSnapshot | undefined {
    return this.#metrics.get(name)?.snapshot();
  }

  /** A snapshot of every metric now (definition order; a tagged metric has no series until observed). */
  collect(): MetricsSnapshot {
    const metrics: MetricSnapshot[] = [];
    for (const state of this.#metrics.values()) metrics.push(state.snapshot());
    return { time: this.#clock.now(), metrics };
  }

  /**
   * Feeds every metric declared with an `event` from that telemetry event (and those declared later, while
   * attached). Returns a function that detaches them all. See `from-events.ts` for how messages map to
   * observations.
   */
  attachEvents(): () => void {
    return attachEventFeeds({
      states: () => [...this.#metrics.values()],
      onDefine: (listener) => {
        this.#defineListeners.add(listener);
        return () => {
          this.#defineListeners.delete(listener);
        };
      },
    });
  }
}
