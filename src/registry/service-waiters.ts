/**
 * The pending `waitFor` calls of a registry: event-driven (no polling), each with an optional timeout on the
 * injected clock and an optional abort signal, and removed from the set on every way it can settle.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../kernel/clock.js';
import { FoundationError } from '../errors/index.js';

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Options of {@link ServiceWaiters.wait}. */
export interface WaitOptions {
  /** Rejects `FND_REGISTRY_WAIT_TIMEOUT` after this many ms; `Infinity` waits forever. */
  readonly timeoutMs: number;
  /** Rejects `FND_SYSTEM_ABORTED` when aborted. */
  readonly signal?: AbortSignal | undefined;
}

/** Waiters keyed by namespace, then service name. Owned by one registry. */
export class ServiceWaiters {
  readonly #clock: Clock;
  readonly #byNamespace = new Map<string, Map<string, Set<Waiter>>>();
  #count = 0;

  /** @param clock - the clock that times out waiters. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of waiters still pending. */
  get size(): number {
    return this.#count;
  }

  /** Whether anyone waits for `namespace`/`name` (cheap check for the register path). */
  has(namespace: string, name: string): boolean {
    return this.#byNamespace.get(namespace)?.has(name) === true;
  }

  /** Returns a promise settled by {@link resolve}, the timeout, the signal or {@link rejectAll}. */
  wait(namespace: string, name: string, options: WaitOptions): Promise<unknown> {
    const { timeoutMs, signal } = options;
    if (signal?.aborted === true) return Promise.reject(abortedError(namespace, name, signal.reason));
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal: undefined, onAbort: undefined };
      this.#add(namespace, name, waiter);
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = this.#clock.setTimeout(() => {
          waiter.timer = undefined;
          if (!this.#remove(namespace, name, waiter)) return;
          reject(
            new FoundationError('FND_REGISTRY_WAIT_TIMEOUT', {
              message: `Timed out after ${timeoutMs} ms waiting for service "${namespace}/${name}"`,
              context: { namespace, name, timeoutMs },
            }),
          );
        }, timeoutMs);
      }
      if (signal !== undefined) {
        const onAbort = (): void => {
          if (!this.#remove(namespace, name, waiter)) return;
          reject(abortedError(namespace, name, signal.reason));
        };
        waiter.signal = signal;
        waiter.onAbort = onAbort;
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Resolves every waiter of `namespace`/`name` with `value`. */
  resolve(namespace: string, name: string, value: unknown): void {
    const names = this.#byNamespace.get(namespace);
    const set = names?.get(name);
    if (names === undefined || set === undefined) return;
    names.delete(name);
    if (names.size === 0) this.#byNamespace.delete(namespace);
    for (const waiter of set) {
      this.#release(waiter);
      waiter.resolve(value);
    }
  }

  /** Rejects every pending waiter with `FND_SYSTEM_ABORTED` (cause: `reason`). */
  rejectAll(reason?: unknown): void {
    const all = [...this.#byNamespace];
    this.#byNamespace.clear();
    for (const [namespace, names] of all) {
      for (const [name, set] of names) {
        for (const waiter of set) {
          this.#release(waiter);
          waiter.reject(
            new FoundationError('FND_SYSTEM_ABORTED', {
              message: `Stopped waiting for service "${namespace}/${name}": the registry rejected its waiters`,
              context: { namespace, name },
              cause: reason,
            }),
          );
        }
      }
    }
  }

  #add(namespace: string, name: string, waiter: Waiter): void {
    let names = this.#byNamespace.get(namespace);
    if (names === undefined) {
      names = new Map();
      this.#byNamespace.set(namespace, names);
    }
    let set = names.get(name);
    if (set === undefined) {
      set = new Set();
      names.set(name, set);
    }
    set.add(waiter);
    this.#count++;
  }

  /** Removes one waiter (timeout / abort path); false when it had already settled. */
  #remove(namespace: string, name: string, waiter: Waiter): boolean {
    const names = this.#byNamespace.get(namespace);
    const set = names?.get(name);
    if (names === undefined || set?.delete(waiter) !== true) return false;
    if (set.size === 0) names.delete(name);
    if (names.size === 0) this.#byNamespace.delete(namespace);
    this.#release(waiter);
    return true;
  }

  /** Cancels the waiter's timer and abort listener and counts it out. Called exactly once per waiter. */
  #release(waiter: Waiter): void {
    this.#count--;
    waiter.timer?.cancel();
    waiter.timer = undefined;
    if (waiter.signal !== undefined && waiter.onAbort !== undefined) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
    }
    waiter.signal = undefined;
    waiter.onAbort = undefined;
  }
}

function abortedError(namespace: string, name: string, reason: unknown): FoundationError {
  return new FoundationError('FND_SYSTEM_ABORTED', {
    message: `Stopped waiting for service "${namespace}/${name}": the signal was aborted`,
    context: { namespace, name },
    cause: reason,
  });
}
