/**
 * The callers a pool keeps waiting: the FIFO {@link WaiterQueue}, the waiters held out of it while their
 * resource is validated (their deadline and signal still apply), and the one coarse timer of every waiter's
 * deadline, armed for the earliest one and disarmed once nobody waits. A waiter leaves by being served
 * ({@link PoolWaiters.take}), by its deadline (refused with `acquireTimeout`), by its signal
 * (`acquireCancelled`) or by a drain ({@link PoolWaiters.rejectAll}).
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import type { CoarseTimeout, CoarseTimer } from '../coarse-timer.js';
import type { Lease } from './lease.js';
import { acquireCancelled, acquireTimeout } from './pool-errors.js';
import { Waiter } from './waiter.js';
import { WaiterQueue } from './waiter-queue.js';

/** The waiters of one pool and the timer of their deadlines. */
export class PoolWaiters<R> {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #timer: CoarseTimer;
  readonly #lastCreateError: () => unknown;
  readonly #queue = new WaiterQueue<Waiter<R>>();
  /** Waiters out of the queue while their resource is validated (their deadline and signal still apply). */
  readonly #validating = new Set<Waiter<R>>();
  #waiting = 0;
  /** The one timer of every waiter's deadline, armed for the earliest one. */
  #waitTimer: CoarseTimeout | undefined;
  #waitTimerAt = Number.POSITIVE_INFINITY;

  /**
   * @param name - the pool's name, for the errors.
   * @param lastCreateError - the pool's last creation error, the cause of a timeout.
   */
  constructor(name: string, clock: Clock, timer: CoarseTimer, lastCreateError: () => unknown) {
    this.#name = name;
    this.#clock = clock;
    this.#timer = timer;
    this.#lastCreateError = lastCreateError;
  }

  /** Waiters in the queue (not those being validated). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Queues a new waiter settled by `resolve` / `reject`, until `timeoutMs` passes or `signal` aborts. */
  add(
    resolve: (lease: Lease<R>) => void,
    reject: (error: unknown) => void,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): void {
    const waiter = new Waiter<R>(resolve, reject);
    const now = this.#clock.monotonic();
    waiter.timeoutMs = timeoutMs;
    waiter.deadline = now + timeoutMs;
    if (waiter.deadline < this.#waitTimerAt) this.#armWaitTimer(waiter.deadline, now);
    if (signal !== undefined) {
      waiter.signal = signal;
      waiter.onAbort = () => {
        this.#cancel(waiter, signal.reason);
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#queue.push(waiter);
    this.#waiting += 1;
  }

  /** The oldest waiter still waiting, out of the queue (`undefined` when none waits). */
  take(): Waiter<R> | undefined {
    const waiter = this.#waiting > 0 ? this.#queue.shift() : undefined;
    if (waiter !== undefined) this.#tookWaiter();
    return waiter;
  }

  /** Puts a waiter whose resource failed validation back at the front (it keeps its turn). */
  requeue(waiter: Waiter<R>): void {
    this.#queue.unshift(waiter);
    this.#waiting += 1;
  }

  /** Holds `waiter` while its resource is validated: its deadline still applies. */
  validating(waiter: Waiter<R>): void {
    this.#validating.add(waiter);
    if (waiter.deadline < this.#waitTimerAt) this.#armWaitTimer(waiter.deadline, this.#clock.monotonic());
  }

  /** The validation of `waiter`'s resource ended (whether or not the waiter is still there). */
  validated(waiter: Waiter<R>): void {
    if (this.#validating.delete(waiter)) this.#disarmIfNoneWaits();
  }

  /** Refuses every waiter (queued or validated) with `error` and disarms the timer: the pool drains. */
  rejectAll(error: unknown): void {
    for (const waiter of [...this.#queue.takeAll(), ...this.#validating]) {
      waiter.settle();
      waiter.reject(error);
    }
    this.#validating.clear();
    this.#waiting = 0;
    this.#waitTimer?.cancel();
    this.#waitTimer = undefined;
    this.#waitTimerAt = Number.POSITIVE_INFINITY;
  }

  /** One waiter left the queue; the waiters' timer is disarmed once none waits. */
  #tookWaiter(): void {
    this.#waiting -= 1;
    this.#disarmIfNoneWaits();
  }

  /** Disarms the waiters' timer when nobody waits (queued or validated). */
  #disarmIfNoneWaits(): void {
    if (this.#waiting === 0 && this.#waitTimer !== undefined && this.#validating.size === 0) {
      this.#waitTimer.cancel();
      this.#waitTimer = undefined;
      this.#waitTimerAt = Number.POSITIVE_INFINITY;
    }
  }

  /** Arms the waiters' timer for monotonic time `at` (replacing a later one). */
  #armWaitTimer(at: number, now: number): void {
    this.#waitTimer?.cancel();
    this.#waitTimerAt = at;
    this.#waitTimer = this.#timer.schedule(at - now, () => {
      this.#expireWaiters();
    });
  }

  /** Refuses every waiter past its deadline (FIFO order); re-arms for the earliest remaining deadline. */
  #expireWaiters(): void {
    this.#waitTimer = undefined;
    this.#waitTimerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.monotonic();
    let next = Number.POSITIVE_INFINITY;
    for (const waiter of [...this.#queue.live(), ...this.#validating]) {
      if (waiter.deadline <= now) {
        waiter.settle();
        if (!this.#validating.delete(waiter)) this.#tookWaiter();
        waiter.reject(acquireTimeout(this.#name, waiter.timeoutMs, this.#lastCreateError()));
      } else if (waiter.deadline < next) {
        next = waiter.deadline;
      }
    }
    this.#queue.compact(this.#waiting);
    if (next !== Number.POSITIVE_INFINITY) this.#armWaitTimer(next, now);
  }

  #cancel(waiter: Waiter<R>, reason: unknown): void {
    if (waiter.settled) return;
    waiter.settle();
    if (this.#validating.delete(waiter)) this.#disarmIfNoneWaits();
    else this.#tookWaiter();
    this.#queue.compact(this.#waiting);
    waiter.reject(acquireCancelled(this.#name, reason));
  }
}
