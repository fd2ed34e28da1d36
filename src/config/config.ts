/**
 * `createConfig()`: a typed, layered, versioned configuration (docs/config.md). This file holds the facade:
 * reading, status, the lifecycle and the file's wiring.
 *
 * Reading is a `Map` lookup on the current immutable state. Every change (a runtime update, a batch, a
 * rollback, a file edit) runs one pipeline under a lock (`config-pipeline.ts`) and swaps the state in with one
 * assignment; side effects (the change's event, notifications, telemetry) run after, in the background,
 * retried from a bounded queue. Versions written by other nodes arrive through the store's `watch` and are
 * applied in order (`config-versions.ts`).
 *
 * @module
 */
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
  type ResolvedLimits,
} from './config-input.js';
import { filePlan, rollbackPlan, runPlan, updatePlan, type Plan } from './config-pipeline.js';
import { explainPath, missingPath, unavailable, versionInfo, versionNotFound } from './config-records.js';
import { fileSettings, loadSources, type FileSettings } from './config-sources.js';
import { ConfigVersions, nodeNameOf, storeMakerOf } from './config-versions.js';
import { watchConfigFile, type FileWatch } from './file-watcher.js';
import { isPlainObject } from './model/json-value.js';
import { parsePath } from './model/path.js';
import { compilePatterns, type PathMatcher } from './model/patterns.js';
import { createRedactor, type Redactor } from './model/redact.js';
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
  readonly #limits: ResolvedLimits;
  readonly #file: FileSettings | undefined;
  readonly #fileReloads: ConfigFileReloads | undefined;
  readonly #initialFileState: ConfigStatus['fileState'];
  readonly #envVars: ReadonlyMap<string, string>;
  readonly #mutable: PathMatcher;
  readonly #redactor: Redactor;
  readonly #announcer: ConfigAnnouncer<T>;
  /** The applied state, its versions, the store and the lock. */
  readonly #versions: ConfigVersions<T>;
  #lastError: ConfigStatus['lastError'];
  #refused = 0;
  #running = false;
  #watch: FileWatch | undefined;
  #unwatchStore: (() => void) | undefined;

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
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#file = fileSettings(options.file);
    this.#mutable = compilePatterns(options.mutable ?? []);
    this.#redactor = createRedactor(compilePatterns(options.secrets ?? []));
    const fail = (error: unknown): void => {
      this.#fail(error);
    };
    this.#announcer = new ConfigAnnouncer<T>(this.#clock, dependencies.recordEvent, fail);
    const sources = loadSources(options, this.#file, this.#limits, this.#redactor);
    this.#versions = new ConfigVersions<T>(
      {
        schema: this.#schema,
        clock: this.#clock,
        nodeName: nodeNameOf(dependencies.node),
        redactor: this.#redactor,
        announcer: this.#announcer,
        makeStore: storeMakerOf(dependencies.store),
        fail,
      },
      sources.state,
    );
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
    return this.#versions.version;
  }

  get mutablePaths(): readonly string[] {
    return this.#mutable.patterns;
  }

  snapshot(): DeepReadonly<T> {
    return this.#versions.state.json as DeepReadonly<T>;
  }

  get(path: string): never {
    const index = this.#versions.state.index;
    const value = index[path];
    if (value !== undefined) return value as never;
    missingPath(index, path);
    return undefined as never;
  }

  redacted(): JsonObject {
    return this.#versions.redacted();
  }

  explain(path: string): ConfigExplanation {
    return explainPath(
      {
        state: this.#versions.state,
        redactor: this.#redactor,
        mutable: this.#mutable,
        envVars: this.#envVars,
        file: this.#file?.path,
        version: this.#versions.version,
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
      version: this.#versions.version,
      file: this.#file?.path,
      fileState: this.#fileState,
      lastError: this.#lastError,
      updates: this.#versions.updates,
      refused: this.#refused,
      subscribers: this.#announcer.subscribers.count,
      subscriberErrors: this.#announcer.subscribers.errors,
      sideEffects: this.#announcer.sideEffects(),
      persisted: this.#versions.store.kind !== 'memory',
    };
  }

  health(): HealthReport {
    const diverged = this.#versions.diverged;
    const details = { version: this.#versions.version, fileState: this.#fileState, diverged };
    const last = this.#lastError?.message ?? '';
    if (this.#fileState === 'invalid') {
      return { status: 'degraded', message: `The config file holds a refused edit: ${last}`, details };
    }
    if (diverged) {
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
    const records = await this.#versions.store.list(options);
    return records.map((record) => versionInfo(record, this.#redactor));
  }

  async getVersion(version: number): Promise<ConfigVersionDetail> {
    const record = await this.#versions.store.get(checkVersion(version));
    if (record === undefined) throw versionNotFound(version, this.#versions.head);
    return { ...versionInfo(record, this.#redactor), config: this.#redactor.redactTree(record.config) };
  }

  settled(): Promise<void> {
    return this.#announcer.settled();
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.#running) return;
    const versions = this.#versions;
    await versions.store.open();
    await versions.exclusive(async () => {
      const latest = await versions.store.latest();
      if (latest === undefined) {
        await versions.writeInitial();
      } else {
        versions.adopt(latest);
      }
    });
    this.#running = true;
    this.#unwatchStore = versions.store.watch((version) => {
      if (version > versions.head) versions.scheduleCatchUp();
    });
    // A version appended between `latest()` and `watch()` is caught up here.
    versions.scheduleCatchUp();
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
    await this.#versions.exclusive(() => Promise.resolve());
    await this.#versions.store.close();
  }

  // ── changes ──────────────────────────────────────────────────────────────────────────────────────────

  update(path: string, value: unknown, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    return this.#guard(() =>
      this.#run(updatePlan(this.#mutable, checkSingle(path, value, this.#limits), checkOptions(options))),
    );
  }

  updateBatch(
    changes: readonly ConfigChangeInput[],
    options?: ConfigUpdateOptions,
  ): Promise<ConfigUpdateResult> {
    return this.#guard(() =>
      this.#run(updatePlan(this.#mutable, checkChanges(changes, this.#limits), checkOptions(options))),
    );
  }

  rollback(version: number, options?: ConfigUpdateOptions): Promise<ConfigUpdateResult> {
    return this.#guard(async () => {
      const checkedOptions = checkOptions(options);
      // Refused like every change while stopped (before reading a store that may be closed).
      if (!this.#running) throw unavailable();
      const target = await this.#versions.store.get(checkVersion(version));
      if (target === undefined) throw versionNotFound(version, this.#versions.head);
      return this.#run(rollbackPlan(this.#schema, this.#mutable, version, target, checkedOptions));
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

  /** The change pipeline, under the lock. */
  #run(plan: Plan): Promise<ConfigUpdateResult> {
    return runPlan(this.#versions, () => this.#running, plan);
  }

  // ── the file ─────────────────────────────────────────────────────────────────────────────────────────

  /** New file contents as a `file` version through the pipeline (validation, prepare, store). */
  async #applyFile(next: JsonObject): Promise<void> {
    const path = this.#file?.path ?? '';
    await this.#run(filePlan(path, next));
    this.#announcer.fileReloaded(path, this.#versions.version);
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
    this.#announcer.fileRefused(file, failure, this.#versions.version);
  }

  #fail(error: unknown): void {
    const failure =
      error instanceof FoundationError
        ? error
        : new FoundationError('FND_SYSTEM_INTERNAL', { message: 'Config failure', cause: error });
    this.#lastError = { code: failure.code, message: failure.message, at: this.#clock.now() };
  }
}
