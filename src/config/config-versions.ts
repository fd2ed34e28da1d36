/**
 * The applied state of a config and its place in the version history: the current immutable
 * {@link ConfigState}, the runtime layer as the store has it, the applied version and the newest one seen in
 * the store, the version store itself (made on first use), and the lock that keeps changes and catch-ups from
 * interleaving. Versions written by other nodes are adopted here, in order; a version that does not validate
 * on this node leaves it diverged (its previous state stays) until a later version applies.
 *
 * @module
 */
import { hostname } from 'node:os';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Clock } from '../kernel/clock.js';
import type { ConfigDependencies } from './config-api.js';
import type { ConfigAnnouncer } from './config-announcer.js';
import { isConflict } from './config-records.js';
import { buildState, type ConfigState } from './config-state.js';
import { diffJson } from './model/diff.js';
import { deepFreeze } from './model/json-value.js';
import type { Redactor } from './model/redact.js';
import { invalidConfigError } from './model/schema.js';
import { MemoryConfigVersionStore } from './stores/memory-store.js';
import type { ConfigVersionRecord, ConfigVersionStore, JsonObject } from './types.js';

/** What the version bookkeeping (and the change pipeline built on it) needs of its config. */
export interface ConfigVersionsParts<T> {
  /** The config's Standard Schema validator. */
  readonly schema: StandardSchemaV1;
  /** Stamps the versions this node writes. */
  readonly clock: Clock;
  /** This node's name, recorded on the versions it writes. */
  readonly nodeName: () => string;
  /** Hides secret values in errors and change lists. */
  readonly redactor: Redactor;
  /** Runs the side effects of a change (events, notifications, telemetry). */
  readonly announcer: ConfigAnnouncer<T>;
  /** Makes the version store (called once, on first use). */
  readonly makeStore: () => ConfigVersionStore;
  /** Records a failure in the config's status (`lastError`). */
  readonly fail: (error: unknown) => void;
}

/** Makes a config's version store: the given store, its factory, or (by default) a memory store. */
export function storeMakerOf(store: ConfigDependencies['store']): () => ConfigVersionStore {
  return store === undefined
    ? () => new MemoryConfigVersionStore()
    : typeof store === 'function'
      ? store
      : () => store;
}

/** This node's name: the given name or function, or (by default) the short host name. */
export function nodeNameOf(given: ConfigDependencies['node']): () => string {
  const node = given ?? (hostname().split('.')[0] || 'node');
  return typeof node === 'function' ? node : () => node;
}

/** The applied state of one config, its version bookkeeping, its store and its lock. */
export class ConfigVersions<T> {
  /** The parts shared with the change pipeline. */
  readonly parts: ConfigVersionsParts<T>;
  #storeInstance: ConfigVersionStore | undefined;
  #state: ConfigState;
  /** The runtime layer as the store has it (may differ from the applied state while diverged). */
  #overrides: JsonObject;
  #version = 0;
  /** The newest version seen in the store. */
  #head = 0;
  #redacted: JsonObject | undefined;
  #diverged = false;
  #updates = 0;
  #lock: Promise<unknown> = Promise.resolve();
  #catchUpScheduled = false;

  constructor(parts: ConfigVersionsParts<T>, initial: ConfigState) {
    this.parts = parts;
    this.#state = initial;
    this.#overrides = initial.layers.runtime;
  }

  /** The applied state. */
  get state(): ConfigState {
    return this.#state;
  }

  /** The runtime layer as the store has it. */
  get overrides(): JsonObject {
    return this.#overrides;
  }

  /** The applied version (0 before the first one). */
  get version(): number {
    return this.#version;
  }

  /** The newest version seen in the store. */
  get head(): number {
    return this.#head;
  }

  /** Whether a version from another node could not be applied here. */
  get diverged(): boolean {
    return this.#diverged;
  }

  /** How many versions this node's changes appended. */
  get updates(): number {
    return this.#updates;
  }

  /** The version store (made on first use). */
  get store(): ConfigVersionStore {
    this.#storeInstance ??= this.parts.makeStore();
    return this.#storeInstance;
  }

  /** The applied configuration with its secrets redacted, frozen (computed once per state). */
  redacted(): JsonObject {
    this.#redacted ??= deepFreeze(this.parts.redactor.redactTree(this.#state.json));
    return this.#redacted;
  }

  /** Writes version 1 from the current state, or adopts the latest version when another node wrote it first. */
  async writeInitial(): Promise<void> {
    const record: ConfigVersionRecord = {
      version: 1,
      at: this.parts.clock.now(),
      kind: 'initial',
      overrides: this.#overrides,
      config: this.#state.json,
      changes: [],
      node: this.parts.nodeName(),
    };
    try {
      await this.store.append(record);
      this.#version = 1;
      this.#head = 1;
    } catch (error) {
      if (!isConflict(error)) throw error;
      const latest = await this.store.latest();
      if (latest !== undefined) this.adopt(latest);
    }
  }

  /** Applies a stored version's overrides on this node's layers. */
  adopt(record: ConfigVersionRecord): void {
    this.#head = record.version;
    this.#overrides = record.overrides;
    const { schema, redactor } = this.parts;
    const built = buildState(schema, { ...this.#state.layers, runtime: record.overrides });
    if (!built.ok) {
      this.#diverged = true;
      this.parts.fail(
        invalidConfigError(
          built.issues,
          redactor,
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
      this.parts.announcer.remoteApplied(previous, changes, record, built.state.json);
    }
  }

  /** Catches up with the store under the lock (at most one catch-up pending at a time). */
  scheduleCatchUp(): void {
    if (this.#catchUpScheduled) return;
    this.#catchUpScheduled = true;
    void this.exclusive(async () => {
      this.#catchUpScheduled = false;
      await this.catchUp();
    }).catch((error: unknown) => {
      this.parts.fail(error);
    });
  }

  /** Adopts the versions appended after the head, in order (call under the lock). */
  async catchUp(): Promise<void> {
    const records = await this.store.since(this.#head);
    for (const record of records) {
      if (record.version === this.#head + 1) this.adopt(record);
    }
  }

  /** Swaps in a version this node appended: its state and runtime layer. */
  committed(record: ConfigVersionRecord, state: ConfigState, overrides: JsonObject): void {
    this.#head = record.version;
    this.#overrides = overrides;
    this.#diverged = false;
    this.#swap(state, record.version);
    this.#updates += 1;
  }

  /** Runs `fn` after every earlier change, so changes and catch-ups never interleave. */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #swap(state: ConfigState, version: number): void {
    this.#state = state;
    this.#version = version;
    this.#redacted = undefined;
  }
}
