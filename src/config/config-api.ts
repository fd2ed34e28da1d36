/**
 * The {@link Config} interface: what `createConfig()` returns and what `foundation.config` is.
 *
 * @module
 */
import type {
  ConfigChangeInput,
  ConfigExplanation,
  ConfigPath,
  ConfigPathValue,
  ConfigStatus,
  ConfigSubscriber,
  ConfigUpdateOptions,
  ConfigUpdateResult,
  ConfigVersionDetail,
  ConfigVersionInfo,
  DeepReadonly,
  JsonObject,
} from './types.js';

/**
 * The part of a {@link Config} that does not depend on its type: what generic code (the control bus, the
 * CLI, the composition root) holds, whatever the user's schema is.
 */
export interface ConfigView {
  readonly version: number;
  /** The current snapshot (untyped). */
  snapshot(): unknown;
  /** The whole current snapshot, secrets redacted. */
  redacted(): JsonObject;
  explain(path: string): ConfigExplanation;
  isMutable(path: string): boolean;
  readonly mutablePaths: readonly string[];
  update(path: string, value: unknown, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult>;
  updateBatch(
    changes: readonly ConfigChangeInput[],
    options?: ConfigUpdateOptions,
  ): Promise<ConfigUpdateResult>;
  rollback(version: number, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult>;
  history(options?: { readonly limit?: number; readonly before?: number }): Promise<ConfigVersionInfo[]>;
  getVersion(version: number): Promise<ConfigVersionDetail>;
  status(): ConfigStatus;
}

/**
 * A typed, layered, versioned configuration. Reads are synchronous property reads on an immutable snapshot;
 * changes are validated as a whole before anything is applied, create a new version, and are persisted and
 * shared with other nodes once the config is started with a store.
 */
export interface Config<T> extends ConfigView {
  /** The current version (1 after the first load). */
  readonly version: number;
  /** The current snapshot: deeply frozen; a later change swaps in a new snapshot, never mutates this one. */
  snapshot(): DeepReadonly<T>;
  /** The value at a dotted path of the current snapshot; `FND_CONFIG_UNKNOWN_PATH` when it does not exist. */
  get<P extends ConfigPath<T>>(path: P): DeepReadonly<ConfigPathValue<T, P>>;
  /** The whole current snapshot, secrets redacted (for display: the control bus, the CLI). */
  redacted(): JsonObject;
  /** Which source gave the value at `path`, each layer's value, and whether it is secret or mutable. */
  explain(path: string): ConfigExplanation;
  /** Whether `update` may change `path` at run time. */
  isMutable(path: string): boolean;
  /** The declared mutable path patterns (exact paths and globs). */
  readonly mutablePaths: readonly string[];
  /** Sets one value at run time (see {@link Config.updateBatch}). */
  update(path: string, value: unknown, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult>;
  /**
   * Applies several changes as one version: each path checked (syntax, mutability, size), the whole resulting
   * configuration validated, subscribers' `prepare` consulted, then stored (compare-and-set on the version)
   * and swapped in at once — or nothing at all. A dry run returns the diff and the validation result.
   */
  updateBatch(
    changes: readonly ConfigChangeInput[],
    options?: ConfigUpdateOptions,
  ): Promise<ConfigUpdateResult>;
  /** A new version whose configuration equals `version`'s. `FND_CONFIG_VERSION_NOT_FOUND` if it never existed. */
  rollback(version: number, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult>;
  /** Versions newest first (secrets redacted). */
  history(options?: { readonly limit?: number; readonly before?: number }): Promise<ConfigVersionInfo[]>;
  /** One version with its whole configuration (secrets redacted). */
  getVersion(version: number): Promise<ConfigVersionDetail>;
  /**
   * Subscribes to changes under `prefix` (`''` or `'*'` for everything; `limits` covers `limits.rps`).
   * Returns a function that unsubscribes (also usable with `using` as a Disposable).
   */
  subscribe(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable;
  status(): ConfigStatus;
}
