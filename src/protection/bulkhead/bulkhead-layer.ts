/**
 * The bulkhead layer: at most `maxConcurrent` calls run the layers below at once; up to `maxQueue` more wait
 * in FIFO order; beyond that a call is refused with `FND_PROTECT_BULKHEAD_FULL`. Abort-safe: a waiter whose
 * call was aborted while it waited (deadline, caller's cancellation) is never started — it is dropped with
 * its call's reason when its turn comes, and the queue is swept of such waiters before a refusal, so dead
 * waiters never hold a place. No signal is read: the layer above that aborted the call has already answered
 * its caller.
 *
 * @module
 */
import type { CallState } from '../call-state.js';
import { invalidPolicy } from '../errors.js';
import { refuse } from '../timeout/refuse.js';
import type { Layer, LayerStatus } from '../types.js';
import { type BulkheadLimits, BulkheadState } from './bulkhead-state.js';

/** Options of {@link createBulkheadLayer} (the `bulkhead` entry of a named policy). */
export interface BulkheadOptions {
  /** Calls running at once (integer ≥ 1). */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot (integer ≥ 0), default 0. */
  readonly maxQueue?: number;
}

/** The bulkhead layer, reconfigurable at run time. */
export interface BulkheadLayer extends Layer {
  /** Always `bulkhead`: the layer's kind in the pipeline order. */
  readonly kind: 'bulkhead';
  /**
   * New limits: running calls continue; when the limit grew, waiters start at once; when it shrank, new calls
   * wait until enough running ones finished.
   */
  configure(options: BulkheadOptions): void;
  /**
   * The live state: the limits, the calls running and queued now, and how many calls were refused with
   * `FND_PROTECT_BULKHEAD_FULL` since the layer was created.
   */
  status(): LayerStatus & {
    readonly kind: 'bulkhead';
    readonly maxConcurrent: number;
    readonly maxQueue: number;
    readonly running: number;
    readonly queued: number;
    readonly rejected: number;
  };
}

interface Waiter {
  readonly call: CallState;
  readonly next: (call: CallState) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

function validate(options: BulkheadOptions): BulkheadLimits {
  const { maxConcurrent, maxQueue = 0 } = options;
  if (typeof maxConcurrent !== 'number' || !Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw invalidPolicy('bulkhead.maxConcurrent must be an integer ≥ 1', {
      option: 'bulkhead.maxConcurrent',
    });
  }
  if (typeof maxQueue !== 'number' || !Number.isInteger(maxQueue) || maxQueue < 0) {
    throw invalidPolicy('bulkhead.maxQueue must be an integer ≥ 0', { option: 'bulkhead.maxQueue' });
  }
  return { maxConcurrent, maxQueue };
}

function isAborted(waiter: Waiter): boolean {
  return waiter.call.aborted;
}

/** Creates a bulkhead layer. */
export function createBulkheadLayer(options: BulkheadOptions): BulkheadLayer {
  const state = new BulkheadState<Waiter>(validate(options));
  let rejected = 0;

  const drain = (): void => {
    for (let waiter = state.next(); waiter !== undefined; waiter = state.next()) {
      if (waiter.call.aborted) {
        state.leave();
        waiter.reject(waiter.call.reason);
        continue;
      }
      waiter.resolve(start(waiter.call, waiter.next));
    }
  };
  const onValue = <T>(value: T): T => {
    state.leave();
    if (state.queued > 0) drain();
    return value;
  };
  const onError = (error: unknown): Promise<never> => {
    state.leave();
    if (state.queued > 0) drain();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the inner layers' reason, unchanged
    return Promise.reject(error);
  };
  function start<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    return next(call).then(onValue, onError);
  }

  return {
    kind: 'bulkhead',
    configure(next: BulkheadOptions): void {
      state.limits = validate(next);
      drain();
    },
    status() {
      return {
        kind: 'bulkhead',
        maxConcurrent: state.limits.maxConcurrent,
        maxQueue: state.limits.maxQueue,
        running: state.running,
        queued: state.queued,
        rejected,
      };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      if (state.tryEnter()) return start(call, next);
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          call,
          next: next,
          resolve: resolve as (value: unknown) => void,
          reject,
        };
        if (state.enqueue(waiter)) return;
        for (const dead of state.remove(isAborted)) dead.reject(dead.call.reason);
        if (state.enqueue(waiter)) return;
        rejected += 1;
        const { maxConcurrent, maxQueue } = state.limits;
        reject(
          refuse('FND_PROTECT_BULKHEAD_FULL', `Bulkhead of "${call.runtime.policy}" is full`, {
            layer: 'bulkhead',
            policy: call.runtime.policy,
            maxConcurrent,
            maxQueue,
          }),
        );
      });
    },
  };
}
