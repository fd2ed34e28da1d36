/**
 * Runtime metrics of the Node.js process, sampled every interval on the injected clock:
 *
 * | metric | kind | unit | tags | source |
 * |---|---|---|---|---|
 * | `foundation.runtime.event_loop_delay` | last_value | ms | `stat`: `p50`, `p99`, `max`, `mean` | `monitorEventLoopDelay` over the last interval (reset each interval) |
 * | `foundation.runtime.event_loop_utilization` | last_value | ratio | | `performance.eventLoopUtilization` delta over the last interval |
 * | `foundation.runtime.heap_used`, `heap_total`, `rss`, `external` | last_value | bytes | | `process.memoryUsage()` |
 * | `foundation.runtime.gc_pause` | distribution | ms | `kind`: `minor`, `major`, `incremental`, `weakcb`, `unknown` | `PerformanceObserver` on `gc` entries |
 * | `foundation.runtime.active_handles` | last_value | | | `process.getActiveResourcesInfo().length` |
 *
 * The event-loop delay and utilization need one full interval before their first value.
 *
 * @module
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { IntervalHistogram, EventLoopUtilization } from 'node:perf_hooks';
import { FoundationError } from '../../errors/index.js';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { MetricDefinition } from '../types.js';
import type { BoundLastValue, Distribution, InstrumentOptions, LastValue } from '../metrics/instruments.js';
import type { MetricsRegistry } from '../metrics/registry.js';

/** Options of {@link RuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /** Timers for sampling. */
  readonly clock: Clock;
  /** Sampling interval, ms. Default 1000. */
  readonly intervalMs?: number;
}

/** The buckets of `foundation.runtime.gc_pause`, ms. */
export const GC_PAUSE_BUCKETS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000,
]);

/** Every runtime metric's definition (also declared by {@link RuntimeMetrics}' constructor). */
export const RUNTIME_METRICS: readonly MetricDefinition[] = Object.freeze([
  {
    name: 'foundation.runtime.event_loop_delay',
    kind: 'last_value',
    unit: 'ms',
    tags: ['stat'],
    description: 'Event-loop delay over the last sampling interval (stat: p50, p99, max, mean)',
  },
  {
    name: 'foundation.runtime.event_loop_utilization',
    kind: 'last_value',
    unit: 'ratio',
    description: 'Fraction of the last sampling interval the event loop was busy',
  },
  { name: 'foundation.runtime.heap_used', kind: 'last_value', unit: 'bytes', description: 'V8 heap used' },
  {
    name: 'foundation.runtime.heap_total',
    kind: 'last_value',
    unit: 'bytes',
    description: 'V8 heap allocated',
  },
  { name: 'foundation.runtime.rss', kind: 'last_value', unit: 'bytes', description: 'Resident set size' },
  {
    name: 'foundation.runtime.external',
    kind: 'last_value',
    unit: 'bytes',
    description: 'Memory of C++ objects bound to JavaScript objects (buffers included)',
  },
  {
    name: 'foundation.runtime.gc_pause',
    kind: 'distribution',
    unit: 'ms',
    tags: ['kind'],
    buckets: GC_PAUSE_BUCKETS,
    description: 'Garbage-collection pauses (kind: minor, major, incremental, weakcb)',
  },
  {
    name: 'foundation.runtime.active_handles',
    kind: 'last_value',
    description: 'Active resources keeping the event loop alive (handles and requests)',
  },
]);

const GC_KINDS: Readonly<Record<number, string>> = Object.freeze({
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
});

/** Nanoseconds per millisecond (the event-loop delay histogram counts in ns). */
const NS_PER_MS = 1e6;

interface Gauges {
  readonly delayP50: BoundLastValue;
  readonly delayP99: BoundLastValue;
  readonly delayMax: BoundLastValue;
  readonly delayMean: BoundLastValue;
  readonly utilization: BoundLastValue;
  readonly heapUsed: BoundLastValue;
  readonly heapTotal: BoundLastValue;
  readonly rss: BoundLastValue;
  readonly external: BoundLastValue;
  readonly activeHandles: BoundLastValue;
}

function definition(name: string): MetricDefinition {
  return RUNTIME_METRICS.find((d) => d.name === name) as MetricDefinition;
}

/** A definition's fields minus name and kind: the options of an instrument factory. */
function optionsOf(def: MetricDefinition): InstrumentOptions {
  return Object.fromEntries(Object.entries(def).filter(([key]) => key !== 'name' && key !== 'kind'));
}

function gauge(registry: MetricsRegistry, name: string): LastValue {
  return registry.lastValue(
    `foundation.runtime.${name}`,
    optionsOf(definition(`foundation.runtime.${name}`)),
  );
}

/**
 * Samples runtime metrics into a registry. The constructor declares the metrics; `start()` enables the
 * event-loop delay monitor and the GC observer and schedules sampling (an unref'ed timer on the clock);
 * `stop()` clears the timer and disconnects both.
 */
export class RuntimeMetrics {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #gauges: Gauges;
  readonly #gcPause: Distribution;
  #timer: TimerHandle | undefined;
  #delay: IntervalHistogram | undefined;
  #observer: PerformanceObserver | undefined;
  #elu: EventLoopUtilization | undefined;

  /** @param registry - where the metrics go; @param options - clock and interval. */
  constructor(registry: MetricsRegistry, options: RuntimeMetricsOptions) {
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs ?? 1000;
    if (!Number.isFinite(this.#intervalMs) || this.#intervalMs < 10) {
      throw new FoundationError('FND_DATA_INVALID_INPUT', {
        message: `RuntimeMetrics intervalMs must be a number ≥ 10, got ${String(this.#intervalMs)}`,
        context: { intervalMs: this.#intervalMs },
      });
    }
    const delay = gauge(registry, 'event_loop_delay');
    this.#gauges = {
      delayP50: delay.bind({ stat: 'p50' }),
      delayP99: delay.bind({ stat: 'p99' }),
      delayMax: delay.bind({ stat: 'max' }),
      delayMean: delay.bind({ stat: 'mean' }),
      utilization: gauge(registry, 'event_loop_utilization').bind(),
      heapUsed: gauge(registry, 'heap_used').bind(),
      heapTotal: gauge(registry, 'heap_total').bind(),
      rss: gauge(registry, 'rss').bind(),
      external: gauge(registry, 'external').bind(),
      activeHandles: gauge(registry, 'active_handles').bind(),
    };
    this.#gcPause = registry.distribution(
      'foundation.runtime.gc_pause',
      optionsOf(definition('foundation.runtime.gc_pause')),
    );
  }

  /** Whether sampling runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling (memory and handles at once; delay and utilization after the first interval). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
    const gcPause = this.#gcPause;
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as PerformanceEntry & { readonly detail?: { readonly kind?: number } }).detail;
        const kind = (detail?.kind !== undefined ? GC_KINDS[detail.kind] : undefined) ?? 'unknown';
        gcPause.observe(entry.duration, { kind });
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#sampleMemory();
    this.#schedule();
  }

  /** Stops sampling: clears the timer, disables the delay monitor, disconnects the GC observer. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#delay?.disable();
    this.#delay = undefined;
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#elu = undefined;
  }

  /** Takes one sample now (also done every interval while started). */
  sample(): void {
    this.#sampleMemory();
    const delay = this.#delay;
    if (delay !== undefined && delay.count > 0) {
      this.#gauges.delayP50.set(delay.percentile(50) / NS_PER_MS);
      this.#gauges.delayP99.set(delay.percentile(99) / NS_PER_MS);
      this.#gauges.delayMax.set(delay.max / NS_PER_MS);
      this.#gauges.delayMean.set(delay.mean / NS_PER_MS);
      delay.reset();
    }
    if (this.#elu !== undefined) {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, this.#elu);
      this.#elu = now;
      if (delta.idle + delta.active > 0) this.#gauges.utilization.set(delta.utilization);
    }
  }

  #sampleMemory(): void {
    const memory = process.memoryUsage();
    this.#gauges.heapUsed.set(memory.heapUsed);
    this.#gauges.heapTotal.set(memory.heapTotal);
    this.#gauges.rss.set(memory.rss);
    this.#gauges.external.set(memory.external);
    this.#gauges.activeHandles.set(process.getActiveResourcesInfo().length);
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#timer === undefined) return;
      this.sample();
      this.#schedule();
    }, this.#intervalMs);
  }
}
