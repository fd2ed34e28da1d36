/**
 * The FIFO queue of callers waiting for a resource: an array with a head index (O(1) push and shift), lazy
 * removal (a waiter that timed out or was aborted is marked settled and skipped when its turn comes, so
 * leaving the queue costs nothing), compacted when dead waiters pile up. No I/O, no time.
 *
 * @module
 */

/** What the queue needs of a waiter: whether it already left (timed out, aborted, served). */
export interface QueuedWaiter {
  readonly settled: boolean;
}

/** A FIFO of waiters with lazy removal. */
export class WaiterQueue<W extends QueuedWaiter> {
  #items: (W | undefined)[] = [];
  #head = 0;

  /** Slots in use, dead waiters included (for compaction decisions and tests). */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a waiter at the back. */
  push(waiter: W): void {
    this.#items.push(waiter);
  }

  /** Puts a waiter back at the front (it keeps its turn, e.g. after its resource failed validation). */
  unshift(waiter: W): void {
    if (this.#head > 0) {
      this.#head -= 1;
      this.#items[this.#head] = waiter;
    } else {
      this.#items.unshift(waiter);
    }
  }

  /** The oldest waiter still waiting (dead ones on the way are dropped), or `undefined`. */
  shift(): W | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head] as W;
      this.#items[this.#head] = undefined;
      this.#head += 1;
      if (!waiter.settled) {
        this.#trim();
        return waiter;
      }
    }
    if (this.#head > 0) this.clear();
    return undefined;
  }

  /** Every waiter still waiting, oldest first (a copy: the queue is unchanged). */
  live(): W[] {
    const live: W[] = [];
    for (let i = this.#head; i < this.#items.length; i += 1) {
      const waiter = this.#items[i] as W;
      if (!waiter.settled) live.push(waiter);
    }
    return live;
  }

  /** Every waiter still waiting, oldest first, removing them all. */
  takeAll(): W[] {
    const live = this.live();
    this.clear();
    return live;
  }

  /** Drops dead waiters when they outnumber the live ones (`live` = waiters still waiting). */
  compact(live: number): void {
    if (live === 0) {
      this.clear();
      return;
    }
    if (this.length < 64 || this.length < live * 2) return;
    const kept: (W | undefined)[] = [];
    for (let i = this.#head; i < this.#items.length; i += 1) {
      const waiter = this.#items[i] as W;
      if (!waiter.settled) kept.push(waiter);
    }
    this.#items = kept;
    this.#head = 0;
  }

  /** Empties the queue. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  #trim(): void {
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 64 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
