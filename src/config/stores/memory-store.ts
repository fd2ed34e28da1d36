/**
 * Config versions in memory: nothing survives the process. Stores made with the same
 * {@link ConfigWatchHub} share their versions and watchers (one hub per memory `Storage` object).
 *
 * @module
 */
import type { ConfigVersionRecord, ConfigVersionStore } from '../types.js';
import { ConfigWatchHub } from './config-watch-hub.js';
import type { MemoryConfigVersionLog } from './memory-version-log.js';
import { StoreWatchers } from './store-watchers.js';
import {
  decodeConfigVersion,
  encodedToRow,
  encodeConfigVersion,
  isStorableVersion,
  listArgs,
  sinceArg,
  versionConflict,
} from './version-record-codec.js';

/** Options of {@link MemoryConfigVersionStore}. */
export interface MemoryConfigVersionStoreOptions {
  /** Shares versions and watchers with every other store made with this hub. Default: a private hub. */
  readonly hub?: ConfigWatchHub;
}

/**
 * A {@link ConfigVersionStore} in memory. Records go through the same checks and JSON round trip as the SQL
 * stores, so a record that a memory store accepts reads back the same everywhere.
 *
 * @example
 * ```ts
 * const store = new MemoryConfigVersionStore();
 * await store.append({ version: 1, at: Date.now(), kind: 'initial', node: 'a', overrides: {}, config: {}, changes: [] });
 * ```
 */
export class MemoryConfigVersionStore implements ConfigVersionStore {
  /** Always `memory`. */
  readonly kind = 'memory';
  readonly #hub: ConfigWatchHub;
  readonly #log: MemoryConfigVersionLog;
  readonly #watchers: StoreWatchers;

  constructor(options: MemoryConfigVersionStoreOptions = {}) {
    this.#hub = options.hub ?? new ConfigWatchHub();
    this.#log = this.#hub.memoryLog();
    this.#watchers = new StoreWatchers(this.#hub);
  }

  /** {@inheritDoc ConfigVersionStore.open} */
  open(): Promise<void> {
    return Promise.resolve();
  }

  /** {@inheritDoc ConfigVersionStore.close} */
  close(): Promise<void> {
    this.#watchers.clear();
    return Promise.resolve();
  }

  /** {@inheritDoc ConfigVersionStore.latest} */
  latest(): Promise<ConfigVersionRecord | undefined> {
    return Promise.resolve(this.#read(this.#log.latest));
  }

  /** {@inheritDoc ConfigVersionStore.get} */
  get(version: number): Promise<ConfigVersionRecord | undefined> {
    return Promise.resolve(isStorableVersion(version) ? this.#read(version) : undefined);
  }

  /** {@inheritDoc ConfigVersionStore.list} */
  async list(options?: {
    readonly limit?: number;
    readonly before?: number;
  }): Promise<ConfigVersionRecord[]> {
    await Promise.resolve();
    const { limit, before } = listArgs(options);
    const newest = Math.min(this.#log.latest, before === undefined ? Infinity : before - 1);
    return this.#log
      .range(newest - limit + 1, newest)
      .reverse()
      .map(decodeConfigVersion);
  }

  /** {@inheritDoc ConfigVersionStore.since} */
  async since(version: number): Promise<ConfigVersionRecord[]> {
    await Promise.resolve();
    return this.#log.range(sinceArg(version) + 1, this.#log.latest).map(decodeConfigVersion);
  }

  /** {@inheritDoc ConfigVersionStore.append} */
  async append(record: ConfigVersionRecord): Promise<void> {
    await Promise.resolve();
    const encoded = encodeConfigVersion(record);
    const latest = this.#log.latest;
    if (encoded.version !== latest + 1) throw versionConflict(encoded.version, latest);
    this.#log.push(encodedToRow(encoded));
    this.#hub.notify(encoded.version);
  }

  /** {@inheritDoc ConfigVersionStore.watch} */
  watch(onVersion: (version: number) => void): () => void {
    return this.#watchers.add(onVersion);
  }

  #read(version: number): ConfigVersionRecord | undefined {
    const row = this.#log.row(version);
    return row === undefined ? undefined : decodeConfigVersion(row);
  }
}
