/**
 * A small typed event hub: listeners per event name, each `on` returns a function that removes it.
 * A throwing listener is isolated (reported through `onListenerError`) and never breaks the emitter or the
 * other listeners. Not an EventEmitter: no string typos, no `error` event special case, no re-emit chains.
 *
 * @module
 */

/** Removes the listener it was returned for. Calling it again is harmless. */
export type Unsubscribe = () => void;

/** A typed event hub over an event map `{ eventName: payload }`. */
export class TypedEvents<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  /** @param onListenerError - called when a listener throws; defaults to ignoring the error. */
  constructor(onListenerError?: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError ?? (() => undefined);
  }

  /** Adds a listener for `event`; returns its remover. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): Unsubscribe {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const fn = listener as (payload: never) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Whether `event` has at least one listener. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        try {
          this.#onListenerError(error, event);
        } catch {
          // The error reporter itself failed; nothing sensible is left to do.
        }
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
