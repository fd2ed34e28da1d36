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
import { hostname } from 'node:os';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { FoundationError } from '../errors/index.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import type { HealthReport } from '../kernel/service.js';
import type { ConfigDependencies, ManagedConfig } from './config-api.js';
import { ConfigAnnouncer } from './config-announcer.js';
import { ConfigFileReloads } from './config-file-reloads.js';
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
  checkMutable,
  conflict,
  explainPath,
  isConflict,
  missingPath,
  rollbackRuntime,
  unavailable,
  versionInfo,
  versionNotFound,
  versionRecord,
} from './config-records.js';
import { fileSettings, loadSources, type FileSettings } from './config-sources.js';
import { buildState, firstUnknownKey, type ConfigState, type LayerSet } from './config-state.js';
import { watchConfigFile, type FileWatch } from './file-watcher.js';
import { diffJson } from './model/diff.js';
import { deepFreeze, isPlainObject, jsonEqual } from './model/json-value.js';
import { parsePath, setAt, unsetAt } from './model/path.js';
import { compilePatterns, type PathMatcher } from './model/patterns.js';
import { createRedactor, type Redactor } from './model/redact.js';
import { invalidConfigError } from './model/schema.js';
import { MemoryConfigVersionStore } from './stores/memory-store.js';
import type {
  ConfigChangeInput,
  ConfigExplanation,
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
} from './types.js';

export type {
  ConfigDependencies,
  ConfigEventRecord,
  ConfigLifecycle,
  ManagedConfig,
  ManagedConfigView,
} from './config-api.js';

/**
 * How often a change is rebuilt after losing the race for a version number to another node. Every round of a
 * race has a winner, so a writer among N racing ones loses about N times in a row at worst in practice.
 */
const CAS_RETRIES = 20;

/** A pending change handed to the pipeline. */
interface Plan {
  readonly kind: ConfigVersionKind;
  /** The next layers given the current ones (the runtime layer for updates, the file layer for reloads). */
  readonly layers: (current: LayerSet) => LayerSet;
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
  readonly #nodeName: () => string;
  readonly #limits: ResolvedLimits;
  readonly #file: FileSettings | undefined;
  readonly #fileReloads: ConfigFileReloads | undefined;
  readonly #initialFileState: ConfigStatus['fileState'];
  readonly #envVars: ReadonlyMap<string, string>;
  readonly #mutable: PathMatcher;
  readonly #redactor: Redactor;
  readonly #announcer: ConfigAnnouncer<T>;
  #state: ConfigState;
  /** The runtime layer as the store has it (may differ from the applied state while diverged). */
  #overrides: JsonObject;
  #version = 0;
  /** The newest version seen in the store. */
  #head = 0;
  #redacted: JsonObject | undefined;
  #diverged = false;
  #lastError: ConfigStatus['lastError'];
  #updates = 0;
  #refused = 0;
  #running = false;
  #lock: Promise<unknown> = Promise.resolve();
  #watch: FileWatch | undefined;
  #unwatchStore: (() => void) | undefined;
  #catchUpScheduled = false;

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
    const node = dependencies.node ?? (hostname().split('.')[0] || 'node');
    this.#nodeName = typeof node === 'function' ? node : () => node;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#file = fileSettings(options.file);
    this.#mutable = compilePatterns(options.mutable ?? []);
    this.#redactor = createRedactor(compilePatterns(options.secrets ?? []));
    this.#announcer = new ConfigAnnouncer<T>(this.#clock, dependencies.recordEvent, (error) => {
      this.#fail(error);
    });
    const sources = loadSources(options, this.#file, this.#limits, this.#redactor);
    this.#state = sources.state;
    this.#overrides = sources.state.layers.runtime;
    this.#envVars = sources.envVars;
    this.#initialFileState = sources.fileState;
    this.#fileReloads =
      this.#file === undefined
        ? undefined
        : new ConfigFileReloads(
            this.#file,
            this.#limits.maxFileBytes,
            { text: sources.fileText, state: sources.fileState },
            {
              running: () => this.#running,
              apply: (next) => this.#applyFile(next),
              refused: (error) => {
                this.#refuseFile(error);
              },
              failed: (error) => {
                this.#fail(error);
              },
            },
          );
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
    const value = this.#state.index[path];
    if (value !== undefined) return value as never;
    missingPath(this.#state.index, path);
    return undefined as never;
  }

  redacted(): JsonObject {
    this.#redacted ??= deepFreeze(this.#redactor.redactTree(this.#state.json));
    return this.#redacted;
  }

  explain(path: string): ConfigExplanation {
    return explainPath(
      {
        state: this.#state,
        redactor: this.#redactor,
        mutable: this.#mutable,
        envVars: this.#envVars,
        file: this.#file?.path,
        version: this.#version,
      },
      path,
    );
  }

  isMutable(path: string): boolean {
    return this.#mutable.covers(parsePath(path).join('.'));
  }

  get #fileState(): ConfigStatus['fileState'] {
    return this.#fileReloads?.state ?? this.#initialFileState;
  }

  status(): ConfigStatus {
    return {
      version: this.#version,
      file: this.#file?.path,
      fileState: this.#fileState,
      lastError: this.#lastError,
      updates: this.#updates,
      refused: this.#refused,
      subscribers: this.#announcer.subscribers.count,
      subscriberErrors: this.#announcer.subscribers.errors,
      sideEffects: this.#announcer.sideEffects(),
      persisted: this.#store.kind !== 'memory',
    };
  }

  health(): HealthReport {
    const details = { version: this.#version, fileState: this.#fileState, diverged: this.#diverged };
    const last = this.#lastError?.message ?? '';
    if (this.#fileState === 'invalid') {
      return { status: 'degraded', message: `The config file holds a refused edit: ${last}`, details };
    }
    if (this.#diverged) {
      return {
        status: 'degraded',
        message: `A version from another node could not be applied here: ${last}`,
        details,
      };
    }
    return { status: 'healthy', details };
  }

  subscribe(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable {
    return this.#announcer.subscribe(prefix, subscriber);
  }

  async history(
    options: { readonly limit?: number; readonly before?: number } = {},
  ): Promise<ConfigVersionInfo[]> {
    const records = await this.#store.list(options);
    return records.map((record) => versionInfo(record, this.#redactor));
  }

  async getVersion(version: number): Promise<ConfigVersionDetail> {
    const record = await this.#store.get(checkVersion(version));
    if (record === undefined) throw versionNotFound(version, this.#head);
    return { ...versionInfo(record, this.#redactor), config: this.#redactor.redactTree(record.config) };
  }

  settled(): Promise<void> {
    return this.#announcer.settled();
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
        this.#adopt(latest);
      }
    });
    this.#running = true;
    this.#unwatchStore = this.#store.watch((version) => {
      if (version > this.#head) this.#scheduleCatchUp();
    });
    // A version appended between `latest()` and `watch()` is caught up here.
    this.#scheduleCatchUp();
    const file = this.#file;
    const reloads = this.#fileReloads;
    if (file?.watch === true && reloads !== undefined) {
      this.#watch = watchConfigFile(
        file.path,
        this.#clock,
        () => {
          reloads.schedule();
        },
        (error) => {
          this.#fail(
            new FoundationError('FND_CONFIG_FILE_INVALID', {
              message: `Watching ${file.path} failed`,
              context: { file: file.path },
              cause: error,
            }),
          );
        },
      );
      // Edits made while the config was stopped (a restart by the supervisor) are read now.
      reloads.schedule();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#watch?.close();
    this.#watch = undefined;
    this.#unwatchStore?.();
    this.#unwatchStore = undefined;
    await this.#fileReloads?.idle();
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
      if (!isConflict(error)) throw error;
      const latest = await this.#store.latest();
      if (latest !== undefined) this.#adopt(latest);
    }
  }

  /** Applies a stored version's overrides on this node's layers. */
  #adopt(record: ConfigVersionRecord): void {
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
      this.#announcer.remoteApplied(previous, changes, record, built.state.json);
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
      if (record.version === this.#head + 1) this.#adopt(record);
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
      if (target === undefined) throw versionNotFound(version, this.#head);
      return this.#run({
        kind: 'rollback',
        rolledBackTo: version,
        options: checkedOptions,
        layers: (current) => ({
          ...current,
          runtime: rollbackRuntime(this.#schema, current, target, this.#mutable),
        }),
      });
    });
  }

  /** Runs a change, counting refusals. */
  async #guard(change: () => Promise<ConfigUpdateResult>): Promise<ConfigUpdateResult> {
    try {
      return await change();
    } catch (error) {
      this.#refused += 1;
      this.#announcer.refused(error);
      throw error;
    }
  }

  #applyChanges(changes: CheckedChange[], options: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    for (const change of changes) checkMutable(this.#mutable, change);
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

  /** The change pipeline, under the lock. */
  #run(plan: Plan): Promise<ConfigUpdateResult> {
    return this.#exclusive(async () => {
      if (!this.#running) throw unavailable();
      const dryRun = plan.options.dryRun === true;
      const expected = plan.options.expectedVersion;
      for (let attempt = 0; ; attempt += 1) {
        if (expected !== undefined && expected !== this.#head) throw conflict(expected, this.#head);
        const current = this.#state;
        // Build on the store's runtime layer (equal to the applied one unless this node diverged).
        const layers = plan.layers({ ...current.layers, runtime: this.#overrides });
        const built = buildState(this.#schema, layers);
        const base = this.#result(dryRun);
        if (!built.ok) {
          if (dryRun) return { ...base, valid: false, issues: built.issues };
          throw invalidConfigError(built.issues, this.#redactor);
        }
        plan.check?.(built.state);
        const changes = diffJson(current.json, built.state.json);
        const shown = this.#redactor.redactChanges(changes);
        if (dryRun) return { ...base, changes: shown };
        const unchanged =
          changes.length === 0 &&
          jsonEqual(layers.runtime, this.#overrides) &&
          jsonEqual(layers.file, current.layers.file);
        if (unchanged) return base;
        await this.#announcer.prepare(plan.kind, changes, current.json, built.state.json);
        const record = versionRecord({
          version: this.#head + 1,
          at: this.#clock.now(),
          kind: plan.kind,
          overrides: layers.runtime,
          config: built.state.json,
          changes: shown,
          node: this.#nodeName(),
          options: plan.options,
          rolledBackTo: plan.rolledBackTo,
        });
        try {
          await this.#store.append(record);
        } catch (error) {
          if (!isConflict(error)) throw error;
          // Another node took the version: apply what it wrote, then refuse (compare-and-set) or rebuild.
          await this.#catchUp();
          if (expected !== undefined || attempt >= CAS_RETRIES) {
            throw conflict(expected ?? record.version - 1, this.#head);
          }
          continue;
        }
        const previous = this.#version;
        this.#head = record.version;
        this.#overrides = layers.runtime;
        this.#diverged = false;
        this.#swap(built.state, record.version);
        this.#updates += 1;
        this.#announcer.changed(plan.kind, previous, changes, record, built.state.json);
        return { ...base, applied: true, version: record.version, previousVersion: previous, changes: shown };
      }
    });
  }

  #result(dryRun: boolean): ConfigUpdateResult {
    return {
      applied: false,
      dryRun,
      version: this.#version,
      previousVersion: this.#version,
      changes: [],
      valid: true,
      issues: [],
    };
  }

  #swap(state: ConfigState, version: number): void {
    this.#state = state;
    this.#version = version;
    this.#redacted = undefined;
  }

  // ── the file ─────────────────────────────────────────────────────────────────────────────────────────

  /** New file contents as a `file` version through the pipeline (validation, prepare, store). */
  async #applyFile(next: JsonObject): Promise<void> {
    const path = this.#file?.path ?? '';
    await this.#run({
      kind: 'file',
      options: { actor: 'file', reason: `edit of ${path}` },
      layers: (current) => ({ ...current, file: next }),
    });
    this.#announcer.fileReloaded(path, this.#version);
  }

  #refuseFile(error: unknown): void {
    const file = this.#file?.path ?? '';
    const failure =
      error instanceof FoundationError
        ? error
        : new FoundationError('FND_CONFIG_FILE_INVALID', {
            message: `Reading ${file} failed`,
            context: { file },
            cause: error,
          });
    this.#fail(failure);
    this.#announcer.fileRefused(file, failure, this.#version);
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
