/**
 * `createConfig()`: a typed, layered, versioned configuration (docs/config.md).
 *
 * Reading is a `Map` lookup on the current immutable state. Every change (a runtime update, a batch, a
 * rollback, a file edit) runs one pipeline under a lock: check the input, build the whole next configuration
 * from its layers, validate it with the schema, ask subscribers' `prepare`, append the version to the store
 * (compare-and-set on the version number), then swap the state in with one assignment. Side effects (the
 * change's event, notifications, telemetry) run after, in the background, retried from a bounded queue.
 * Versions written by other nodes arrive through the store's `watch` and are applied in order.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { currentCorrelationId, FoundationError } from '../errors/index.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import type { HealthReport } from '../kernel/service.js';
import type { Config, ConfigView } from './config-api.js';
import {
  checkChanges,
  checkConfigOptions,
  checkOptions,
  checkSingle,
  checkVersion,
  DEFAULT_LIMITS,
  type CheckedChange,
  type ResolvedLimits,
} from './config-input.js';
import {
  buildState,
  emptyLayers,
  firstUnknownKey,
  leafPaths,
  orderedLayers,
  type ConfigState,
  type LayerSet,
} from './config-state.js';
import { configTelemetry } from './config-telemetry.js';
import { watchConfigFile, type FileWatch } from './file-watcher.js';
import { diffJson } from './model/diff.js';
import { readEnvLayer } from './model/env.js';
import { readConfigFile, readConfigFileSync } from './model/file.js';
import { deepFreeze, isPlainObject, jsonEqual, toJsonValue } from './model/json-value.js';
import { layerValues, mergeLayers, sourceOf } from './model/merge.js';
import { getAt, parsePath, setAt, unsetAt } from './model/path.js';
import { compilePatterns, type PathMatcher } from './model/patterns.js';
import { createRedactor, type Redactor } from './model/redact.js';
import { invalidConfigError } from './model/schema.js';
import { SideEffectQueue } from './side-effects.js';
import { MemoryConfigVersionStore } from './stores/memory-store.js';
import { ConfigSubscribers } from './subscribers.js';
import type {
  ConfigChange,
  ConfigChangeInput,
  ConfigExplanation,
  ConfigIssue,
  ConfigOptions,
  ConfigStatus,
  ConfigSubscriber,
  ConfigUpdateOptions,
  ConfigUpdateResult,
  ConfigVersionDetail,
  ConfigVersionInfo,
  ConfigVersionKind,
  ConfigVersionRecord,
  ConfigVersionStore,
  DeepReadonly,
  JsonObject,
  JsonValue,
} from './types.js';

/** An event a config asks to be recorded (the foundation appends it to its event store). */
export interface ConfigEventRecord {
  /** A stable id, the same on every retry (`config-v<version>` for a version), so a retried append is idempotent. */
  readonly id: string;
  readonly type: 'config.updated' | 'config.rolled_back' | 'config.reload_failed';
  readonly data: JsonObject;
  readonly correlationId: string | undefined;
}

/** What a config needs from its surroundings; all optional. */
export interface ConfigDependencies {
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

/** How often a conflicting append (another node took the version) is retried on the newer state. */
const CAS_RETRIES = 5;

function unavailable(): FoundationError {
  return new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
    message: 'The config is not started: changes need its version store',
    context: { service: 'config' },
  });
}

function conflict(expected: number, current: number): FoundationError {
  return new FoundationError('FND_CONFIG_VERSION_CONFLICT', {
    message: `The config is at version ${String(current)}, not ${String(expected)}`,
    context: { expectedVersion: expected, version: current },
  });
}

interface FileSettings {
  readonly path: string;
  readonly required: boolean;
  readonly watch: boolean;
}

function fileSettings(file: ConfigOptions['file']): FileSettings | undefined {
  if (file === undefined) return undefined;
  if (typeof file === 'string') return { path: file, required: false, watch: true };
  return { path: file.path, required: file.required ?? false, watch: file.watch ?? true };
}

/** A pending change handed to the pipeline. */
interface Plan {
  readonly kind: ConfigVersionKind;
  /** The next layers given the current ones (the runtime layer for updates, the file layer for reloads). */
  readonly layers: (current: LayerSet, state: ConfigState) => LayerSet;
  /** Checks the built state (unknown paths) before it is accepted. */
  readonly check?: (next: ConfigState) => void;
  readonly options: ConfigUpdateOptions;
  readonly rolledBackTo?: number;
}

/**
 * Creates a config from a Standard Schema validator and its sources. Sources are read and validated at once
 * (synchronously): a corrupt file, a malformed environment variable or an invalid result throws here.
 *
 * @throws FoundationError `FND_CONFIG_FILE_INVALID`, `FND_CONFIG_ENV_INVALID`, `FND_CONFIG_INVALID_VALUE`,
 * `FND_CONFIG_INVALID_STRUCTURE` (malformed options — a file that is neither a path nor `{ path }`, an empty
 * or missing env prefix, `mutable`/`secrets` that are not arrays, limits that are not positive integers,
 * `defaults`/`arguments` that are not objects — or bad patterns).
 *
 * @example
 * ```ts
 * const config = createConfig({
 *   schema: z.object({ limits: z.object({ rps: z.number().int().positive().default(100) }).prefault({}) }),
 *   file: './app.json',
 *   env: { prefix: 'APP_' },
 *   mutable: ['limits.*'],
 * });
 * await config.start();
 * config.get('limits.rps'); // number
 * await config.update('limits.rps', 200, { reason: 'traffic spike' });
 * ```
 */
export function createConfig<S extends StandardSchemaV1>(
  options: ConfigOptions<S>,
  dependencies: ConfigDependencies = {},
): ManagedConfig<StandardSchemaV1.InferOutput<S>> {
  return new VersionedConfig<StandardSchemaV1.InferOutput<S>>(options, dependencies);
}

/** The implementation behind {@link createConfig}. */
export class VersionedConfig<T> implements ManagedConfig<T> {
  readonly #schema: StandardSchemaV1;
  readonly #clock: Clock;
  readonly #makeStore: () => ConfigVersionStore;
  #storeInstance: ConfigVersionStore | undefined;
  readonly #recordEvent: ConfigDependencies['recordEvent'];
  readonly #nodeName: () => string;
  readonly #limits: ResolvedLimits;
  readonly #file: FileSettings | undefined;
  readonly #envVars: ReadonlyMap<string, string>;
  readonly #mutable: PathMatcher;
  readonly #redactor: Redactor;
  readonly #subscribers: ConfigSubscribers<T>;
  readonly #effects: SideEffectQueue;
  readonly #telemetry = configTelemetry();
  #state: ConfigState;
  /** The runtime layer as the store has it (may differ from the applied state while diverged). */
  #overrides: JsonObject;
  #version = 0;
  /** The newest version seen in the store. */
  #head = 0;
  #redacted: JsonObject | undefined;
  #fileText: string | undefined;
  #fileState: ConfigStatus['fileState'];
  #diverged = false;
  #lastError: ConfigStatus['lastError'];
  #updates = 0;
  #refused = 0;
  #running = false;
  #lock: Promise<unknown> = Promise.resolve();
  #watch: FileWatch | undefined;
  #unwatchStore: (() => void) | undefined;
  #catchUpScheduled = false;
  /** The file reloads, one after the other (a reload never reads beside another). */
  #reloads: Promise<void> = Promise.resolve();
  #reloadQueued = false;

  constructor(options: ConfigOptions, dependencies: ConfigDependencies) {
    if (
      !isPlainObject(options) ||
      typeof options.schema !== 'object' ||
      typeof options.schema['~standard'] !== 'object'
    ) {
      throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
        message: 'createConfig needs a Standard Schema validator as `schema` (zod 4, valibot, arktype…)',
        context: {},
      });
    }
    checkConfigOptions(options);
    this.#schema = options.schema;
    this.#clock = dependencies.clock ?? systemClock;
    const store = dependencies.store;
    this.#makeStore =
      store === undefined
        ? () => new MemoryConfigVersionStore()
        : typeof store === 'function'
          ? store
          : () => store;
    this.#recordEvent = dependencies.recordEvent;
    const node = dependencies.node ?? (hostname().split('.')[0] || 'node');
    this.#nodeName = typeof node === 'function' ? node : () => node;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#file = fileSettings(options.file);
    this.#mutable = compilePatterns(options.mutable ?? []);
    this.#redactor = createRedactor(compilePatterns(options.secrets ?? []));
    this.#subscribers = new ConfigSubscribers<T>((error, phase, prefix) => {
      this.#telemetry.subscriberFailed.emit({ count: 1 }, { phase, prefix, code: error.code });
    });
    this.#effects = new SideEffectQueue({
      clock: this.#clock,
      onFailed: (name, error) => {
        this.#telemetry.sideEffectFailed.emit({ count: 1 }, { effect: name });
        this.#lastError = { code: error.code, message: error.message, at: this.#clock.now() };
      },
    });

    const limits = { maxBytes: Number.POSITIVE_INFINITY, maxDepth: this.#limits.maxDepth };
    const defaults =
      options.defaults === undefined ? {} : (toJsonValue(options.defaults, limits, 'defaults') as JsonObject);
    const argumentsLayer =
      options.arguments === undefined
        ? {}
        : (toJsonValue(options.arguments, limits, 'arguments') as JsonObject);
    let fileLayer: JsonObject = {};
    this.#fileState = 'none';
    if (this.#file !== undefined) {
      const read = readConfigFileSync(this.#file.path, this.#limits.maxFileBytes);
      if (read.state === 'missing') {
        if (this.#file.required) {
          throw new FoundationError('FND_CONFIG_FILE_INVALID', {
            message: `The config file ${this.#file.path} does not exist`,
            context: { file: this.#file.path },
          });
        }
        this.#fileState = 'missing';
      } else {
        fileLayer = read.value;
        this.#fileText = read.text;
        this.#fileState = 'ok';
      }
    }
    // Environment strings are coerced to the type of the value below them: the defaults and the file as
    // the schema completes them (its defaults included) when they validate, else as written.
    const below = buildState(this.#schema, { ...emptyLayers(), default: defaults, file: fileLayer });
    const envBase = below.ok
      ? below.state.json
      : mergeLayers([
          { source: 'default', value: defaults },
          { source: 'file', value: fileLayer },
        ]);
    const envRead =
      options.env === undefined
        ? { value: {}, vars: new Map<string, string>() }
        : readEnvLayer(
            {
              prefix: options.env.prefix,
              env: options.env.env ?? process.env,
              ...(options.env.separator === undefined ? {} : { separator: options.env.separator }),
            },
            envBase,
          );
    this.#envVars = envRead.vars;
    const layers: LayerSet = {
      ...emptyLayers(),
      default: defaults,
      file: fileLayer,
      env: envRead.value,
      argument: argumentsLayer,
    };
    const built = buildState(this.#schema, layers);
    if (!built.ok) throw this.#invalidSources(built.issues);
    this.#state = built.state;
    this.#overrides = layers.runtime;
  }

  /** The error for sources that do not validate; names the environment variables behind the issues. */
  #invalidSources(issues: readonly ConfigIssue[]): FoundationError {
    const invalid = invalidConfigError(issues, this.#redactor);
    const variables = issues.map((issue) => this.#envVar(issue.path)).filter((name) => name !== undefined);
    if (variables.length === 0) return invalid;
    return new FoundationError('FND_CONFIG_ENV_INVALID', {
      message: `Environment variable ${variables[0] ?? ''} gives an invalid value: ${invalid.message}`,
      context: { variables: [...new Set(variables)], issues: invalid.context.issues },
      cause: invalid,
    });
  }

  // ── reading ──────────────────────────────────────────────────────────────────────────────────────────

  get version(): number {
    return this.#version;
  }

  get mutablePaths(): readonly string[] {
    return this.#mutable.patterns;
  }

  snapshot(): DeepReadonly<T> {
    return this.#state.json as DeepReadonly<T>;
  }

  get(path: string): never {
    const value = this.#state.index.get(path);
    if (value !== undefined || this.#state.index.has(path)) return value as never;
    return this.#missing(path);
  }

  #missing(path: string): never {
    const segments = parsePath(path);
    const parent = this.#state.index.get(segments.slice(0, -1).join('.'));
    if (isPlainObject(parent)) return undefined as never; // an optional key that is absent
    throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
      message: `No config path "${segments.join('.')}"`,
      context: { path: segments.join('.') },
    });
  }

  redacted(): JsonObject {
    this.#redacted ??= deepFreeze(this.#redactor.redactTree(this.#state.json));
    return this.#redacted;
  }

  explain(path: string): ConfigExplanation {
    const segments = parsePath(path);
    const joined = segments.join('.');
    const state = this.#state;
    const value = getAt(state.json, segments);
    const layers = layerValues(orderedLayers(state.layers), segments);
    if (value === undefined && layers.length === 0) {
      throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
        message: `No config path "${joined}"`,
        context: { path: joined },
      });
    }
    const source = sourceOf(orderedLayers(state.layers), segments) ?? 'default';
    const envVar = source === 'env' ? this.#envVar(joined) : undefined;
    return {
      path: joined,
      value: this.#redactor.redactValue(joined, value),
      source,
      layers: layers.map((layer) => ({
        source: layer.source,
        value: this.#redactor.redactValue(joined, layer.value) ?? null,
      })),
      ...(this.#file !== undefined && layers.some((layer) => layer.source === 'file')
        ? { file: this.#file.path }
        : {}),
      ...(envVar === undefined ? {} : { envVar }),
      version: this.#version,
      secret: this.#redactor.isSecret(joined),
      mutable: this.#mutable.covers(joined),
    };
  }

  #envVar(path: string): string | undefined {
    for (let at = path; at !== ''; at = at.includes('.') ? at.slice(0, at.lastIndexOf('.')) : '') {
      const name = this.#envVars.get(at);
      if (name !== undefined) return name;
    }
    return undefined;
  }

  isMutable(path: string): boolean {
    return this.#mutable.covers(parsePath(path).join('.'));
  }

  status(): ConfigStatus {
    return {
      version: this.#version,
      file: this.#file?.path,
      fileState: this.#fileState,
      lastError: this.#lastError,
      updates: this.#updates,
      refused: this.#refused,
      subscribers: this.#subscribers.size,
      subscriberErrors: this.#subscribers.errors,
      sideEffects: this.#effects.counts(),
      persisted: this.#store.kind !== 'memory',
    };
  }

  health(): HealthReport {
    const details = { version: this.#version, fileState: this.#fileState, diverged: this.#diverged };
    if (this.#fileState === 'invalid') {
      return {
        status: 'degraded',
        message: `The config file holds a refused edit: ${this.#lastError?.message ?? ''}`,
        details,
      };
    }
    if (this.#diverged) {
      return {
        status: 'degraded',
        message: `A version from another node could not be applied here: ${this.#lastError?.message ?? ''}`,
        details,
      };
    }
    return { status: 'healthy', details };
  }

  subscribe(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable {
    return this.#subscribers.add(prefix, subscriber);
  }

  async history(
    options: { readonly limit?: number; readonly before?: number } = {},
  ): Promise<ConfigVersionInfo[]> {
    const records = await this.#store.list(options);
    return records.map((record) => this.#info(record));
  }

  async getVersion(version: number): Promise<ConfigVersionDetail> {
    const record = await this.#store.get(checkVersion(version));
    if (record === undefined) throw this.#versionNotFound(version);
    return { ...this.#info(record), config: this.#redactor.redactTree(record.config) };
  }

  #info(record: ConfigVersionRecord): ConfigVersionInfo {
    return {
      version: record.version,
      at: record.at,
      kind: record.kind,
      changes: this.#redactor.redactChanges(record.changes),
      node: record.node,
      ...(record.rolledBackTo === undefined ? {} : { rolledBackTo: record.rolledBackTo }),
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      ...(record.actor === undefined ? {} : { actor: record.actor }),
      ...(record.correlationId === undefined ? {} : { correlationId: record.correlationId }),
    };
  }

  #versionNotFound(version: number): FoundationError {
    return new FoundationError('FND_CONFIG_VERSION_NOT_FOUND', {
      message: `No config version ${String(version)}`,
      context: { version, latest: this.#head },
    });
  }

  settled(): Promise<void> {
    return this.#effects.idle();
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────────────

  /** The version store (made on first use). */
  get #store(): ConfigVersionStore {
    this.#storeInstance ??= this.#makeStore();
    return this.#storeInstance;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#store.open();
    await this.#exclusive(async () => {
      const latest = await this.#store.latest();
      if (latest === undefined) {
        await this.#writeInitial();
      } else {
        this.#adopt(latest, 'remote');
      }
    });
    this.#running = true;
    this.#unwatchStore = this.#store.watch((version) => {
      if (version > this.#head) this.#scheduleCatchUp();
    });
    // A version appended between `latest()` and `watch()` is caught up here.
    this.#scheduleCatchUp();
    if (this.#file?.watch === true) {
      this.#watch = watchConfigFile(
        this.#file.path,
        this.#clock,
        () => {
          this.#scheduleReload();
        },
        (error) => {
          this.#fail(
            new FoundationError('FND_CONFIG_FILE_INVALID', {
              message: `Watching ${this.#file?.path ?? ''} failed`,
              context: { file: this.#file?.path },
              cause: error,
            }),
          );
        },
      );
      // Edits made while the config was stopped (a restart by the supervisor) are read now.
      this.#scheduleReload();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#watch?.close();
    this.#watch = undefined;
    this.#unwatchStore?.();
    this.#unwatchStore = undefined;
    await this.#reloads;
    await this.#exclusive(() => Promise.resolve());
    await this.#store.close();
  }

  async #writeInitial(): Promise<void> {
    const record: ConfigVersionRecord = {
      version: 1,
      at: this.#clock.now(),
      kind: 'initial',
      overrides: this.#overrides,
      config: this.#state.json,
      changes: [],
      node: this.#nodeName(),
    };
    try {
      await this.#store.append(record);
      this.#version = 1;
      this.#head = 1;
    } catch (error) {
      if (!(error instanceof FoundationError) || error.code !== 'FND_CONFIG_VERSION_CONFLICT') throw error;
      const latest = await this.#store.latest();
      if (latest !== undefined) this.#adopt(latest, 'remote');
    }
  }

  /** Applies a stored version's overrides on this node's layers. */
  #adopt(record: ConfigVersionRecord, kind: 'remote'): void {
    this.#head = record.version;
    this.#overrides = record.overrides;
    const built = buildState(this.#schema, { ...this.#state.layers, runtime: record.overrides });
    if (!built.ok) {
      this.#diverged = true;
      this.#fail(
        invalidConfigError(
          built.issues,
          this.#redactor,
          `Version ${String(record.version)} from ${record.node} is invalid on this node`,
        ),
      );
      return;
    }
    this.#diverged = false;
    const changes = diffJson(this.#state.json, built.state.json);
    const previous = this.#version;
    this.#swap(built.state, record.version);
    if (previous !== 0 && changes.length > 0) {
      this.#telemetry.remoteApplied.emit(
        { changes: changes.length },
        { version: record.version, node: record.node },
      );
      this.#notify(kind, previous, changes, record);
    }
  }

  #scheduleCatchUp(): void {
    if (this.#catchUpScheduled) return;
    this.#catchUpScheduled = true;
    void this.#exclusive(async () => {
      this.#catchUpScheduled = false;
      await this.#catchUp();
    }).catch((error: unknown) => {
      this.#fail(error);
    });
  }

  async #catchUp(): Promise<void> {
    const records = await this.#store.since(this.#head);
    for (const record of records) {
      if (record.version === this.#head + 1) this.#adopt(record, 'remote');
    }
  }

  // ── changes ──────────────────────────────────────────────────────────────────────────────────────────

  update(path: string, value: unknown, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    return this.#guard(() =>
      this.#applyChanges(checkSingle(path, value, this.#limits), checkOptions(options)),
    );
  }

  updateBatch(
    changes: readonly ConfigChangeInput[],
    options?: ConfigUpdateOptions,
  ): Promise<ConfigUpdateResult> {
    return this.#guard(() => this.#applyChanges(checkChanges(changes, this.#limits), checkOptions(options)));
  }

  rollback(version: number, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    return this.#guard(async () => {
      const checkedOptions = checkOptions(options);
      // Refused like every change while stopped (before reading a store that may be closed).
      if (!this.#running) throw unavailable();
      const target = await this.#store.get(checkVersion(version));
      if (target === undefined) throw this.#versionNotFound(version);
      return this.#run({
        kind: 'rollback',
        rolledBackTo: version,
        options: checkedOptions,
        layers: (current) => {
          // The old runtime layer, plus overrides for mutable paths whose lower layers moved since.
          let runtime = target.overrides;
          const rebuilt = buildState(this.#schema, { ...current, runtime });
          if (rebuilt.ok) {
            for (const change of diffJson(rebuilt.state.json, target.config)) {
              if (change.new !== undefined && this.#mutable.covers(change.path)) {
                runtime = setAt(runtime, parsePath(change.path), change.new);
              }
            }
          }
          return { ...current, runtime };
        },
      });
    });
  }

  /** Runs a change, counting refusals. */
  async #guard(change: () => Promise<ConfigUpdateResult>): Promise<ConfigUpdateResult> {
    try {
      return await change();
    } catch (error) {
      this.#refused += 1;
      this.#telemetry.refused.emit(
        { count: 1 },
        { code: error instanceof FoundationError ? error.code : 'unknown' },
      );
      throw error;
    }
  }

  #applyChanges(changes: CheckedChange[], options: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    for (const change of changes) this.#checkMutable(change);
    return this.#run({
      kind: 'update',
      options,
      layers: (current) => {
        let runtime = current.runtime;
        for (const change of changes) {
          runtime =
            change.value === undefined
              ? unsetAt(runtime, change.segments)
              : setAt(runtime, change.segments, change.value);
        }
        return { ...current, runtime };
      },
      check: (next) => {
        for (const change of changes) {
          if (change.value === undefined) continue;
          const unknown = firstUnknownKey(change.path, change.value, next.json, next.index);
          if (unknown !== undefined) {
            throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
              message: `No config path "${unknown}" (the schema does not declare it)`,
              context: { path: unknown },
            });
          }
        }
      },
    });
  }

  #checkMutable(change: CheckedChange): void {
    const allowed =
      this.#mutable.covers(change.path) ||
      (change.value === undefined
        ? this.#mutable.touches(change.path)
        : this.#mutable.touches(change.path) &&
          leafPaths(change.path, change.value).every((leaf) => this.#mutable.covers(leaf)));
    if (!allowed) {
      throw new FoundationError('FND_CONFIG_UPDATE_FORBIDDEN', {
        message:
          this.#mutable.patterns.length === 0
            ? `"${change.path}" cannot change at run time: no path is declared mutable`
            : `"${change.path}" cannot change at run time; mutable paths: ${this.#mutable.patterns.join(', ')}`,
        context: { path: change.path, allowed: this.#mutable.patterns },
      });
    }
  }

  /** The change pipeline, under the lock. */
  #run(plan: Plan): Promise<ConfigUpdateResult> {
    return this.#exclusive(async () => {
      if (!this.#running) throw unavailable();
      const dryRun = plan.options.dryRun === true;
      for (let attempt = 0; ; attempt += 1) {
        const expected = plan.options.expectedVersion;
        if (expected !== undefined && expected !== this.#head) throw conflict(expected, this.#head);
        const current = this.#state;
        // Build on the store's runtime layer (equal to the applied one unless this node diverged).
        const layers = plan.layers({ ...current.layers, runtime: this.#overrides }, current);
        const built = buildState(this.#schema, layers);
        const base = this.#result(dryRun, []);
        if (!built.ok) {
          if (dryRun) return { ...base, valid: false, issues: built.issues };
          throw invalidConfigError(built.issues, this.#redactor);
        }
        plan.check?.(built.state);
        const changes = diffJson(current.json, built.state.json);
        const shown = this.#redactor.redactChanges(changes);
        if (dryRun) return { ...base, changes: shown };
        if (
          changes.length === 0 &&
          jsonEqual(layers.runtime, this.#overrides) &&
          jsonEqual(layers.file, current.layers.file)
        ) {
          return { ...base, dryRun: false };
        }
        const veto = await this.#subscribers.prepare({
          kind: plan.kind,
          changes,
          current: current.json as DeepReadonly<T>,
          proposed: built.state.json as DeepReadonly<T>,
        });
        if (veto !== undefined) {
          throw new FoundationError('FND_CONFIG_UPDATE_VETOED', {
            message: `A subscriber of "${veto.prefix}" vetoed the change: ${veto.reason}`,
            context: { prefix: veto.prefix, reason: veto.reason },
          });
        }
        const record = this.#record(plan, built.state, layers.runtime, shown);
        try {
          await this.#store.append(record);
        } catch (error) {
          if (!(error instanceof FoundationError) || error.code !== 'FND_CONFIG_VERSION_CONFLICT')
            throw error;
          // Another node took the version: apply what it wrote, then refuse (compare-and-set) or rebuild.
          await this.#catchUp();
          if (expected !== undefined || attempt >= CAS_RETRIES)
            throw conflict(expected ?? record.version - 1, this.#head);
          continue;
        }
        const previous = this.#version;
        this.#head = record.version;
        this.#overrides = layers.runtime;
        this.#diverged = false;
        this.#swap(built.state, record.version);
        this.#updates += 1;
        this.#afterChange(plan.kind, previous, changes, record);
        return {
          ...base,
          applied: true,
          dryRun: false,
          version: record.version,
          previousVersion: previous,
          changes: shown,
        };
      }
    });
  }

  #result(dryRun: boolean, changes: ConfigChange[]): ConfigUpdateResult {
    return {
      applied: false,
      dryRun,
      version: this.#version,
      previousVersion: this.#version,
      changes,
      valid: true,
      issues: [],
    };
  }

  #record(
    plan: Plan,
    state: ConfigState,
    overrides: JsonObject,
    changes: ConfigChange[],
  ): ConfigVersionRecord {
    const { reason, actor } = plan.options;
    const correlationId = plan.options.correlationId ?? currentCorrelationId();
    return {
      version: this.#head + 1,
      at: this.#clock.now(),
      kind: plan.kind,
      overrides,
      config: state.json,
      changes,
      node: this.#nodeName(),
      ...(plan.rolledBackTo === undefined ? {} : { rolledBackTo: plan.rolledBackTo }),
      ...(reason === undefined ? {} : { reason }),
      ...(actor === undefined ? {} : { actor }),
      ...(correlationId === undefined ? {} : { correlationId }),
    };
  }

  #swap(state: ConfigState, version: number): void {
    this.#state = state;
    this.#version = version;
    this.#redacted = undefined;
  }

  /** Telemetry, the event record and notifications of an applied local change; none of them can fail it. */
  #afterChange(
    kind: ConfigVersionKind,
    previous: number,
    changes: ConfigChange[],
    record: ConfigVersionRecord,
  ): void {
    this.#telemetry.updated.emit({ changes: changes.length }, { version: record.version, kind });
    const recordEvent = this.#recordEvent;
    if (recordEvent !== undefined) {
      const event: ConfigEventRecord = {
        id: `config-v${String(record.version)}`,
        type: kind === 'rollback' ? 'config.rolled_back' : 'config.updated',
        data: {
          version: record.version,
          previousVersion: previous,
          kind,
          changes: record.changes as unknown as JsonValue,
          node: record.node,
          ...(record.rolledBackTo === undefined ? {} : { rolledBackTo: record.rolledBackTo }),
          ...(record.reason === undefined ? {} : { reason: record.reason }),
          ...(record.actor === undefined ? {} : { actor: record.actor }),
        },
        correlationId: record.correlationId,
      };
      this.#effects.push(event.type, async () => {
        await recordEvent(event);
      });
    }
    this.#notify(kind, previous, changes, record);
  }

  #notify(
    kind: ConfigVersionKind | 'remote',
    previous: number,
    changes: ConfigChange[],
    record: ConfigVersionRecord,
  ): void {
    if (this.#subscribers.size === 0) return;
    this.#subscribers.notify({
      version: record.version,
      previousVersion: previous,
      kind,
      changes,
      config: this.#state.json as DeepReadonly<T>,
      correlationId: record.correlationId,
      actor: record.actor,
      reason: record.reason,
    });
  }

  // ── the file ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Queues a reload after the one in progress (at most one waits: it reads the file when it starts, so it
   * sees every edit made until then). Reloads never overlap, so an older read is never applied after a
   * newer one.
   */
  #scheduleReload(): void {
    if (this.#reloadQueued) return;
    this.#reloadQueued = true;
    this.#reloads = this.#reloads.then(() => {
      this.#reloadQueued = false;
      return this.#reloadFile().catch((error: unknown) => {
        this.#fail(error);
      });
    });
  }

  async #reloadFile(): Promise<void> {
    const file = this.#file;
    if (file === undefined || !this.#running) return;
    let next: JsonObject;
    let text: string | undefined;
    try {
      const read = await readConfigFile(file.path, this.#limits.maxFileBytes);
      if (read.state === 'missing') {
        // A file being replaced disappears for a moment; a deleted file keeps the last good layer.
        return;
      }
      if (read.text === this.#fileText) {
        // The last good contents are back (an invalid edit was reverted).
        if (this.#fileState === 'invalid') this.#fileState = 'ok';
        return;
      }
      next = read.value;
      text = read.text;
    } catch (error) {
      this.#refuseFile(error);
      return;
    }
    try {
      await this.#run({
        kind: 'file',
        options: { actor: 'file', reason: `edit of ${file.path}` },
        layers: (current) => ({ ...current, file: next }),
      });
      this.#fileText = text;
      this.#fileState = 'ok';
      this.#telemetry.reloaded.emit({ count: 1 }, { file: file.path, version: this.#version });
    } catch (error) {
      this.#refuseFile(error);
    }
  }

  #refuseFile(error: unknown): void {
    // A reload that was in flight when the config stopped: not an edit to refuse (the next start reads again).
    if (!this.#running) return;
    const file = this.#file?.path ?? '';
    this.#fileState = 'invalid';
    const failure =
      error instanceof FoundationError
        ? error
        : new FoundationError('FND_CONFIG_FILE_INVALID', {
            message: `Reading ${file} failed`,
            context: { file },
            cause: error,
          });
    this.#fail(failure);
    this.#telemetry.reloadFailed.emit({ count: 1 }, { file, code: failure.code });
    const recordEvent = this.#recordEvent;
    if (recordEvent !== undefined) {
      const event: ConfigEventRecord = {
        id: `config-reload-failed-${randomUUID()}`,
        type: 'config.reload_failed',
        data: { file, code: failure.code, message: failure.message, version: this.#version },
        correlationId: undefined,
      };
      this.#effects.push(event.type, async () => {
        await recordEvent(event);
      });
    }
  }

  #fail(error: unknown): void {
    const failure =
      error instanceof FoundationError
        ? error
        : new FoundationError('FND_SYSTEM_INTERNAL', { message: 'Config failure', cause: error });
    this.#lastError = { code: failure.code, message: failure.message, at: this.#clock.now() };
  }

  /** Runs `fn` after every earlier change, so changes and catch-ups never interleave. */
  #exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
