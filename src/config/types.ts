/**
 * The configuration capability's public types: the typed paths, the change and version records, the options of
 * {@link Config}, and the port its version stores implement (memory, SQLite, PostgreSQL).
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

/** A JSON value as configuration holds it: no functions, symbols, bigints, class instances or cycles. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A JSON object (the shape of a whole configuration and of each layer). */
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * Where a configuration value came from, lowest precedence first: defaults (given in code, and the schema's
 * own), the config file, environment variables, arguments (explicit `createFoundation` options and command-line
 * flags), and runtime updates.
 */
export type ConfigSource = 'default' | 'file' | 'env' | 'argument' | 'runtime';

/** The precedence of the sources, lowest first. */
export const CONFIG_SOURCES: readonly ConfigSource[] = Object.freeze([
  'default',
  'file',
  'env',
  'argument',
  'runtime',
]);

/** The placeholder that replaces a secret value wherever configuration leaves the process. */
export const REDACTED = '[redacted]';

// ── typed paths ────────────────────────────────────────────────────────────────────────────────────────

type Leaf =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | Date
  | RegExp
  | ((...args: never[]) => unknown);
type Depth = [never, 0, 1, 2, 3, 4, 5, 6, 7];

/**
 * Every dotted path of `T` (objects and their leaves; arrays are leaves), to a depth of eight:
 * `ConfigPath<{ limits: { rps: number } }>` is `'limits' | 'limits.rps'`.
 */
export type ConfigPath<T, D extends number = 8> = unknown extends T
  ? string
  : [D] extends [never]
    ? never
    : T extends Leaf | readonly unknown[]
      ? never
      : {
          [K in keyof T & string]:
            | K
            | (ConfigPath<NonNullable<T[K]>, Depth[D]> extends infer S extends string ? `${K}.${S}` : never);
        }[keyof T & string];

/** The type at a dotted path of `T`: `ConfigPathValue<{ limits: { rps: number } }, 'limits.rps'>` is `number`. */
export type ConfigPathValue<T, P extends string> = unknown extends T
  ? unknown
  : P extends `${infer K}.${infer Rest}`
    ? K extends keyof T
      ? ConfigPathValue<NonNullable<T[K]>, Rest> | (undefined extends T[K] ? undefined : never)
      : never
    : P extends keyof T
      ? T[P]
      : never;

/** A deeply read-only view of `T` (what readers get: snapshots are frozen). */
export type DeepReadonly<T> = unknown extends T
  ? T
  : T extends Leaf
    ? T
    : T extends readonly (infer E)[]
      ? readonly DeepReadonly<E>[]
      : { readonly [K in keyof T]: DeepReadonly<T[K]> };

// ── changes and versions ───────────────────────────────────────────────────────────────────────────────

/** One changed leaf: `old` is `undefined` when the path was added, `new` when it was removed. */
export interface ConfigChange {
  /** The dotted path of the leaf, e.g. `limits.maxRps`. */
  readonly path: string;
  /** The value before the change (`undefined` when the path was added; redacted when secret). */
  readonly old: JsonValue | undefined;
  /** The value after the change (`undefined` when the path was removed; redacted when secret). */
  readonly new: JsonValue | undefined;
}

/** One change asked for: set `value` at `path`, or remove the runtime override at `path` (`unset: true`). */
export type ConfigChangeInput =
  | { readonly path: string; readonly value: unknown; readonly unset?: false }
  | { readonly path: string; readonly unset: true };

/** Why a version was created. */
export type ConfigVersionKind = 'initial' | 'update' | 'rollback' | 'file';

/** Who asked for a change and why; stored with the version and put on its event. */
export interface ConfigChangeMetadata {
  /** Free text, at most 500 characters. */
  readonly reason?: string;
  /** Who made the change (a user, a service), at most 200 characters. */
  readonly actor?: string;
  /** Defaults to the current context's correlation id. */
  readonly correlationId?: string;
}

/** A version as its store keeps it. Versions are numbered 1, 2, 3… without gaps. */
export interface ConfigVersionRecord {
  /** The version number: 1 for the first, then one more for each change. */
  readonly version: number;
  /** Wall ms when it was created. */
  readonly at: number;
  /** Why the version was created. */
  readonly kind: ConfigVersionKind;
  /** The runtime layer (a sparse tree of runtime overrides) after this version. */
  readonly overrides: JsonObject;
  /** The whole configuration as the writing node saw it after this version (secret values included). */
  readonly config: JsonObject;
  /** What changed from the previous version on the writing node, secret values redacted. */
  readonly changes: readonly ConfigChange[];
  /** For `rollback`: the version rolled back to. */
  readonly rolledBackTo?: number;
  /** The node (foundation name) that wrote it. */
  readonly node: string;
  /** The reason given with the change ({@link ConfigChangeMetadata.reason}). */
  readonly reason?: string;
  /** Who made the change ({@link ConfigChangeMetadata.actor}). */
  readonly actor?: string;
  /** The correlation id of the change, to find its event and log lines. */
  readonly correlationId?: string;
}

/** A version as readers outside the config see it ({@link ConfigView.history}): secrets redacted. */
export type ConfigVersionInfo = Omit<ConfigVersionRecord, 'overrides' | 'config'>;

/** A version with its whole configuration, secrets redacted ({@link ConfigView.getVersion}). */
export interface ConfigVersionDetail extends ConfigVersionInfo {
  /** The whole configuration at that version, secret values redacted. */
  readonly config: JsonObject;
}

/** Options of `update`, `updateBatch` and `rollback`. */
export interface ConfigUpdateOptions extends ConfigChangeMetadata {
  /** Compare-and-set: refuse with `FND_CONFIG_VERSION_CONFLICT` unless the current version is this one. */
  readonly expectedVersion?: number;
  /** Validate and compute the diff, apply nothing. */
  readonly dryRun?: boolean;
}

/** One validation problem: the dotted path (empty for the root) and the validator's message. */
export interface ConfigIssue {
  /** The dotted path of the invalid value; empty for the root. */
  readonly path: string;
  /** The validator's message for the value at `path`. */
  readonly message: string;
}

/** What `update`, `updateBatch` and `rollback` return. */
export interface ConfigUpdateResult {
  /** Whether a new version was applied (`false` for a dry run, and when nothing changed). */
  readonly applied: boolean;
  /** Whether the call was a dry run (`dryRun: true`): nothing applied. */
  readonly dryRun: boolean;
  /** The version now current (for a dry run: the version the change was checked against). */
  readonly version: number;
  /** The version that was current before the change. */
  readonly previousVersion: number;
  /** The leaves that change (secret values redacted). */
  readonly changes: readonly ConfigChange[];
  /** Always `true` for an applied change; a dry run reports the validation result here instead of throwing. */
  readonly valid: boolean;
  /** The validation problems of a refused dry run; empty when `valid`. */
  readonly issues: readonly ConfigIssue[];
}

/** What a subscriber receives after a change is applied. Values are real (not redacted): it runs in-process. */
export interface ConfigChangeEvent<T> {
  /** The version just applied. */
  readonly version: number;
  /** The version that was current before this one. */
  readonly previousVersion: number;
  /** Why the version was created; `remote` when it was applied by another node. */
  readonly kind: ConfigVersionKind | 'remote';
  /** The changed leaves under the subscriber's prefix. */
  readonly changes: readonly ConfigChange[];
  /** The new configuration. */
  readonly config: DeepReadonly<T>;
  /** The correlation id of the change, when it had one. */
  readonly correlationId: string | undefined;
  /** Who made the change, when the change said. */
  readonly actor: string | undefined;
  /** Why the change was made, when the change said. */
  readonly reason: string | undefined;
}

/** A proposed change shown to `prepare` before it is applied. */
export interface ConfigProposal<T> {
  /** Why the version would be created. */
  readonly kind: ConfigVersionKind;
  /** The leaves under the subscriber's prefix that would change. */
  readonly changes: readonly ConfigChange[];
  /** The configuration now. */
  readonly current: DeepReadonly<T>;
  /** The configuration after the change, if no subscriber vetoes it. */
  readonly proposed: DeepReadonly<T>;
}

/** A veto returned from `prepare`: the change is refused with `FND_CONFIG_UPDATE_VETOED` and this reason. */
export interface ConfigVeto {
  /** The reason of the refusal, reported in the error. */
  readonly veto: string;
}

/** A subscriber of {@link Config.subscribe}. */
export interface ConfigSubscriber<T> {
  /** Called after a change under the prefix is applied (not awaited by the change; errors are isolated). */
  onChange?(event: ConfigChangeEvent<T>): void | Promise<void>;
  /**
   * Called before a local change under the prefix is applied; return a {@link ConfigVeto} to refuse it. A
   * prepare that throws does not veto: it is counted and reported like a failing `onChange`. Versions that
   * arrive from other nodes are already committed and skip this phase.
   */
  readonly prepare?: (
    proposal: ConfigProposal<T>,
  ) => ConfigVeto | undefined | Promise<ConfigVeto | undefined>;
}

/** Where a value came from ({@link ConfigView.explain}); secret values are redacted. */
export interface ConfigExplanation {
  /** The dotted path explained. */
  readonly path: string;
  /** The current value at `path` (`undefined` when unset; redacted when secret). */
  readonly value: JsonValue | undefined;
  /** The source of the current value (`default` also covers defaults the schema filled in). */
  readonly source: ConfigSource;
  /** Each layer's value at this path, lowest precedence first (only layers that have one). */
  readonly layers: ReadonlyArray<{ readonly source: ConfigSource; readonly value: JsonValue }>;
  /** The file the `file` layer was read from, when it has one. */
  readonly file?: string;
  /** The environment variable that set it, when `env` did. */
  readonly envVar?: string;
  /** The version the explanation was made at. */
  readonly version: number;
  /** Whether the path is secret (its values are redacted). */
  readonly secret: boolean;
  /** Whether `update` may change it at run time. */
  readonly mutable: boolean;
}

/** Counters and state of a config, for status pages and health. */
export interface ConfigStatus {
  /** The current version. */
  readonly version: number;
  /** The config file, when the config has one. */
  readonly file: string | undefined;
  /** `invalid` while the watched file holds an edit that was refused (health is `degraded`). */
  readonly fileState: 'ok' | 'invalid' | 'missing' | 'none';
  /** The last refused file reload or failed operation, when there was one. */
  readonly lastError: { readonly code: string; readonly message: string; readonly at: number } | undefined;
  /** How many versions were applied since start. */
  readonly updates: number;
  /** How many changes were refused (validation, veto, conflict, limits). */
  readonly refused: number;
  /** How many subscribers are registered now. */
  readonly subscribers: number;
  /** How many subscriber calls (`prepare` or `onChange`) threw or rejected. */
  readonly subscriberErrors: number;
  /** Side effects (event records) waiting, failed and dropped. */
  readonly sideEffects: { readonly pending: number; readonly failed: number; readonly dropped: number };
  /** Whether versions are kept in a store (and shared with other nodes on PostgreSQL). */
  readonly persisted: boolean;
}

// ── options ────────────────────────────────────────────────────────────────────────────────────────────

/** Environment variables as a source. */
export interface ConfigEnvOptions {
  /** Only variables starting with this prefix are read, e.g. `APP_`. Required (never the whole env). */
  readonly prefix: string;
  /** Separator of nested keys after the prefix. Default `__` (`APP_LIMITS__MAX_RPS` → `limits.maxRps`). */
  readonly separator?: string;
  /** The variables to read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Limits on what an update may carry. */
export interface ConfigLimits {
  /** Largest JSON size of one update's values, bytes. Default 64 KiB. */
  readonly maxValueBytes?: number;
  /** Deepest nesting of a value. Default 20. */
  readonly maxDepth?: number;
  /** Most changes in one batch. Default 100. */
  readonly maxChanges?: number;
  /** Largest config file, bytes. Default 1 MiB. */
  readonly maxFileBytes?: number;
}

/** Options of `createConfig`. */
export interface ConfigOptions<S extends StandardSchemaV1 = StandardSchemaV1> {
  /** A Standard Schema validator (zod 4, valibot, arktype…) of the whole configuration; must validate synchronously. */
  readonly schema: S;
  /** Defaults below every other source (the schema's own defaults also apply). */
  readonly defaults?: JsonObject;
  /** A JSON or YAML file (`.json`, `.yaml`, `.yml`); missing is allowed unless `required`. */
  readonly file?: string | { readonly path: string; readonly required?: boolean; readonly watch?: boolean };
  /** The environment variables to read as a layer above the file. */
  readonly env?: ConfigEnvOptions;
  /** Explicit values above the environment (command-line flags, options given in code to override). */
  readonly arguments?: JsonObject;
  /** Paths `update` may change: exact dotted paths and globs (`*` one segment, `**` any). Default none. */
  readonly mutable?: readonly string[];
  /** Paths whose values are secret (exact and globs; a secret object's whole subtree is secret). */
  readonly secrets?: readonly string[];
  /** Limits on what an update may carry. */
  readonly limits?: ConfigLimits;
}

// ── the store port ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Where a config keeps its versions. Implementations: memory (one process), SQLite (one machine), PostgreSQL
 * (many nodes, with LISTEN/NOTIFY). All pass `test/contracts/config-store.contract.ts`.
 */
export interface ConfigVersionStore {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /** Runs the `config` capability's migrations (once) and prepares statements. */
  open(): Promise<void>;
  /** Stops watching; never closes the shared storage. */
  close(): Promise<void>;
  /** The newest version, or `undefined` when none was written yet. */
  latest(): Promise<ConfigVersionRecord | undefined>;
  /** The version `version`, or `undefined` when it is not stored. */
  get(version: number): Promise<ConfigVersionRecord | undefined>;
  /** Versions newest first, at most `limit` (default 50, at most 1000), older than `before` when given. */
  list(options?: { readonly limit?: number; readonly before?: number }): Promise<ConfigVersionRecord[]>;
  /** Versions newer than `version`, oldest first (how a node catches up). */
  since(version: number): Promise<ConfigVersionRecord[]>;
  /**
   * Appends `record`, whose version must be the latest + 1 (1 for the first). When another writer took that
   * version first it rejects with `FND_CONFIG_VERSION_CONFLICT` and stores nothing. On PostgreSQL the append
   * notifies every listening node in the same transaction.
   */
  append(record: ConfigVersionRecord): Promise<void>;
  /**
   * Calls `onVersion(version)` after a version is appended: by this store object (its own appends included),
   * by another store object on the same storage in this process, or (PostgreSQL) by another process through
   * LISTEN/NOTIFY. After a lost and re-established listening connection it is called with the latest stored
   * version, so the watcher catches up on what it missed. Returns a function that stops watching.
   */
  watch(onVersion: (version: number) => void): () => void;
}
