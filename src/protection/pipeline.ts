/**
 * Composes layers into a policy: `execute(fn, signal?)` runs `fn` through every layer, outermost first. The
 * chain of `next` functions is built once per policy (no closure per call per layer); the function is read
 * from the call state.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { CallState, type PipelineRuntime } from './call-state.js';
import type { CoarseTimer } from './coarse-timer.js';
import { rejection } from './errors.js';
import type { Layer, LayerStatus, ProtectedFn } from './types.js';

/** Options of one {@link Policy.execute}. */
export interface ExecuteOptions {
  /** Cancels the call: it rejects with `FND_PROTECT_CANCELLED` and aborts the attempt's signal. */
  readonly signal?: AbortSignal;
  /**
   * The rate-limit key of the call (a user, a tenant, an endpoint…); default: the policy's name, so that
   * every call shares one allowance. Checked by the rate-limit layer (a string of 1 to 512 characters).
   */
  readonly key?: string;
}

/**
 * A composed policy. `R` is the type of the resource its pool lends (`attempt.resource`); it has no meaning
 * for a policy without a `pool` layer.
 */
export interface Policy<R = unknown> {
  /** The policy's name (its key under `foundation.protection`), used in rejections and telemetry. */
  readonly name: string;
  /**
   * Runs `fn` under every layer. The second argument is the call's {@link ExecuteOptions} or, for short,
   * its cancelling signal: an aborted signal rejects the call with `FND_PROTECT_CANCELLED` and aborts the
   * attempt's signal.
   */
  execute<T>(fn: ProtectedFn<T, R>, options?: AbortSignal | ExecuteOptions): Promise<T>;
  /** Each layer's live state, outermost first. */
  status(): LayerStatus[];
}

/** Published when an attempt passed every layer and the function runs: `{ attempt }`, `{ policy }`. */
const admitted = telemetryEvent('protection:admitted');

/** Runs the function of a state: a sync throw becomes a rejection, a value a resolved promise. */
function invoke(call: CallState): Promise<unknown> {
  if (admitted.hasSubscribers) admitted.emit({ attempt: call.attempt }, { policy: call.runtime.policy });
  try {
    const result = call.fn(call);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the function's own throw, unchanged
    return Promise.reject(error);
  }
}

/** Builds a policy named `name` from `layers` (outermost first). */
export function pipeline(
  name: string,
  layers: readonly Layer[],
  options: { readonly clock: Clock; readonly timer: CoarseTimer },
): Policy {
  const runtime: PipelineRuntime = { policy: name, clock: options.clock, timer: options.timer };
  let next: (call: CallState) => Promise<unknown> = invoke;
  for (let i = layers.length - 1; i >= 0; i -= 1) {
    const layer = layers[i] as Layer;
    const inner = next;
    next = (call) => layer.run(call, inner);
  }
  const first = next;
  return {
    name,
    execute<T>(fn: ProtectedFn<T>, options?: AbortSignal | ExecuteOptions): Promise<T> {
      const call = new CallState(runtime, fn, undefined, 1, undefined);
      let signal: AbortSignal | undefined;
      if (options !== undefined) {
        if (options instanceof AbortSignal) signal = options;
        else {
          signal = options.signal;
          call.key = options.key;
        }
      }
      if (signal === undefined) return first(call) as Promise<T>;
      const cancelled = (): void => {
        call.abort(
          rejection('FND_PROTECT_CANCELLED', `Call under "${name}" cancelled by its caller`, {
            layer: 'fallback',
            policy: name,
          }),
        );
      };
      if (signal.aborted) {
        cancelled();
        return Promise.reject(call.reason ?? new Error('cancelled'));
      }
      // The caller's abort settles the call at once (the function may ignore its signal; its late result is
      // dropped).
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          cancelled();
          reject(call.reason ?? new Error('cancelled'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        (first(call) as Promise<T>).then(
          (value) => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          },
          (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the function's own reason, unchanged
            reject(error);
          },
        );
      });
    },
    status() {
      return layers.map((layer) => layer.status());
    },
  };
}
