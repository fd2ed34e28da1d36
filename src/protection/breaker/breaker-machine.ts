/**
 * The circuit breaker's state machine, a pure model: closed → open when the failure counter says so; open →
 * half-open once the open duration passed (checked when a call arrives or the state is read: no timer);
 * half-open admits at most `probes` calls at a time, closes after `successThreshold` successful probes and
 * re-opens on a failed probe with a doubled open duration (capped by `maxOpenMs`, back to `openMs` after a
 * successful close); isolated refuses everything until reset. Times are monotonic ms passed in.
 *
 * Every admitted call gets a ticket: {@link CLOSED_TICKET} for a call admitted while closed, whose outcome counts
 * when the breaker is closed as it ends (also after a re-close: it is a recent observation of the dependency),
 * and the machine's epoch (bumped at each transition) for a half-open probe, whose outcome counts only in the
 * half-open state that admitted it.
 *
 * @module
 */
import type { ResolvedBreakerOptions, ResolvedFailurePolicy } from './breaker-options.js';
import { createFailureCounter, type CounterSnapshot, type FailureCounter } from './failure-counter.js';

/** The states of a breaker. */
export const BREAKER_STATES = ['closed', 'open', 'half_open', 'isolated'] as const;

/** One state of a breaker. */
export type BreakerState = (typeof BREAKER_STATES)[number];

/** The ticket of a refused call. */
export const REFUSED = -1;

/** The ticket of a call admitted while closed. */
export const CLOSED_TICKET = -2;

/** A breaker's state as JSON (times are wall ms), from {@link BreakerMachine.snapshot}. */
export interface BreakerSnapshot {
  /** Format version of the snapshot, always 1 (a snapshot of another version is refused on restore). */
  readonly version: 1;
  /** The breaker's state when the snapshot was taken. */
  readonly state: BreakerState;
  /** When the breaker last opened (wall ms), while open. */
  readonly openedAt?: number;
  /** When the breaker becomes half-open (wall ms), while open. */
  readonly openUntil?: number;
  /** Escalation level: the next open lasts min(openMs × 2^level, maxOpenMs). */
  readonly level: number;
  /** Successful probes so far, while half-open. */
  readonly probeSuccesses: number;
  /** The closed-state failure counter. */
  readonly counter: CounterSnapshot;
}

function samePolicy(a: ResolvedFailurePolicy, b: ResolvedFailurePolicy): boolean {
  const left = a as unknown as Readonly<Record<string, unknown>>;
  const right = b as unknown as Readonly<Record<string, unknown>>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}

/** The state machine of one breaker. Fields are read directly on the hot path; change them only by methods. */
export class BreakerMachine {
  /**
   * The current state (`open` past its duration still reads `open` until {@link BreakerMachine.poll} or
   * {@link BreakerMachine.admit}).
   */
  state: BreakerState = 'closed';
  /** Bumped at each transition; the ticket of the probes admitted since. */
  epoch = 0;
  /** Monotonic ms at which the breaker last opened. */
  openedAt = 0;
  /** Monotonic ms at which an open breaker becomes half-open. */
  openUntil = 0;
  /** Escalation level of the open duration. */
  level = 0;
  /** Probes admitted and not yet settled, while half-open. */
  probesInFlight = 0;
  /** Successful probes, while half-open. */
  probeSuccesses = 0;
  #options: ResolvedBreakerOptions;
  #counter: FailureCounter;

  /** @param options - validated options ({@link resolveBreakerOptions}). */
  constructor(options: ResolvedBreakerOptions) {
    this.#options = options;
    this.#counter = createFailureCounter(options.counter);
  }

  /** The options in force. */
  get options(): ResolvedBreakerOptions {
    return this.#options;
  }

  /** The closed-state failure counter. */
  get counter(): FailureCounter {
    return this.#counter;
  }

  /**
   * New options; the state stays. A changed failure policy gets a new counter that takes over what the old
   * one saw (when the policy kind is the same); an open breaker keeps its current open duration; new probe
   * limits apply to the next admissions.
   */
  configure(options: ResolvedBreakerOptions): void {
    const previous = this.#options;
    this.#options = options;
    if (!samePolicy(previous.counter, options.counter)) {
      const counter = createFailureCounter(options.counter);
      counter.restore(this.#counter.snapshot(0), 0);
      this.#counter = counter;
    }
    if (this.state === 'half_open' && this.probeSuccesses >= options.successThreshold) this.#close();
  }

  /** How long the open state lasts at escalation level `level`. */
  openDuration(level: number = this.level): number {
    const { openMs, maxOpenMs } = this.#options;
    return Math.min(openMs * 2 ** level, maxOpenMs);
  }

  /** Moves an open breaker whose duration passed to half-open. */
  poll(now: number): void {
    if (this.state === 'open' && now >= this.openUntil) this.#halfOpen();
  }

  /** Admits a call at `now`: its ticket ({@link CLOSED_TICKET} or a probe's epoch), or {@link REFUSED}. */
  admit(now: number): number {
    switch (this.state) {
      case 'closed':
        return CLOSED_TICKET;
      case 'open':
        if (now < this.openUntil) return REFUSED;
        this.#halfOpen();
        break;
      case 'half_open':
        break;
      case 'isolated':
        return REFUSED;
    }
    if (this.probesInFlight >= this.#options.probes) return REFUSED;
    this.probesInFlight += 1;
    return this.epoch;
  }

  /** The outcome of the call admitted with `ticket`: a failure or a success, at `now`. */
  settle(ticket: number, failure: boolean, now: number): void {
    if (ticket === CLOSED_TICKET) {
      if (this.state === 'closed' && this.#counter.record(failure, now)) this.#open(now);
      return;
    }
    if (ticket !== this.epoch || this.state !== 'half_open') return;
    this.probesInFlight -= 1;
    if (failure) {
      if (this.openDuration(this.level) < this.#options.maxOpenMs) this.level += 1;
      this.#open(now);
    } else {
      this.probeSuccesses += 1;
      if (this.probeSuccesses >= this.#options.successThreshold) this.#close();
    }
  }

  /** The call admitted with `ticket` ended with an outcome that counts as nothing: frees its probe slot. */
  release(ticket: number): void {
    if (ticket === this.epoch && this.state === 'half_open') this.probesInFlight -= 1;
  }

  /** Refuses every call until {@link BreakerMachine.reset}. */
  isolate(): void {
    if (this.state === 'isolated') return;
    this.state = 'isolated';
    this.#bump();
  }

  /** Back to closed with empty counters and no escalation. */
  reset(): void {
    this.level = 0;
    this.#close();
  }

  /** Milliseconds until an open breaker admits a probe; `undefined` when unknown (isolated, half-open full). */
  retryAfter(now: number): number | undefined {
    if (this.state === 'open') return Math.max(0, this.openUntil - now);
    if (this.state === 'closed') return 0;
    return undefined;
  }

  /** The state as JSON at monotonic `now`; `offset` = wall ms − monotonic ms. */
  snapshot(offset: number): BreakerSnapshot {
    const open = this.state === 'open';
    return {
      version: 1,
      state: this.state,
      ...(open ? { openedAt: this.openedAt + offset, openUntil: this.openUntil + offset } : {}),
      level: this.level,
      probeSuccesses: this.state === 'half_open' ? this.probeSuccesses : 0,
      counter: this.#counter.snapshot(offset),
    };
  }

  /**
   * Takes over a snapshot (validated, {@link parseBreakerSnapshot}); `offset` = wall ms − monotonic ms. Probes
   * admitted before no longer count; a half-open breaker starts with no probe in flight.
   */
  restore(snapshot: BreakerSnapshot, offset: number): void {
    this.#bump();
    this.state = snapshot.state;
    this.level = snapshot.level;
    this.#counter.restore(snapshot.counter, offset);
    if (snapshot.state === 'open') {
      this.openUntil = (snapshot.openUntil ?? offset) - offset;
      this.openedAt = (snapshot.openedAt ?? snapshot.openUntil ?? offset) - offset;
    }
    if (snapshot.state === 'half_open') this.probeSuccesses = snapshot.probeSuccesses;
  }

  #bump(): void {
    this.epoch += 1;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
  }

  #open(now: number): void {
    this.state = 'open';
    this.#bump();
    this.openedAt = now;
    this.openUntil = now + this.openDuration(this.level);
  }

  #halfOpen(): void {
    this.state = 'half_open';
    this.#bump();
  }

  #close(): void {
    this.state = 'closed';
    this.#bump();
    this.level = 0;
    this.#counter.reset();
  }
}
