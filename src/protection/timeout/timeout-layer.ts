/**
 * The timeout layer: a time limit per attempt, on the shared coarse timer (no timer per call) and without an
 * AbortController unless the function reads its signal.
 *
 * Two modes:
 * - `aggressive` (the default): when the limit passes, the attempt is aborted (its signal, if the function
 *   read it) and the layer rejects at once with `FND_PROTECT_TIMEOUT`; whatever the function does later is
 *   dropped. The caller never waits longer than the limit (plus the timer's resolution, 10 ms by default),
 *   even for a function that ignores its signal.
 * - `cooperative`: when the limit passes, the attempt is aborted and the layer waits for the function to
 *   settle: a value it still returns is the answer; an error becomes `FND_PROTECT_TIMEOUT` with that error as
 *   its cause. A function that ignores its signal is waited for as long as it runs (cockatiel's
 *   `TimeoutStrategy.Cooperative`); use it when the function must finish its own cleanup first.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { CallState } from '../call-state.js';
import { invalidPolicy } from '../errors.js';
import type { Layer, LayerStatus } from '../types.js';
import { refuse } from './refuse.js';

/** How a timeout ends an attempt (see the module documentation). */
export type TimeoutMode = 'aggressive' | 'cooperative';

/** Options of {@link createTimeoutLayer} (the `timeout` entry of a named policy). */
export interface TimeoutOptions {
  /** Time limit of one attempt, ms (positive). */
  readonly ms: number;
  /** Default `'aggressive'`. */
  readonly mode?: TimeoutMode;
}

/** The timeout layer, reconfigurable at run time. */
export interface TimeoutLayer extends Layer {
  /** Always `timeout`: the layer's kind in the pipeline order. */
  readonly kind: 'timeout';
  /** New limit and mode for attempts that start from now on (running ones keep theirs). */
  configure(options: TimeoutOptions): void;
  /** The live state: the limit in ms, the mode, and how many attempts timed out since creation. */
  status(): LayerStatus & {
    readonly kind: 'timeout';
    readonly ms: number;
    readonly mode: TimeoutMode;
    readonly timeouts: number;
  };
}

function validate(options: TimeoutOptions): Required<TimeoutOptions> {
  const { ms } = options;
  const mode = (options.mode ?? 'aggressive') as string;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw invalidPolicy('timeout.ms must be a finite number of ms > 0', { option: 'timeout.ms' });
  }
  if (mode !== 'aggressive' && mode !== 'cooperative') {
    throw invalidPolicy("timeout.mode must be 'aggressive' or 'cooperative'", { option: 'timeout.mode' });
  }
  return { ms, mode };
}

/** Creates a timeout layer (see the module documentation for the two modes). */
export function createTimeoutLayer(options: TimeoutOptions): TimeoutLayer {
  let current = validate(options);
  let timeouts = 0;
  return {
    kind: 'timeout',
    configure(next: TimeoutOptions): void {
      current = validate(next);
    },
    status() {
      return { kind: 'timeout', ms: current.ms, mode: current.mode, timeouts };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const { ms, mode } = current;
      return new Promise<T>((resolve, reject) => {
        let expired: Error | undefined;
        const handle = call.runtime.timer.schedule(ms, () => {
          if (call.aborted) {
            // Already ended by someone else (deadline, caller, lost hedge): not a timeout of this layer.
            if (mode === 'aggressive') reject(call.reason ?? new Error('aborted'));
            return;
          }
          timeouts += 1;
          expired = refuse(
            'FND_PROTECT_TIMEOUT',
            `Attempt under "${call.runtime.policy}" timed out after ${String(ms)} ms`,
            {
              layer: 'timeout',
              policy: call.runtime.policy,
              timeoutMs: ms,
            },
          );
          call.abort(expired);
          if (mode === 'aggressive') reject(expired);
        });
        next(call).then(
          (value) => {
            handle.cancel();
            resolve(value);
          },
          (error: unknown) => {
            handle.cancel();
            if (expired === undefined || error === expired || error === call.reason) {
              // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the attempt's own reason, unchanged
              reject(error);
              return;
            }
            // Cooperative: the function gave up after its signal aborted.
            // (already counted as a rejection when the limit passed).
            reject(
              new FoundationError('FND_PROTECT_TIMEOUT', {
                message: expired.message,
                context: { layer: 'timeout', policy: call.runtime.policy, timeoutMs: ms },
                cause: error,
              }),
            );
          },
        );
      });
    },
  };
}
