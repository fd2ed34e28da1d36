/**
 * The state of one protected call (and of each of its attempts): the attempt number, the deadline, and an
 * abort signal created only when something reads it. Layers abort a state (timeout, deadline, lost hedge,
 * caller's abort); the abort reaches the children (attempts) and, if the function ever read `signal`, the
 * function.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import type { CoarseTimer } from './coarse-timer.js';
import type { Attempt, ProtectedFn } from './types.js';

/** What every state of one pipeline shares. */
export interface PipelineRuntime {
  /** The policy's name, used in rejections, telemetry and rate-limit keys. */
  readonly policy: string;
  /** The clock every layer of the pipeline reads (deadlines in wall ms, latencies in monotonic ms). */
  readonly clock: Clock;
  /** The shared coarse timer that arms the pipeline's timeouts and deadlines. */
  readonly timer: CoarseTimer;
}

/** One call or attempt under protection. Created by the pipeline; layers make children for attempts. */
export class CallState implements Attempt {
  /** What every state of the pipeline shares: the policy name, the clock and the timer. */
  readonly runtime: PipelineRuntime;
  /** The protected function (shared by every attempt of the call). */
  readonly fn: ProtectedFn<unknown>;
  /** The state this attempt was made from ({@link CallState.child}); `undefined` on the call's root state. */
  readonly parent: CallState | undefined;
  /** 1 for the first attempt, 2 for the next one, …; unique across the layers that start attempts. */
  attempt: number;
  /** Wall ms by which the whole call must finish, when a deadline layer set one; else `undefined`. */
  deadline: number | undefined;
  /** The call's rate-limit key (shared by its attempts). */
  key: string | undefined;
  /** The resource the pool layer lent this attempt (`undefined` outside a pool layer). */
  resource: unknown;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: Error | undefined;
  #children: CallState[] | undefined;
  /** On the root state: the highest attempt number handed out (attempt numbers are unique per call). */
  #issued = 1;

  constructor(
    runtime: PipelineRuntime,
    fn: ProtectedFn<unknown>,
    parent: CallState | undefined,
    attempt: number,
    deadline: number | undefined,
  ) {
    this.runtime = runtime;
    this.fn = fn;
    this.parent = parent;
    this.attempt = attempt;
    this.deadline = deadline;
    this.key = parent === undefined ? undefined : parent.key;
    this.resource = undefined;
  }

  /** The attempt's signal, created on first read (already aborted if the state was). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Whether this state (or an ancestor) was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (the rejection error), if it was. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** Aborts this state and its children (first reason wins). */
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const children = this.#children;
    if (children !== undefined) for (const child of children) child.abort(reason);
  }

  /** A child state for one attempt: same function and deadline, aborted with this one. */
  child(attempt: number = this.attempt): CallState {
    const child = new CallState(this.runtime, this.fn, this, attempt, this.deadline);
    if (this.#aborted && this.#reason !== undefined) child.abort(this.#reason);
    else (this.#children ??= []).push(child);
    return child;
  }

  /**
   * A new attempt number for this call, unique across every layer that starts attempts (a retry around a
   * hedge gives 1, 2 to the first try and its hedge, then 3, 4…).
   */
  nextAttempt(): number {
    if (this.parent !== undefined) return this.parent.nextAttempt();
    this.#issued += 1;
    return this.#issued;
  }

  /** Forgets a settled child (so long retry loops keep no garbage). */
  release(child: CallState): void {
    const children = this.#children;
    if (children === undefined) return;
    const index = children.indexOf(child);
    if (index >= 0) children.splice(index, 1);
  }

  /** Milliseconds left before the deadline (`Infinity` without one). */
  remaining(): number {
    return this.deadline === undefined ? Number.POSITIVE_INFINITY : this.deadline - this.runtime.clock.now();
  }
}
