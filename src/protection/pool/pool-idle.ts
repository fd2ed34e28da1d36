/**
 * The idle resources of a pool: the list (oldest idle first, lent from the end: the warmest one), the maximum
 * lifetime checked when one is taken or given back, and the idle sweep ({@link sweepIdle}) on the pool's
 * coarse timer, armed only while resources are idle and only when idle timeouts or lifetimes apply.
 *
 * @module
 */
import type { Clock } from '../../kernel/clock.js';
import type { CoarseTimeout, CoarseTimer } from '../coarse-timer.js';
import { sweepIdle, type IdleSweepLimits } from './idle-sweep.js';
import type { PoolEntry } from './lease.js';

/** What the idle list needs of its pool. */
export interface IdlePoolHooks<R> {
  /** Destroys a resource (too old, or evicted by the sweep). */
  readonly discard: (entry: PoolEntry<R>) => void;
  /** How many resources are lent or being created (the sweep keeps `min` in all). */
  readonly busy: () => number;
  /** Whether the pool is drained (a sweep then does nothing). */
  readonly closed: () => boolean;
  /** Called after a sweep evicted what it could: the pool creates what `min` needs. */
  readonly swept: () => void;
}

/** The idle resources of one pool and their sweep. */
export class IdleResources<R> {
  readonly #limits: IdleSweepLimits;
  readonly #clock: Clock;
  readonly #timer: CoarseTimer;
  readonly #hooks: IdlePoolHooks<R>;
  /** Whether idle timeouts or lifetimes apply (otherwise no sweep is ever armed). */
  readonly #ages: boolean;
  /** Idle resources, oldest idle first (lent from the end: the warmest one). */
  #entries: PoolEntry<R>[] = [];
  #sweep: CoarseTimeout | undefined;

  constructor(limits: IdleSweepLimits, clock: Clock, timer: CoarseTimer, hooks: IdlePoolHooks<R>) {
    this.#limits = limits;
    this.#clock = clock;
    this.#timer = timer;
    this.#hooks = hooks;
    this.#ages =
      limits.idleTimeoutMs !== Number.POSITIVE_INFINITY || limits.maxLifetimeMs !== Number.POSITIVE_INFINITY;
  }

  /** How many resources are idle. */
  get length(): number {
    return this.#entries.length;
  }

  /** The warmest idle resource that is not too old (too old ones are destroyed on the way). */
  take(): PoolEntry<R> | undefined {
    for (let entry = this.#entries.pop(); entry !== undefined; entry = this.#entries.pop()) {
      if (!this.expired(entry)) return entry;
      this.#hooks.discard(entry);
    }
    return undefined;
  }

  /** Puts back a resource just taken (nobody wanted it), as the warmest one. */
  putBack(entry: PoolEntry<R>): void {
    this.#entries.push(entry);
  }

  /** Whether `entry` is past its maximum lifetime. */
  expired(entry: PoolEntry<R>): boolean {
    return (
      this.#limits.maxLifetimeMs !== Number.POSITIVE_INFINITY &&
      this.#clock.monotonic() - entry.createdAt >= this.#limits.maxLifetimeMs
    );
  }

  /** Adds a resource that became idle now, arming the sweep if none is armed. */
  add(entry: PoolEntry<R>): void {
    if (!this.#ages) {
      this.#entries.push(entry);
      return;
    }
    const now = this.#clock.monotonic();
    entry.idleSince = now;
    this.#entries.push(entry);
    if (this.#sweep === undefined) {
      const delay = Math.min(this.#limits.idleTimeoutMs, entry.createdAt + this.#limits.maxLifetimeMs - now);
      this.#arm(delay);
    }
  }

  /** Cancels the sweep and removes every idle resource (returned, for the pool to destroy). */
  clear(): PoolEntry<R>[] {
    this.#sweep?.cancel();
    this.#sweep = undefined;
    const entries = this.#entries;
    this.#entries = [];
    return entries;
  }

  #arm(delayMs: number): void {
    this.#sweep = this.#timer.schedule(delayMs, () => {
      this.#runSweep();
    });
  }

  /** Destroys idle resources past their idle timeout (keeping `min`) or lifetime; re-arms while some stay idle. */
  #runSweep(): void {
    this.#sweep = undefined;
    if (this.#hooks.closed()) return;
    const now = this.#clock.monotonic();
    const total = this.#entries.length + this.#hooks.busy();
    const { kept, evicted, next } = sweepIdle(this.#entries, now, total, this.#limits);
    this.#entries = kept;
    for (const entry of evicted) this.#hooks.discard(entry);
    if (kept.length > 0 && next !== Number.POSITIVE_INFINITY) this.#arm(next - now);
    this.#hooks.swept();
  }
}
