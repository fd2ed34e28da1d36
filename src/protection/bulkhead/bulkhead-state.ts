/**
 * The bulkhead's pure model: how many calls run, and a bounded FIFO queue of waiters (an array with a head
 * index: O(1) enqueue and dequeue, compacted now and then). No I/O, no time.
 *
 * @module
 */

/** Concurrency and queue limits of a bulkhead. */
export interface BulkheadLimits {
  /** Calls running at once (≥ 1). */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot (≥ 0; 0 = refuse at once when full). */
  readonly maxQueue: number;
}

/** Running count and waiting queue of one bulkhead. */
export class BulkheadState<W> {
  /** The limits in force; the layer replaces them on `configure` (running calls and waiters are kept). */
  limits: BulkheadLimits;
  /** Calls holding a slot. */
  running = 0;
  #queue: (W | undefined)[] = [];
  #head = 0;

  constructor(limits: BulkheadLimits) {
    this.limits = limits;
  }

  /** Waiters in the queue. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Takes a slot if one is free. */
  tryEnter(): boolean {
    if (this.running >= this.limits.maxConcurrent) return false;
    this.running += 1;
    return true;
  }

  /** Queues a waiter; false when the queue is full. */
  enqueue(waiter: W): boolean {
    if (this.queued >= this.limits.maxQueue) return false;
    this.#queue.push(waiter);
    return true;
  }

  /** A running call finished: frees its slot. */
  leave(): void {
    this.running -= 1;
  }

  /** The oldest waiter, if a slot is free and someone waits (the slot is taken for it). */
  next(): W | undefined {
    if (this.running >= this.limits.maxConcurrent || this.queued === 0) return undefined;
    const waiter = this.#shift();
    this.running += 1;
    return waiter;
  }

  /** Takes the oldest waiter without giving it a slot (to drop it). */
  #shift(): W | undefined {
    const waiter = this.#queue[this.#head];
    this.#queue[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return waiter;
  }

  /** Removes (and returns, oldest first) the waiters `drop` picks; the others keep their order. */
  remove(drop: (waiter: W) => boolean): W[] {
    const dropped: W[] = [];
    const kept: (W | undefined)[] = [];
    for (let i = this.#head; i < this.#queue.length; i += 1) {
      const waiter = this.#queue[i] as W;
      if (drop(waiter)) dropped.push(waiter);
      else kept.push(waiter);
    }
    if (dropped.length > 0) {
      this.#queue = kept;
      this.#head = 0;
    }
    return dropped;
  }
}
