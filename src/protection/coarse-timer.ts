/**
 * One shared timer for every deadline of the protection layers: deadlines are grouped into buckets of
 * `resolutionMs` (default 10 ms), and ONE clock timer is armed for the earliest bucket — none when nothing is
 * pending. Scheduling and cancelling cost a `Map` lookup and a `Set` add/delete; no timer per call, no idle
 * timer per policy. A deadline fires up to `resolutionMs` late, never early.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../kernel/clock.js';

/** A scheduled deadline; `cancel()` is harmless after it fired. */
export interface CoarseTimeout {
  /** Unschedules the deadline so its function never runs; does nothing once it has fired or was cancelled. */
  cancel(): void;
}

interface Entry extends CoarseTimeout {
  readonly fn: () => void;
  bucket: Set<Entry> | undefined;
}

/** The shared coarse timer of one clock. */
export class CoarseTimer {
  readonly #clock: Clock;
  readonly #resolution: number;
  /** Bucket key (monotonic ms / resolution, rounded up) → entries. */
  readonly #buckets = new Map<number, Set<Entry>>();
  #armedKey = Number.POSITIVE_INFINITY;
  #handle: TimerHandle | undefined;

  constructor(clock: Clock, resolutionMs = 10) {
    this.#clock = clock;
    this.#resolution = resolutionMs;
  }

  /** Pending deadlines (for tests and status). */
  get pending(): number {
    let count = 0;
    for (const bucket of this.#buckets.values()) count += bucket.size;
    return count;
  }

  /** Calls `fn` once, `delayMs` from now (rounded up to the resolution). */
  schedule(delayMs: number, fn: () => void): CoarseTimeout {
    const key = Math.ceil((this.#clock.monotonic() + Math.max(0, delayMs)) / this.#resolution);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.#buckets.set(key, bucket);
    }
    const entry: Entry = {
      fn,
      bucket,
      cancel() {
        entry.bucket?.delete(entry);
        entry.bucket = undefined;
      },
    };
    bucket.add(entry);
    if (key < this.#armedKey) this.#arm(key);
    return entry;
  }

  #arm(key: number): void {
    this.#handle?.cancel();
    this.#armedKey = key;
    const delay = Math.max(0, key * this.#resolution - this.#clock.monotonic());
    this.#handle = this.#clock.setTimeout(() => {
      this.#fire();
    }, delay);
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedKey = Number.POSITIVE_INFINITY;
    const now = this.#clock.monotonic() / this.#resolution;
    const due: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [key, bucket] of this.#buckets) {
      if (key <= now) {
        for (const entry of bucket) {
          entry.bucket = undefined;
          due.push(entry);
        }
        this.#buckets.delete(key);
      } else if (bucket.size === 0) {
        this.#buckets.delete(key);
      } else if (key < next) {
        next = key;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const entry of due) entry.fn();
  }
}
