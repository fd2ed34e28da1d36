/**
 * The {@link Config} interface: what `createConfig()` returns and what `foundation.config` is.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import type { HealthReport } from '../kernel/service.js';
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
  ConfigVersionStore,
  DeepReadonly,
  JsonObject,
} from './types.js';

/**
 * The part of a {@link Config} that does not depend on its type: what generic code (the control bus, the
 * CLI, the composition root) holds, whatever the user's schema is.
 */
export interface ConfigView {
  /** The current version (1 after the first load; 0 before start). */
  readonly version: number;
  /** The current snapshot (untyped; {@link Config.snapshot} is typed). */
  snapshot(): unknown;
  /** The whole current snapshot, secrets redacted (for display: the control bus, the CLI). */
  redacted(): JsonObject;
  /** Which source gave the value at `path`, each layer's value, and whether it is secret or mutable. */
  explain(path: string): ConfigExplanation;
  /** Whether `update` may change `path` at run time. */
  isMutable(path: string): boolean;
  /** The declared mutable path patterns (exact paths and globs). */
  readonly mutablePaths: readonly string[];
  /** Sets one value at run time (see {@link ConfigView.updateBatch}). */
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
  /**
   * A new version with `version`'s runtime overrides, plus overrides for mutable paths whose file or
   * environment values moved since, so those read as they did then; paths that are not mutable keep their
   * current file and environment values. `FND_CONFIG_VERSION_NOT_FOUND` if it never existed.
   */
  rollback(version: number, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult>;
  /** Versions newest first (secrets redacted). */
  history(options?: { readonly limit?: number; readonly before?: number }): Promise<ConfigVersionInfo[]>;
  /** One version with its whole configuration (secrets redacted). */
  getVersion(version: number): Promise<ConfigVersionDetail>;
  /** Counters and state for status pages and health. */
  status(): ConfigStatus;
}

/**
 * A typed, layered, versioned configuration. Reads are synchronous property reads on an immutable snapshot;
 * changes are validated as a whole before anything is applied, create a new version, and are persisted and
 * shared with other nodes once the config is started with a store. The members that do not depend on `T` are
 * those of `ConfigView`.
 */
export interface Config<T> extends ConfigView {
  /** The current snapshot: deeply frozen; a later change swaps in a new snapshot, never mutates this one. */
  snapshot(): DeepReadonly<T>;
  /** The value at a dotted path of the current snapshot; `FND_CONFIG_UNKNOWN_PATH` when it does not exist. */
  get<P extends ConfigPath<T>>(path: P): DeepReadonly<ConfigPathValue<T, P>>;
  /**
   * Subscribes to changes under `prefix` (`''` or `'*'` for everything; `limits` covers `limits.rps`).
   * Returns a function that unsubscribes (also usable with `using` as a Disposable).
   */
  subscribe(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable;
}

/** An event a config asks to be recorded (the foundation appends it to its event store). */
export interface ConfigEventRecord {
  /** A stable id, the same on every retry (`config-v<version>` for a version), so a retried append is idempotent. */
  readonly id: string;
  /** The event type: an applied version, a rollback, or a refused file reload. */
  readonly type: 'config.updated' | 'config.rolled_back' | 'config.reload_failed';
  /** The event payload (version, changes with secret values redacted, or the reload error). */
  readonly data: JsonObject;
  /** The correlation id of the change that caused the event. */
  readonly correlationId: string | undefined;
}

/** What a config needs from its surroundings; all optional. */
export interface ConfigDependencies {
  /** The time source for version timestamps and reload backoff. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Where versions live (or a function that makes the store at `start()`). Default: an in-memory store
   * (nothing survives the process).
   */
  readonly store?: ConfigVersionStore | (() => ConfigVersionStore);
  /** Records a change as an event; retried from the side-effect queue when it fails. */
  readonly recordEvent?: (event: ConfigEventRecord) => Promise<unknown>;
  /** This node's name in version records (or a function giving it). Default: the host name. */
  readonly node?: string | (() => string);
}

/** The lifecycle of a config, whatever its type. */
export interface ConfigLifecycle {
  /**
   * Opens the version store and adopts its latest version (or writes version 1), starts watching the file and
   * the store (and reads the file once more: an edit made while the config was stopped becomes a `file`
   * version). Until then reads work (version 0) and changes are refused with `FND_SYSTEM_SERVICE_UNAVAILABLE`.
   */
  start(): Promise<void>;
  /** Stops watching; changes are refused again. Waits for a change or a file reload in progress. */
  stop(): Promise<void>;
  /** `degraded` while the file holds a refused edit or a version from another node could not be applied. */
  health(): HealthReport;
  /** Resolves when every pending side effect has run or given up (tests, graceful shutdown). */
  settled(): Promise<void>;
}

/** A config with its lifecycle: `start()` attaches the store and the file watch, `stop()` detaches them. */
export interface ManagedConfig<T> extends Config<T>, ConfigLifecycle {}

/** A managed config seen without its type (generic code: the composition root, the control bus). */
export interface ManagedConfigView extends ConfigView, ConfigLifecycle {}
