/**
 * The state of one metric in a registry: its series (one cell per tag combination), the cardinality guard
 * and the snapshot of its series.
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import { BucketHistogram } from '../model/histogram.js';
import { SlidingWindowSketch } from '../model/sliding-window.js';
import {
  OVERFLOW_TAG_VALUE,
  type MetricDefinition,
  type MetricSnapshot,
  type SeriesSnapshot,
  type SeriesValue,
  type Tags,
} from '../types.js';
import { normalizedTags, seriesKey, uniformKey, type TagInput } from './tags.js';

/** The latest observation made inside a context with a correlation id. */
export interface Exemplar {
  readonly value: number;
  readonly correlationId: string;
  readonly time: number;
}

/** A counter, sum or last-value series: one number. */
export class ScalarCell {
  /** The latest exemplar, when exemplars are on. */
  exemplar: Exemplar | undefined = undefined;
  /** The series' normalized tags. */
  readonly tags: Tags;
  /** The counter's count, the sum, or the last value (`NaN` until a last value is set: left out of snapshots). */
  value: number;
  /** @param tags - the series' normalized tags; @param value - its initial value. */
  constructor(tags: Tags, value: number) {
    this.tags = tags;
    this.value = value;
  }
}

/** A summary series: a sliding-window sketch. */
export class SketchCell {
  /** The latest exemplar, when exemplars are on. */
  exemplar: Exemplar | undefined = undefined;
  /** The series' normalized tags. */
  readonly tags: Tags;
  /** The series' window. */
  readonly sketch: SlidingWindowSketch;
  /** @param tags - the series' normalized tags; @param sketch - its window. */
  constructor(tags: Tags, sketch: SlidingWindowSketch) {
    this.tags = tags;
    this.sketch = sketch;
  }
}

/** A distribution series: a bucket histogram. */
export class HistogramCell {
  /** The latest exemplar, when exemplars are on. */
  exemplar: Exemplar | undefined = undefined;
  /** The series' normalized tags. */
  readonly tags: Tags;
  /** The series' buckets. */
  readonly histogram: BucketHistogram;
  /** @param tags - the series' normalized tags; @param histogram - its buckets. */
  constructor(tags: Tags, histogram: BucketHistogram) {
    this.tags = tags;
    this.histogram = histogram;
  }
}

/** Any series cell. */
export type Cell = ScalarCell | SketchCell | HistogramCell;

/** A series resolved by {@link MetricState.resolve}: its cell, and whether it is the overflow series. */
export interface ResolvedSeries<C extends Cell> {
  readonly cell: C;
  /** True when the tags were new and past the cardinality limit (observations count as overflowed). */
  readonly overflow: boolean;
}

const NO_TAGS: Tags = Object.freeze({});

function cellFactory(definition: MetricDefinition, clock: Clock): (tags: Tags) => Cell {
  switch (definition.kind) {
    case 'summary': {
      const options = {
        windowMs: definition.windowMs as number,
        buckets: definition.windowBuckets as number,
        relativeAccuracy: definition.relativeAccuracy as number,
        now: () => clock.now(),
      };
      return (tags) => new SketchCell(tags, new SlidingWindowSketch(options));
    }
    case 'distribution': {
      const bounds = definition.buckets as readonly number[];
      return (tags) => new HistogramCell(tags, new BucketHistogram(bounds));
    }
    case 'last_value':
      return (tags) => new ScalarCell(tags, Number.NaN);
    default:
      return (tags) => new ScalarCell(tags, 0);
  }
}

/**
 * One metric's series. Tag combinations map to cells; once `maxSeries` series exist, a new combination goes
 * to the one overflow series (every tag `other`, created past the limit: at most `maxSeries + 1` series)
 * and each such observation is counted in {@link MetricState.overflowed}.
 */
export class MetricState<C extends Cell = Cell> {
  /** Observations routed to the overflow series by the cardinality guard. */
  overflowed = 0;
  /** Whether observations keep an exemplar (latest value with a correlation id) per series. */
  exemplars = false;
  /** Series by key (tag values in definition order). */
  readonly series = new Map<string, C>();
  readonly #tagNames: readonly string[];
  readonly #maxSeries: number;
  readonly #create: (tags: Tags) => C;
  readonly #clock: Clock;
  /** The only series of a metric without tags. */
  readonly #only: C | undefined;

  /** The normalized definition. */
  readonly definition: MetricDefinition;
  /** Called for every observation dropped because its value is invalid. */
  readonly drop: () => void;

  /**
   * @param definition - the normalized definition.
   * @param clock - time for sliding windows and exemplars.
   * @param drop - called for every observation dropped because its value is invalid.
   */
  constructor(definition: MetricDefinition, clock: Clock, drop: () => void) {
    this.definition = definition;
    this.drop = drop;
    this.#tagNames = definition.tags ?? [];
    this.#maxSeries = definition.maxSeries ?? 1000;
    this.#clock = clock;
    this.#create = cellFactory(definition, clock) as (tags: Tags) => C;
    if (this.#tagNames.length === 0) {
      // A metric without tags has exactly one series, present from the start (a counter reads 0; a last
      // value shows once set).
      this.#only = this.#create(NO_TAGS);
      this.series.set('', this.#only);
    }
  }

  /** The cell for `tags`, counting an overflowed observation when the guard sends it to the overflow series. */
  cellFor(tags: TagInput | undefined): C {
    if (this.#only !== undefined) return this.#only;
    const key = seriesKey(this.#tagNames, tags ?? NO_TAGS);
    const cell = this.series.get(key);
    if (cell !== undefined) return cell;
    const resolved = this.#add(key, tags ?? NO_TAGS);
    if (resolved.overflow) this.overflowed += 1;
    return resolved.cell;
  }

  /** Resolves the series of `tags` once (for bound instruments); creates it if needed. */
  resolve(tags: TagInput | undefined): ResolvedSeries<C> {
    if (this.#only !== undefined) return { cell: this.#only, overflow: false };
    const key = seriesKey(this.#tagNames, tags ?? NO_TAGS);
    const cell = this.series.get(key);
    return cell !== undefined ? { cell, overflow: false } : this.#add(key, tags ?? NO_TAGS);
  }

  #add(key: string, tags: TagInput): ResolvedSeries<C> {
    if (this.series.size < this.#maxSeries) {
      const cell = this.#create(normalizedTags(this.#tagNames, tags));
      this.series.set(key, cell);
      return { cell, overflow: false };
    }
    const overflowKey = uniformKey(this.#tagNames, OVERFLOW_TAG_VALUE);
    let cell = this.series.get(overflowKey);
    if (cell === undefined) {
      const all: Record<string, string> = {};
      for (const name of this.#tagNames) all[name] = OVERFLOW_TAG_VALUE;
      cell = this.#create(Object.freeze(all));
      this.series.set(overflowKey, cell);
    }
    return { cell, overflow: true };
  }

  /** Stores an exemplar on `cell` when the current context has a correlation id. */
  exemplar(cell: C, value: number, correlationId: string | undefined): void {
    if (correlationId !== undefined) cell.exemplar = { value, correlationId, time: this.#clock.now() };
  }

  /**
   * Records one observation (the unbound and event-fed path): checks the value (counters: finite and ≥ 0;
   * others: finite — else dropped and counted), finds the series and applies it.
   */
  record(value: number, tags: TagInput | undefined, correlationId: string | undefined): void {
    const kind = this.definition.kind;
    if (typeof value !== 'number' || !Number.isFinite(value) || (kind === 'counter' && value < 0)) {
      this.drop();
      return;
    }
    const cell = this.cellFor(tags);
    switch (kind) {
      case 'counter':
      case 'sum':
        (cell as ScalarCell).value += value;
        break;
      case 'last_value':
        (cell as ScalarCell).value = value;
        break;
      case 'summary':
        (cell as SketchCell).sketch.add(value);
        break;
      case 'distribution':
        (cell as HistogramCell).histogram.observe(value);
        break;
    }
    if (this.exemplars && correlationId !== undefined) this.exemplar(cell, value, correlationId);
  }

  /** The metric's snapshot now. */
  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const cell of this.series.values()) {
      if (cell instanceof ScalarCell && Number.isNaN(cell.value)) continue;
      const value = this.#value(cell);
      series.push(
        cell.exemplar === undefined
          ? { tags: cell.tags, value }
          : { tags: cell.tags, value, exemplar: cell.exemplar },
      );
    }
    return { definition: this.definition, series, overflowed: this.overflowed };
  }

  #value(cell: Cell): SeriesValue {
    const kind = this.definition.kind;
    if (cell instanceof SketchCell) {
      const quantiles = this.definition.quantiles ?? [];
      const values = cell.sketch.quantiles(quantiles);
      return {
        kind: 'summary',
        count: cell.sketch.count(),
        sum: cell.sketch.sum(),
        quantiles: quantiles.map((q, i) => [q, values[i] ?? Number.NaN] as const),
      };
    }
    if (cell instanceof HistogramCell) {
      const { count, sum, buckets } = cell.histogram.snapshot();
      return { kind: 'distribution', count, sum, buckets };
    }
    return { kind: kind as 'counter' | 'sum' | 'last_value', value: cell.value };
  }
}
