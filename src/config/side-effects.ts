/**
 * The bounded retry queue for the side effects of a configuration change (recording its event, telemetry
 * that may fail): a change never waits for them and never fails because of them. A failed side effect is
 * retried with backoff on the injectable clock; after its last attempt it is counted as failed and reported.
 * When the queue is full the oldest waiting effect is dropped (and counted): memory stays bounded when a
 * target (the event store) is down for long.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { Clock, TimerHandle } from '../kernel/clock.js';

/** Settings of a {@link SideEffectQueue}. */
export interface SideEffectQueueOptions {
  readonly clock: Clock;
  /** Most effects waiting (running or between retries). Default 1000. */
  readonly maxPending?: number;
  /** Attempts per effect, the first included. Default 8. */
  readonly attempts?: number;
  /** First retry delay, ms; doubles per attempt up to `maxDelayMs`. Default 100. */
  readonly firstDelayMs?: number;
  /** Default 30 000. */
  readonly maxDelayMs?: number;
  /** Called when an effect gave up after its last attempt, with a `FND_CONFIG_SIDE_EFFECT_FAILED` error. */
  readonly onFailed?: (name: string, error: FoundationError) => void;
}

/** Counters of a {@link SideEffectQueue}. */
export interface SideEffectCounts {
  readonly pending: number;
  readonly failed: number;
  readonly dropped: number;
}

interface Effect {
  readonly name: string;
  readonly run: () => Promise<void>;
  attempt: number;
  timer: TimerHandle | undefined;
  dropped: boolean;
}

/**
 * Runs side effects in the background with bounded retries.
 *
 * @example
 * ```ts
 * const queue = new SideEffectQueue({ clock: systemClock });
 * queue.push('record event', () => events.append(event).then(() => undefined));
 * ```
 */
export class SideEffectQueue {
  readonly #clock: Clock;
  readonly #maxPending: number;
  readonly #attempts: number;
  readonly #firstDelay: number;
  readonly #maxDelay: number;
  readonly #onFailed: ((name: string, error: FoundationError) => void) | undefined;
  readonly #pending = new Set<Effect>();
  #failed = 0;
  #dropped = 0;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(options: SideEffectQueueOptions) {
    this.#clock = options.clock;
    this.#maxPending = options.maxPending ?? 1000;
    this.#attempts = options.attempts ?? 8;
    this.#firstDelay = options.firstDelayMs ?? 100;
    this.#maxDelay = options.maxDelayMs ?? 30_000;
    this.#onFailed = options.onFailed;
  }

  /** Starts `run` now (not awaited by the caller); retried on failure. Ignored after {@link stop}. */
  push(name: string, run: () => Promise<void>): void {
    if (this.#stopped) return;
    if (this.#pending.size >= this.#maxPending) {
      const oldest = this.#pending.values().next().value;
      if (oldest !== undefined) this.#drop(oldest);
    }
    const effect: Effect = { name, run, attempt: 0, timer: undefined, dropped: false };
    this.#pending.add(effect);
    this.#attemptNow(effect);
  }

  /** Current counters. */
  counts(): SideEffectCounts {
    return { pending: this.#pending.size, failed: this.#failed, dropped: this.#dropped };
  }

  /** Resolves once nothing is pending (tests and graceful stop use it). */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Cancels retries still waiting (effects already running finish on their own) and refuses new ones. */
  stop(): void {
    this.#stopped = true;
    for (const effect of [...this.#pending]) {
      if (effect.timer !== undefined) this.#drop(effect);
    }
  }

  #drop(effect: Effect): void {
    effect.dropped = true;
    effect.timer?.cancel();
    effect.timer = undefined;
    this.#dropped += 1;
    this.#settle(effect);
  }

  #settle(effect: Effect): void {
    this.#pending.delete(effect);
    if (this.#pending.size === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  #attemptNow(effect: Effect): void {
    effect.timer = undefined;
    effect.attempt += 1;
    let running: Promise<void>;
    try {
      running = effect.run();
    } catch (error) {
      running = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    running.then(
      () => {
        if (!effect.dropped) this.#settle(effect);
      },
      (error: unknown) => {
        if (effect.dropped) return;
        if (effect.attempt >= this.#attempts || this.#stopped) {
          this.#failed += 1;
          this.#settle(effect);
          this.#onFailed?.(
            effect.name,
            new FoundationError('FND_CONFIG_SIDE_EFFECT_FAILED', {
              message: `Side effect "${effect.name}" failed after ${String(effect.attempt)} attempts`,
              context: { effect: effect.name, attempts: effect.attempt },
              cause: error,
            }),
          );
          return;
        }
        const delay = Math.min(this.#maxDelay, this.#firstDelay * 2 ** (effect.attempt - 1));
        effect.timer = this.#clock.setTimeout(() => {
          this.#attemptNow(effect);
        }, delay);
      },
    );
  }
}
