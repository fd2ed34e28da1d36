/**
 * The deadline layer: one end-to-end time limit across every retry and hedge below it. It sets the call's
 * `deadline` (wall ms, seen by the function as `attempt.deadline` and by the retry layer, which never starts
 * a wait that would pass it) and, when the deadline passes, aborts the call — the running attempt and every
 * state below, the function's signal if it read it — and rejects at once with `FND_PROTECT_TIMEOUT`
 * (context `layer: 'deadline'`). One coarse-timer entry per call, no AbortController unless the function
 * reads its signal. An earlier deadline already on the call (a caller's or an outer layer's) is kept.
 *
 * @module
 */
import type { CallState } from '../call-state.js';
import { invalidPolicy } from '../errors.js';
import { refuse } from '../timeout/refuse.js';
import type { Layer, LayerStatus } from '../types.js';

/** Options of {@link createDeadlineLayer} (the `deadline` entry of a named policy). */
export interface DeadlineOptions {
  /** The whole call's time limit, ms (positive). */
  readonly ms: number;
}

/** The deadline layer, reconfigurable at run time. */
export interface DeadlineLayer extends Layer {
  /** Always `deadline`: the layer's kind in the pipeline order. */
  readonly kind: 'deadline';
  /** New limit for calls that start from now on (running calls keep theirs). */
  configure(options: DeadlineOptions): void;
  /** The live state: the limit in ms and how many calls it ended with `FND_PROTECT_TIMEOUT` so far. */
  status(): LayerStatus & { readonly kind: 'deadline'; readonly ms: number; readonly expired: number };
}

function validate(options: DeadlineOptions): number {
  const { ms } = options;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw invalidPolicy('deadline.ms must be a finite number of ms > 0', { option: 'deadline.ms' });
  }
  return ms;
}

/** Creates a deadline layer. */
export function createDeadlineLayer(options: DeadlineOptions): DeadlineLayer {
  let limit = validate(options);
  let expired = 0;
  return {
    kind: 'deadline',
    configure(next: DeadlineOptions): void {
      limit = validate(next);
    },
    status() {
      return { kind: 'deadline', ms: limit, expired };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const now = call.runtime.clock.now();
      let ms = limit;
      if (call.deadline !== undefined && call.deadline < now + ms) ms = Math.max(0, call.deadline - now);
      else call.deadline = now + ms;
      return new Promise<T>((resolve, reject) => {
        const handle = call.runtime.timer.schedule(ms, () => {
          if (call.aborted) {
            // Already ended by someone else (the caller, an outer deadline): not this deadline's refusal.
            reject(call.reason ?? new Error('aborted'));
            return;
          }
          expired += 1;
          const error = refuse(
            'FND_PROTECT_TIMEOUT',
            `Call under "${call.runtime.policy}" passed its ${String(limit)} ms deadline`,
            { layer: 'deadline', policy: call.runtime.policy, deadlineMs: limit },
          );
          call.abort(error);
          reject(error);
        });
        next(call).then(
          (value) => {
            handle.cancel();
            resolve(value);
          },
          (error: unknown) => {
            handle.cancel();
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the inner layers' reason, unchanged
            reject(error);
          },
        );
      });
    },
  };
}
