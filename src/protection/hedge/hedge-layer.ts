/**
 * The hedging layer: when the first attempt has not answered after `delayMs`, start another one (up to
 * `maxHedges` extra attempts, one per `delayMs`); the first success wins and the others are aborted (their
 * signals, if read, with `FND_PROTECT_CANCELLED`, context `layer: 'hedge'`). A failed attempt starts the next
 * hedge at once when hedges remain; when every attempt failed, the last error is the answer. Once the call
 * is aborted (deadline, caller) no new attempt starts. One coarse-timer entry at a time, no AbortController
 * unless the function reads its signal. Each hedge publishes `protection:hedged`.
 *
 * @module
 */
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { CallState } from '../call-state.js';
import type { CoarseTimeout } from '../coarse-timer.js';
import { invalidPolicy, rejection } from '../errors.js';
import type { Layer, LayerStatus } from '../types.js';

const hedged = telemetryEvent('protection:hedged');

/** Options of {@link createHedgeLayer} (the `hedge` entry of a named policy). */
export interface HedgeOptions {
  /** Wait before each extra attempt, ms (≥ 0). */
  readonly delayMs: number;
  /** Extra attempts at most (integer ≥ 0), default 1. */
  readonly maxHedges?: number;
}

/** The hedging layer, reconfigurable at run time. */
export interface HedgeLayer extends Layer {
  /** Always `hedge`: the layer's kind in the pipeline order. */
  readonly kind: 'hedge';
  /** New delay and count for calls that start from now on. */
  configure(options: HedgeOptions): void;
  /** The live state: the delay (ms), the most extra attempts per call, and how many hedges were started. */
  status(): LayerStatus & {
    readonly kind: 'hedge';
    readonly delayMs: number;
    readonly maxHedges: number;
    readonly hedges: number;
  };
}

function validate(options: HedgeOptions): Required<HedgeOptions> {
  const { delayMs, maxHedges = 1 } = options;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw invalidPolicy('hedge.delayMs must be a finite number of ms ≥ 0', { option: 'hedge.delayMs' });
  }
  if (typeof maxHedges !== 'number' || !Number.isInteger(maxHedges) || maxHedges < 0) {
    throw invalidPolicy('hedge.maxHedges must be an integer ≥ 0', { option: 'hedge.maxHedges' });
  }
  return { delayMs, maxHedges };
}

/** One hedged call: its attempts in flight and the timer of the next hedge. */
class Race<T> {
  readonly #call: CallState;
  readonly #next: (call: CallState) => Promise<T>;
  readonly #options: Required<HedgeOptions>;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;
  readonly #onHedge: () => void;
  readonly #inFlight: CallState[] = [];
  #started = 0;
  #done = false;
  #timer: CoarseTimeout | undefined;

  constructor(
    call: CallState,
    next: (call: CallState) => Promise<T>,
    options: Required<HedgeOptions>,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    onHedge: () => void,
  ) {
    this.#call = call;
    this.#next = next;
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onHedge = onHedge;
  }

  launch(): void {
    const call = this.#call;
    const child = call.child(this.#started === 0 ? call.attempt : call.nextAttempt());
    this.#started += 1;
    this.#inFlight.push(child);
    if (this.#started > 1) {
      this.#onHedge();
      if (hedged.hasSubscribers) hedged.emit({}, { policy: call.runtime.policy });
    }
    if (this.#started <= this.#options.maxHedges) {
      this.#timer = call.runtime.timer.schedule(this.#options.delayMs, () => {
        this.#timer = undefined;
        this.#hedge();
      });
    }
    this.#next(child).then(
      (value) => {
        this.#win(child, value);
      },
      (error: unknown) => {
        this.#fail(child, error);
      },
    );
  }

  #hedge(): void {
    if (this.#done) return;
    if (this.#call.aborted) {
      this.#finish();
      this.#reject(this.#call.reason);
      return;
    }
    this.launch();
  }

  #finish(): void {
    this.#done = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #forget(child: CallState): void {
    const index = this.#inFlight.indexOf(child);
    if (index >= 0) this.#inFlight.splice(index, 1);
    this.#call.release(child);
  }

  #win(child: CallState, value: T): void {
    this.#forget(child);
    if (this.#done) return;
    this.#finish();
    if (this.#inFlight.length > 0) {
      const lost = rejection(
        'FND_PROTECT_CANCELLED',
        `A hedged attempt of "${this.#call.runtime.policy}" won`,
        {
          layer: 'hedge',
          policy: this.#call.runtime.policy,
        },
      );
      for (const loser of this.#inFlight) {
        loser.abort(lost);
        this.#call.release(loser);
      }
      this.#inFlight.length = 0;
    }
    this.#resolve(value);
  }

  #fail(child: CallState, error: unknown): void {
    this.#forget(child);
    if (this.#done) return;
    if (this.#call.aborted) {
      this.#finish();
      this.#reject(error);
      return;
    }
    if (this.#started <= this.#options.maxHedges) {
      // A failure starts the next hedge at once.
      this.#timer?.cancel();
      this.#timer = undefined;
      this.launch();
      return;
    }
    if (this.#inFlight.length === 0) {
      this.#finish();
      this.#reject(error);
    }
  }
}

/** Creates a hedging layer. */
export function createHedgeLayer(options: HedgeOptions): HedgeLayer {
  let current = validate(options);
  let hedges = 0;
  const onHedge = (): void => {
    hedges += 1;
  };
  return {
    kind: 'hedge',
    configure(next: HedgeOptions): void {
      current = validate(next);
    },
    status() {
      return { kind: 'hedge', delayMs: current.delayMs, maxHedges: current.maxHedges, hedges };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const o = current;
      if (o.maxHedges === 0) return next(call);
      return new Promise<T>((resolve, reject) => {
        new Race(call, next, o, resolve, reject, onHedge).launch();
      });
    },
  };
}
