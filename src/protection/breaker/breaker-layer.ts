/**
 * The circuit breaker layer: a {@link BreakerMachine} driven by the calls that pass through it, with run-time
 * configuration, manual isolate and reset, export and restore of its state, state-change listeners and
 * telemetry (`protection:breaker_state` on every transition, `protection:rejected` on every refusal).
 *
 * The closed path reads two fields, awaits the inner layers, and records the outcome in plain counters: no
 * closure, no timer, and no clock read unless the policy needs one (a sampling window or `slowCallMs`).
 *
 * @module
 */
import { systemClock, type Clock } from '../../kernel/clock.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { CallState, PipelineRuntime } from '../call-state.js';
import { isRejection, rejection } from '../errors.js';
import type { FailurePredicate, Layer, LayerStatus } from '../types.js';
import {
  BreakerMachine,
  CLOSED_TICKET,
  REFUSED,
  type BreakerSnapshot,
  type BreakerState,
} from './breaker-machine.js';
import {
  resolveBreakerOptions,
  type BreakerOptions,
  type ResolvedBreakerOptions,
} from './breaker-options.js';
import { parseBreakerSnapshot } from './breaker-snapshot.js';

/** One transition of a breaker, as given to {@link BreakerLayer.onStateChange} listeners. */
export interface BreakerStateChange {
  /** The policy the breaker belongs to. */
  readonly policy: string;
  /** The state the breaker left. */
  readonly from: BreakerState;
  /** The state the breaker entered. */
  readonly to: BreakerState;
  /** Wall ms of the transition. */
  readonly at: number;
  /** How long this open state lasts (when `to` is `open`), ms. */
  readonly openMs?: number;
  /** What caused it: an outcome or a call (`call`), `isolate`, `reset`, `restore`, `configure` or `poll`. */
  readonly cause: 'call' | 'isolate' | 'reset' | 'restore' | 'configure' | 'poll';
}

/** Where a breaker layer reads time and its policy name outside of calls. */
export interface BreakerBinding {
  /**
   * The breaker's clock. Default: the clock of the pipeline it runs in (a breaker layer belongs to one
   * pipeline), or the system clock for operations made before its first call.
   */
  readonly clock?: Clock;
  /** The policy name for telemetry and listeners of transitions outside calls. Default: the first call's. */
  readonly policy?: string;
}

/** The circuit breaker layer of a pipeline. */
export interface BreakerLayer extends Layer {
  /** Always `breaker`: the layer's kind in the pipeline order. */
  readonly kind: 'breaker';
  /** New thresholds; the state (open, half-open, counts that still make sense) and in-flight calls stay. */
  configure(options: BreakerOptions): void;
  /** Refuses every call (`FND_PROTECT_CIRCUIT_OPEN`, no retryAfterMs) until {@link BreakerLayer.reset}. */
  isolate(): void;
  /** Back to closed with empty counters and the first open duration. */
  reset(): void;
  /** The current state (an open breaker past its duration turns half-open here). */
  state(): BreakerState;
  /** The state as JSON (wall times), to persist or hand to another process. */
  exportState(): BreakerSnapshot;
  /**
   * Takes over an exported state (checked; `FND_PROTECT_INVALID_POLICY` when malformed). Counters of another
   * policy kind are dropped; calls in flight no longer count.
   */
  restore(snapshot: unknown): void;
  /** Calls `listener` on every transition; returns the unsubscribe function. A throwing listener is ignored. */
  onStateChange(listener: (change: BreakerStateChange) => void): () => void;
}

const stateChanged = telemetryEvent('protection:breaker_state');
const rejected = telemetryEvent('protection:rejected');

function isCancellation(error: unknown): boolean {
  return isRejection(error) && error.code === 'FND_PROTECT_CANCELLED';
}

class CircuitBreakerLayer implements BreakerLayer {
  readonly kind = 'breaker';
  readonly #machine: BreakerMachine;
  readonly #binding: BreakerBinding;
  readonly #listeners: ((change: BreakerStateChange) => void)[] = [];
  #runtime: PipelineRuntime | undefined;
  #sampling: boolean;
  #slowCallMs: number | undefined;
  #failures: FailurePredicate | undefined;

  constructor(options: ResolvedBreakerOptions, binding: BreakerBinding) {
    this.#machine = new BreakerMachine(options);
    this.#binding = binding;
    this.#sampling = options.counter.policy === 'sampling';
    this.#slowCallMs = options.slowCallMs;
    this.#failures = options.failures;
  }

  run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    this.#runtime ??= call.runtime;
    // The closed path: two prebound handlers, nothing allocated but the promise of `then`.
    if (this.#machine.state === 'closed' && this.#slowCallMs === undefined) {
      let inner: Promise<T>;
      try {
        inner = next(call);
      } catch (error) {
        // A layer below broke the contract and threw synchronously: still an outcome, still a promise.
        this.#failed(CLOSED_TICKET, error);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the inner layer's own throw, unchanged
        return Promise.reject(error);
      }
      return inner.then(this.#closedSuccess as (value: T) => T, this.#closedFailure);
    }
    return this.#guarded(call, next);
  }

  /** Outcome of a call admitted while closed (without slowCallMs): a value. */
  readonly #closedSuccess = (value: unknown): unknown => {
    const isFailure = this.#failures?.result;
    this.#settle(CLOSED_TICKET, isFailure !== undefined && this.#judge(isFailure, value));
    return value;
  };

  /** Outcome of a call admitted while closed (without slowCallMs): an error, rethrown. */
  readonly #closedFailure = (error: unknown): never => {
    this.#failed(CLOSED_TICKET, error);
    throw error;
  };

  /** Every path but the plain closed one: admission (maybe refusal), probes, slow calls. */
  async #guarded<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
    const machine = this.#machine;
    const clock = this.#clock();
    let ticket = CLOSED_TICKET;
    if (machine.state !== 'closed') {
      const before = machine.state;
      const now = clock.monotonic();
      ticket = machine.admit(now);
      if (machine.state !== before) this.#changed(before, 'call');
      if (ticket === REFUSED) throw this.#refusal(now);
    }
    const slowCallMs = this.#slowCallMs;
    const started = slowCallMs === undefined ? 0 : clock.monotonic();
    let value: T;
    try {
      value = await next(call);
    } catch (error) {
      this.#failed(ticket, error);
      throw error;
    }
    const isFailure = this.#failures?.result;
    let failure = isFailure !== undefined && this.#judge(isFailure, value);
    if (!failure && slowCallMs !== undefined) failure = clock.monotonic() - started > slowCallMs;
    this.#settle(ticket, failure);
    return value;
  }

  /** Records an outcome; reads the clock only when the counter or a transition needs it. */
  #settle(ticket: number, failure: boolean): void {
    const machine = this.#machine;
    const before = machine.state;
    const now = failure || this.#sampling ? this.#clock().monotonic() : 0;
    machine.settle(ticket, failure, now);
    if (machine.state !== before) this.#changed(before, 'call');
  }

  /**
   * Records a thrown error: a failure, a success (the predicate says it is not one), or nothing when it is the
   * caller's cancellation (`FND_PROTECT_CANCELLED`, which is also what a function that honours its signal throws
   * after the caller aborted).
   */
  #failed(ticket: number, error: unknown): void {
    if (isCancellation(error)) {
      this.#machine.release(ticket);
      return;
    }
    const isFailure = this.#failures?.error;
    this.#settle(ticket, isFailure === undefined || this.#judge(isFailure, error));
  }

  /** Runs a failure predicate; one that throws counts the outcome as a failure. */
  #judge(predicate: (outcome: unknown) => boolean, outcome: unknown): boolean {
    try {
      return predicate(outcome);
    } catch {
      return true;
    }
  }

  #refusal(now: number): Error {
    const policy = this.#policy();
    const machine = this.#machine;
    const retryAfterMs = machine.retryAfter(now);
    const state = machine.state;
    const why =
      state === 'isolated'
        ? 'is isolated'
        : state === 'half_open'
          ? 'is half-open and its probes are busy'
          : 'is open';
    rejected.emit({ count: 1 }, { policy, layer: 'breaker', code: 'FND_PROTECT_CIRCUIT_OPEN' });
    return rejection('FND_PROTECT_CIRCUIT_OPEN', `Circuit breaker of "${policy}" ${why}`, {
      layer: 'breaker',
      policy,
      state,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs: Math.ceil(retryAfterMs) }),
    });
  }

  #changed(from: BreakerState, cause: BreakerStateChange['cause']): void {
    const policy = this.#policy();
    const machine = this.#machine;
    const to = machine.state;
    stateChanged.emit({}, { policy, from, to });
    if (this.#listeners.length === 0) return;
    const change: BreakerStateChange = {
      policy,
      from,
      to,
      at: this.#clock().now(),
      cause,
      ...(to === 'open' ? { openMs: machine.openUntil - machine.openedAt } : {}),
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not change the outcome of a call or starve the other listeners.
      }
    }
  }

  #clock(): Clock {
    return this.#binding.clock ?? this.#runtime?.clock ?? systemClock;
  }

  #policy(): string {
    return this.#binding.policy ?? this.#runtime?.policy ?? 'breaker';
  }

  /** Runs a management operation and reports the transition it made, if any. */
  #manage(cause: BreakerStateChange['cause'], operation: (machine: BreakerMachine) => void): void {
    const machine = this.#machine;
    const before = machine.state;
    operation(machine);
    if (machine.state !== before) this.#changed(before, cause);
  }

  configure(options: BreakerOptions): void {
    const resolved = resolveBreakerOptions(options);
    this.#manage('configure', (machine) => {
      machine.configure(resolved);
    });
    this.#sampling = resolved.counter.policy === 'sampling';
    this.#slowCallMs = resolved.slowCallMs;
    this.#failures = resolved.failures;
  }

  isolate(): void {
    this.#manage('isolate', (machine) => {
      machine.isolate();
    });
  }

  reset(): void {
    this.#manage('reset', (machine) => {
      machine.reset();
    });
  }

  state(): BreakerState {
    const now = this.#clock().monotonic();
    this.#manage('poll', (machine) => {
      machine.poll(now);
    });
    return this.#machine.state;
  }

  exportState(): BreakerSnapshot {
    const clock = this.#clock();
    return this.#machine.snapshot(clock.now() - clock.monotonic());
  }

  restore(snapshot: unknown): void {
    const parsed = parseBreakerSnapshot(snapshot);
    const clock = this.#clock();
    const offset = clock.now() - clock.monotonic();
    this.#manage('restore', (machine) => {
      machine.restore(parsed, offset);
    });
  }

  onStateChange(listener: (change: BreakerStateChange) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  status(): LayerStatus {
    const clock = this.#clock();
    const now = clock.monotonic();
    const state = this.state();
    const machine = this.#machine;
    const counts = machine.counter.counts(now);
    const retryAfterMs = machine.retryAfter(now);
    return {
      kind: 'breaker',
      state,
      policy: machine.options.counter.policy,
      calls: counts.calls,
      failures: counts.failures,
      level: machine.level,
      ...(state === 'open' && retryAfterMs !== undefined
        ? { openUntil: machine.openUntil - now + clock.now(), retryAfterMs: Math.ceil(retryAfterMs) }
        : {}),
      ...(state === 'half_open'
        ? { probesInFlight: machine.probesInFlight, probeSuccesses: machine.probeSuccesses }
        : {}),
    };
  }
}

/**
 * A circuit breaker layer. Options are validated here (`FND_PROTECT_INVALID_POLICY` naming the option); the
 * policy name and the clock come from each call's pipeline, `binding` supplies them for the operations made
 * outside calls (isolate, reset, state, export, restore).
 *
 * @example
 * ```ts
 * const breaker = createBreakerLayer({ policy: 'consecutive', threshold: 5, openMs: 10_000 });
 * const payments = pipeline('payments', [breaker], { clock, timer });
 * await payments.execute(() => charge(order));
 * breaker.onStateChange(({ from, to }) => log.warn(`payments breaker ${from} → ${to}`));
 * ```
 */
export function createBreakerLayer(options: BreakerOptions, binding: BreakerBinding = {}): BreakerLayer {
  return new CircuitBreakerLayer(resolveBreakerOptions(options), binding);
}
