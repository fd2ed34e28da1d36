/**
 * The adaptive concurrency layer: admits a call while fewer than `limit` calls are in flight (else it waits in
 * a small FIFO queue, or is refused with `FND_PROTECT_LIMIT_EXCEEDED`), measures each call's latency on the
 * pipeline's clock and feeds it to a limit algorithm (Vegas by default, Gradient2 or AIMD) that moves the limit
 * to the concurrency the dependency can take. Timeouts and refusals by inner layers are drops; the caller's
 * cancellations and the function's own errors give no sample. No timer; a queued call reads its signal (to
 * leave the queue when aborted), an admitted one never does.
 *
 * @module
 */
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { CallState } from '../call-state.js';
import { isRejection, rejection } from '../errors.js';
import type { Layer, LayerStatus } from '../types.js';
import { SampleWindow } from './sample-window.js';
import {
  createLimitAlgorithm,
  validateAdaptiveOptions,
  type AdaptiveAlgorithm,
  type AdaptiveOptions,
  type ConfigurableLimit,
  type ResolvedAdaptiveOptions,
} from './adaptive-options.js';

/** The live state of an adaptive layer. */
export interface AdaptiveStatus extends LayerStatus {
  /** Always `adaptive`: tells this status from the other layers' in a policy's status list. */
  readonly kind: 'adaptive';
  /** The limit algorithm in use (`vegas`, `gradient2` or `aimd`). */
  readonly algorithm: AdaptiveAlgorithm;
  /** The current concurrency limit: how many calls may be in flight at once. */
  readonly limit: number;
  /** Calls admitted and not yet settled. */
  readonly inflight: number;
  /** Calls waiting in the FIFO queue for a slot. */
  readonly queued: number;
  /** The lowest the limit may go (option `minLimit`, default 1). */
  readonly minLimit: number;
  /** The highest the limit may go (option `maxLimit`, default 200). */
  readonly maxLimit: number;
  /** How many calls may wait for a slot before new ones are refused (option `maxQueue`, default 0). */
  readonly maxQueue: number;
}

/** An adaptive concurrency layer. */
export interface AdaptiveLayer extends Layer {
  /** Always `adaptive`: the layer's kind in the pipeline order. */
  readonly kind: 'adaptive';
  /** The current concurrency limit. */
  readonly limit: number;
  /** Calls admitted and not yet settled. */
  readonly inflight: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /**
   * Changes the options at run time: in-flight and queued calls are kept; the limit learnt so far is kept
   * (clamped into the new bounds), even when the algorithm changes (its RTT history then starts afresh).
   */
  configure(options: AdaptiveOptions): void;
  /** The live state: algorithm, limit, in-flight and queued calls, and the configured bounds. */
  status(): AdaptiveStatus;
}

interface Waiter {
  readonly call: CallState;
  readonly next: (call: CallState) => Promise<unknown>;
  readonly resolve: (value: Promise<unknown>) => void;
  readonly reject: (reason: unknown) => void;
  readonly onAbort: () => void;
}

const limitChanged = telemetryEvent('protection:limit_changed');
const rejected = telemetryEvent('protection:rejected');

/** The default drop test: a protection refusal or timeout, not the caller's cancellation. */
function defaultIsDrop(error: unknown): boolean {
  return isRejection(error) && error.code !== 'FND_PROTECT_CANCELLED';
}

class AdaptiveLimiterLayer implements AdaptiveLayer {
  readonly kind = 'adaptive' as const;
  #options: ResolvedAdaptiveOptions;
  #algorithm: ConfigurableLimit;
  #isDrop: (error: unknown) => boolean;
  #limit: number;
  #inflight = 0;
  readonly #queue: Waiter[] = [];
  readonly #window = new SampleWindow();
  /** The policy of the last call seen, for telemetry of changes made by `configure`. */
  #policy = '';

  constructor(options: AdaptiveOptions) {
    this.#options = validateAdaptiveOptions(options);
    this.#algorithm = createLimitAlgorithm(this.#options);
    this.#isDrop = this.#options.isDrop ?? defaultIsDrop;
    this.#limit = this.#algorithm.limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get inflight(): number {
    return this.#inflight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    if (call.aborted) return Promise.reject(call.reason ?? new Error('aborted'));
    this.#policy = call.runtime.policy;
    if (this.#inflight < this.#limit && this.#queue.length === 0) return this.#admit(call, next);
    return this.#enqueue(call, next);
  }

  configure(options: AdaptiveOptions): void {
    const resolved = validateAdaptiveOptions(options);
    if (resolved.algorithm === this.#options.algorithm) this.#algorithm.configure(resolved.settings);
    else this.#algorithm = createLimitAlgorithm(resolved, this.#limit);
    this.#options = resolved;
    this.#isDrop = resolved.isDrop ?? defaultIsDrop;
    this.#setLimit(this.#algorithm.limit, this.#policy);
    this.#drain();
  }

  status(): AdaptiveStatus {
    const options = this.#options;
    return {
      kind: 'adaptive',
      algorithm: options.algorithm,
      limit: this.#limit,
      inflight: this.#inflight,
      queued: this.#queue.length,
      minLimit: options.minLimit,
      maxLimit: options.maxLimit,
      maxQueue: options.maxQueue,
    };
  }

  async #admit<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    const inflight = ++this.#inflight;
    const clock = call.runtime.clock;
    const start = clock.monotonic();
    let value: T;
    try {
      value = await next(call);
    } catch (error) {
      if (this.#isDrop(error)) this.#sample(call, clock.monotonic() - start, inflight, true);
      this.#release();
      throw error;
    }
    // A call whose deadline passed (aborted from outside) and that answered late is still a drop.
    const reason = call.aborted ? call.reason : undefined;
    if (reason === undefined) this.#sample(call, clock.monotonic() - start, inflight, false);
    else if (this.#isDrop(reason)) this.#sample(call, clock.monotonic() - start, inflight, true);
    this.#release();
    return value;
  }

  #sample(call: CallState, rttMs: number, inflight: number, dropped: boolean): void {
    const sample = { rttMs, inflight, dropped };
    const size = this.#options.windowSamples ?? this.#limit;
    const aggregate = size <= 1 ? sample : this.#window.add(sample, size);
    if (aggregate === undefined) return;
    const limit = this.#algorithm.update(aggregate);
    if (limit !== this.#limit) this.#setLimit(limit, call.runtime.policy);
  }

  #setLimit(limit: number, policy: string): void {
    if (limit === this.#limit) return;
    this.#limit = limit;
    if (limitChanged.hasSubscribers) limitChanged.emit({ limit }, { policy });
  }

  #release(): void {
    this.#inflight -= 1;
    if (this.#queue.length > 0) this.#drain();
  }

  #drain(): void {
    const queue = this.#queue;
    while (queue.length > 0 && this.#inflight < this.#limit) {
      const waiter = queue.shift() as Waiter;
      waiter.call.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.#admit(waiter.call, waiter.next));
    }
  }

  #enqueue<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    const policy = call.runtime.policy;
    if (this.#queue.length >= this.#options.maxQueue) {
      if (rejected.hasSubscribers) {
        rejected.emit({ count: 1 }, { policy, layer: 'adaptive', code: 'FND_PROTECT_LIMIT_EXCEEDED' });
      }
      return Promise.reject(
        rejection(
          'FND_PROTECT_LIMIT_EXCEEDED',
          `Concurrency limit of ${String(this.#limit)} reached under "${policy}"`,
          { layer: 'adaptive', policy, limit: this.#limit },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const queue = this.#queue;
      const waiter: Waiter = {
        call,
        next,
        resolve: resolve as (value: Promise<unknown>) => void,
        reject,
        onAbort: () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(call.reason ?? new Error('aborted'));
        },
      };
      call.signal.addEventListener('abort', waiter.onAbort, { once: true });
      queue.push(waiter);
    });
  }
}

/**
 * An adaptive concurrency layer (`kind: 'adaptive'`) with `options` (validated: `FND_PROTECT_INVALID_POLICY`
 * names a bad option). Its limit starts at `initialLimit` and moves within `[minLimit, maxLimit]`; changes are
 * published as `protection:limit_changed` `{ limit }` `{ policy }`, refusals as `protection:rejected`.
 *
 * @example
 * ```ts
 * const adaptive = createAdaptiveLayer({ algorithm: 'vegas', initialLimit: 20, maxLimit: 200, maxQueue: 10 });
 * const policy = pipeline('payments', [adaptive], { clock, timer });
 * await policy.execute(() => fetchPayment());
 * ```
 */
export function createAdaptiveLayer(options: AdaptiveOptions = {}): AdaptiveLayer {
  return new AdaptiveLimiterLayer(options);
}
