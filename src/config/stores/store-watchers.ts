/**
 * The watchers one in-process config version store registered on its {@link ConfigWatchHub}, so that
 * `close()` removes exactly those.
 *
 * @module
 */
import type { ConfigWatchHub } from './config-watch-hub.js';

/** One store's registrations on a hub. */
export class StoreWatchers {
  readonly #hub: ConfigWatchHub;
  readonly #removals = new Set<() => void>();

  constructor(hub: ConfigWatchHub) {
    this.#hub = hub;
  }

  /** Registers `onVersion` on the hub; the returned function removes it (harmless twice). */
  add(onVersion: (version: number) => void): () => void {
    const remove = this.#hub.watch(onVersion);
    const removal = (): void => {
      this.#removals.delete(removal);
      remove();
    };
    this.#removals.add(removal);
    return removal;
  }

  /** Removes every watcher this store registered. */
  clear(): void {
    for (const removal of [...this.#removals]) removal();
  }
}
