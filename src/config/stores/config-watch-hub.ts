/**
 * `ConfigWatchHub`: the in-process state the config version stores of ONE `Storage` object share — the
 * watchers that appends through any of those stores notify (memory and SQLite), and, on a memory storage, the
 * versions themselves. The caller creates one per `Storage` and passes it to every
 * `createConfigVersionStore(storage, { hub })` call for that storage: there is no module-level registry.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { Storage } from '../../storage/index.js';
import { MemoryConfigVersionLog } from './memory-version-log.js';

const watcherFailed = telemetryEvent('config:watcher_failed');

/**
 * Shared by the config version stores of one `Storage` object (see the module notes). Watchers are called
 * synchronously after an append commits; one that throws is isolated (reported on
 * `foundation:config:watcher_failed`) and never fails the append or the other watchers.
 *
 * @example
 * ```ts
 * const hub = new ConfigWatchHub();
 * const a = createConfigVersionStore(storage, { hub });
 * const b = createConfigVersionStore(storage, { hub });
 * b.watch((version) => console.log('new version', version)); // called for a.append(…) too
 * ```
 */
export class ConfigWatchHub {
  readonly #watchers = new Set<(version: number) => void>();
  #storage: Storage | undefined;
  #memory: MemoryConfigVersionLog | undefined;

  /** How many watchers are registered. */
  get size(): number {
    return this.#watchers.size;
  }

  /**
   * Binds the hub to `storage` on first use; a hub serves one `Storage` object only.
   *
   * @throws FoundationError `FND_DATA_INVALID_INPUT` when the hub already serves another `Storage` object.
   */
  attach(storage: Storage): void {
    if (this.#storage === undefined) {
      this.#storage = storage;
      return;
    }
    if (this.#storage !== storage) {
      throw new FoundationError('FND_DATA_INVALID_INPUT', {
        message: `A ConfigWatchHub serves one Storage object; it already serves ${this.#storage.description}`,
        context: { store: storage.description },
      });
    }
  }

  /** The versions of a memory storage (created on first use). */
  memoryLog(): MemoryConfigVersionLog {
    this.#memory ??= new MemoryConfigVersionLog();
    return this.#memory;
  }

  /** Registers `onVersion` (each call registers it anew); returns its removal. */
  watch(onVersion: (version: number) => void): () => void {
    const wrapped = (version: number): void => {
      onVersion(version);
    };
    this.#watchers.add(wrapped);
    return () => {
      this.#watchers.delete(wrapped);
    };
  }

  /** Calls every watcher with `version`, each isolated. */
  notify(version: number): void {
    for (const watcher of [...this.#watchers]) {
      if (!this.#watchers.has(watcher)) continue; // removed by an earlier watcher
      try {
        watcher(version);
      } catch (error) {
        if (watcherFailed.hasSubscribers) {
          watcherFailed.emit(
            { version },
            { message: error instanceof Error ? error.message : String(error) },
          );
        }
      }
    }
  }
}
