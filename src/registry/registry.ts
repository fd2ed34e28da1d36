/**
 * `ServiceRegistry`: named values (services) in namespaces, with O(1) lookup, per-service health checks,
 * event-driven `waitFor`, and change notifications. Every instance is independent: there is no module-level
 * state, so two registries (two foundations, two tests) never see each other.
 *
 * @module
 */
import { systemClock, type Clock } from '../kernel/clock.js';
import type { HealthReport } from '../kernel/service.js';
import { TypedEvents, type Unsubscribe } from '../kernel/typed-events.js';
import { FoundationError } from '../errors/index.js';
import { HEALTHY_REPORT, runHealthCheck, type HealthCheck } from './health-check.js';
import { assertValidRegistryKey, invalidNameError, isValidRegistryName } from './names.js';
import {
  registryHealthChecked,
  registryListenerFailed,
  registryRegistered,
  registryUnregistered,
} from './registry-telemetry.js';
import { ServiceWaiters } from './service-waiters.js';

/** Options of the {@link ServiceRegistry} constructor. */
export interface RegistryOptions {
  /** Time source for `registeredAt`, uptime, wait and health timeouts. Default: the system clock. */
  clock?: Clock;
  /** Health check timeout when `checkHealth` is given none, in ms. Default `5000`. */
  defaultHealthTimeoutMs?: number;
  /** `waitFor` timeout when the call gives none, in ms (`Infinity`: wait forever). Default `5000`. */
  defaultWaitTimeoutMs?: number;
}

/** Options of {@link ServiceRegistry.register}. */
export interface RegisterOptions<T> {
  /** Health check of this service; receives the registered value and a signal aborted on timeout. */
  health?: HealthCheck<T>;
  /** Free descriptive data shown by `list()` (copied and frozen at registration). */
  metadata?: Record<string, unknown>;
}

/** A snapshot of one registration, as returned by {@link ServiceRegistry.list}. */
export interface RegistryEntryInfo {
  /** The namespace of the registration. */
  namespace: string;
  /** The name within the namespace. */
  name: string;
  /** Wall-clock time of registration, ms since the epoch. */
  registeredAt: number;
  /** Time since registration, ms, measured on the monotonic clock. */
  uptimeMs: number;
  /** The metadata given at registration (frozen). */
  metadata: Readonly<Record<string, unknown>>;
  /** Whether the registration has a health check. */
  hasHealthCheck: boolean;
}

/** A registration or unregistration, delivered to {@link ServiceRegistry.onChange} listeners. */
export type RegistryChange = { type: 'registered' | 'unregistered'; namespace: string; name: string };

/** Options of {@link ServiceRegistry.waitFor}. */
export interface WaitForOptions {
  /** Rejects `FND_REGISTRY_WAIT_TIMEOUT` after this many ms (`Infinity`: never). Default: the registry's. */
  timeoutMs?: number;
  /** Rejects `FND_SYSTEM_ABORTED` when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link ServiceRegistry.checkHealth} and {@link ServiceRegistry.checkAll}. */
export interface CheckHealthOptions {
  /** Time allowed to each check, in ms (`Infinity`: no limit). Default: the registry's. */
  timeoutMs?: number;
  /** Aborts the checks; the call rejects `FND_SYSTEM_ABORTED`. */
  signal?: AbortSignal;
}

/** One service's snapshot with its health, as returned by {@link ServiceRegistry.checkAll}. */
export type RegistryHealthEntry = RegistryEntryInfo & { health: HealthReport };

interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly value: unknown;
  readonly registeredAt: number;
  readonly registeredMonotonic: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly health: HealthCheck<unknown> | undefined;
}

interface RegistryEvents extends Record<string, unknown> {
  change: RegistryChange;
}

const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});
const DEFAULT_TIMEOUT_MS = 5000;

function checkTimeout(value: number, option: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `${option} must be a non-negative number of ms (or Infinity), got ${String(value)}`,
      context: { option, value: String(value) },
    });
  }
  return value;
}

function compareEntries(a: Entry, b: Entry): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/**
 * A per-instance service registry.
 *
 * Storage is a `Map<namespace, Map<name, entry>>`: measured ~2–3× faster to look up than one `Map` keyed by a
 * combined string, because the nested form never builds (and hashes) a new key string.
 *
 * @example
 * ```ts
 * const registry = new ServiceRegistry();
 * const unregister = registry.register('app', 'db', pool, { health: (p) => p.ping() });
 * registry.lookup<Pool>('app', 'db'); // pool
 * unregister();
 * ```
 */
export class ServiceRegistry {
  readonly #clock: Clock;
  readonly #healthTimeoutMs: number;
  readonly #waitTimeoutMs: number;
  readonly #spaces = new Map<string, Map<string, Entry>>();
  readonly #waiters: ServiceWaiters;
  readonly #events = new TypedEvents<RegistryEvents>((error, event) => {
    registryListenerFailed.emit({ count: 1 }, { event, error });
  });
  #size = 0;

  /** Creates an empty registry. Starts no timers. */
  constructor(options: RegistryOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#healthTimeoutMs = checkTimeout(
      options.defaultHealthTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      'defaultHealthTimeoutMs',
    );
    this.#waitTimeoutMs = checkTimeout(
      options.defaultWaitTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      'defaultWaitTimeoutMs',
    );
    this.#waiters = new ServiceWaiters(this.#clock);
  }

  /**
   * Registers `value` as `namespace`/`name` and wakes its waiters. Returns a function that removes this
   * registration only: after an unregister and a new registration under the same name, calling it does
   * nothing. Throws `FND_REGISTRY_INVALID_NAME` or `FND_REGISTRY_ALREADY_REGISTERED` (context
   * `{namespace, name}`); a failed call changes nothing.
   */
  register<T>(namespace: string, name: string, value: T, options: RegisterOptions<T> = {}): () => void {
    assertValidRegistryKey(namespace, name);
    const { health, metadata } = options;
    if (health !== undefined && typeof health !== 'function') {
      throw new FoundationError('FND_DATA_INVALID_INPUT', {
        message: 'register: options.health must be a function',
        context: { namespace, name },
      });
    }
    let names = this.#spaces.get(namespace);
    if (names?.has(name) === true) {
      throw new FoundationError('FND_REGISTRY_ALREADY_REGISTERED', {
        message: `Service "${namespace}/${name}" is already registered`,
        context: { namespace, name },
      });
    }
    const entry: Entry = {
      namespace,
      name,
      value,
      registeredAt: this.#clock.now(),
      registeredMonotonic: this.#clock.monotonic(),
      metadata: metadata === undefined ? NO_METADATA : Object.freeze({ ...metadata }),
      health: health as HealthCheck<unknown> | undefined,
    };
    if (names === undefined) {
      names = new Map();
      this.#spaces.set(namespace, names);
    }
    names.set(name, entry);
    this.#size++;
    if (this.#waiters.has(namespace, name)) this.#waiters.resolve(namespace, name, value);
    if (registryRegistered.hasSubscribers) registryRegistered.emit({ count: 1 }, { namespace, name });
    if (this.#events.has('change')) this.#events.emit('change', { type: 'registered', namespace, name });
    return () => {
      if (this.#spaces.get(namespace)?.get(name) === entry) this.#remove(entry);
    };
  }

  /**
   * The value registered as `namespace`/`name`, or `undefined`. The hot path: two `Map` reads, no
   * allocation, no validation (an invalid name is simply not found), no telemetry.
   */
  // The type parameter is the caller's assertion of the registered type (like `Map#get` on a heterogeneous map).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  lookup<T = unknown>(namespace: string, name: string): T | undefined {
    return this.#spaces.get(namespace)?.get(name)?.value as T | undefined;
  }

  /**
   * The value registered as `namespace`/`name`. Throws `FND_REGISTRY_NOT_FOUND` (context `{namespace, name}`)
   * when absent, or `FND_REGISTRY_INVALID_NAME` when the names could never be registered.
   */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  get<T = unknown>(namespace: string, name: string): T {
    const entry = this.#spaces.get(namespace)?.get(name);
    if (entry === undefined) throw notFound(namespace, name);
    return entry.value as T;
  }

  /** Whether `namespace`/`name` is registered. */
  has(namespace: string, name: string): boolean {
    return this.#spaces.get(namespace)?.has(name) === true;
  }

  /** Removes `namespace`/`name`; returns whether it was registered. */
  unregister(namespace: string, name: string): boolean {
    const entry = this.#spaces.get(namespace)?.get(name);
    if (entry === undefined) return false;
    this.#remove(entry);
    return true;
  }

  /** Snapshots of every registration (or of one namespace), sorted by namespace then name. */
  list(namespace?: string): RegistryEntryInfo[] {
    return this.#entries(namespace).map((entry) => this.#info(entry));
  }

  /** The namespaces holding at least one registration, sorted. */
  namespaces(): string[] {
    return [...this.#spaces.keys()].sort();
  }

  /** Number of registrations, in total or in one namespace. */
  count(namespace?: string): number {
    if (namespace === undefined) return this.#size;
    return this.#spaces.get(namespace)?.size ?? 0;
  }

  /**
   * Resolves with the value of `namespace`/`name`: at once if registered, otherwise when it is registered.
   * Event-driven (no polling). Rejects `FND_REGISTRY_WAIT_TIMEOUT` after `timeoutMs` (on the registry's clock;
   * the timer is cancelled when the wait settles), `FND_SYSTEM_ABORTED` when `signal` aborts or
   * `rejectWaiters` is called, `FND_REGISTRY_INVALID_NAME` for names that could never be registered.
   */
  async waitFor<T = unknown>(namespace: string, name: string, options: WaitForOptions = {}): Promise<T> {
    const entry = this.#spaces.get(namespace)?.get(name);
    if (entry !== undefined) return entry.value as T;
    assertValidRegistryKey(namespace, name);
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.#waitTimeoutMs, 'timeoutMs');
    return (await this.#waiters.wait(namespace, name, { timeoutMs, signal: options.signal })) as T;
  }

  /** Number of `waitFor` calls still pending (a diagnostic; it returns to 0 after every settle path). */
  pendingWaiters(): number {
    return this.#waiters.size;
  }

  /**
   * Rejects every pending `waitFor` with `FND_SYSTEM_ABORTED` (cause: `reason`). Used when the foundation
   * stops. Registrations are untouched.
   */
  rejectWaiters(reason?: unknown): void {
    this.#waiters.rejectAll(reason);
  }

  /**
   * Runs the health check of `namespace`/`name`. Without a check, the service is healthy. A check that
   * throws or rejects → `unhealthy` with its message; one that exceeds the timeout → `unhealthy`
   * (`details.code: 'FND_REGISTRY_HEALTH_TIMEOUT'`) and its signal is aborted. Rejects
   * `FND_REGISTRY_NOT_FOUND` when not registered and `FND_SYSTEM_ABORTED` when `signal` aborts.
   */
  async checkHealth(
    namespace: string,
    name: string,
    options: CheckHealthOptions = {},
  ): Promise<HealthReport> {
    const entry = this.#spaces.get(namespace)?.get(name);
    if (entry === undefined) throw notFound(namespace, name);
    return this.#check(entry, this.#healthTimeout(options), options.signal);
  }

  /**
   * Runs every registered service's health check in parallel; results sorted by namespace then name. Each
   * entry's info (uptime included) is a snapshot taken when the call starts. Rejects `FND_SYSTEM_ABORTED`
   * when `signal` aborts.
   */
  async checkAll(options: CheckHealthOptions = {}): Promise<RegistryHealthEntry[]> {
    const timeoutMs = this.#healthTimeout(options);
    return Promise.all(
      this.#entries(undefined).map(async (entry) => {
        const info = this.#info(entry); // snapshot as of the call, the same instant for every entry
        const health = await this.#check(entry, timeoutMs, options.signal);
        return { ...info, health };
      }),
    );
  }

  /** Unregisters everything (or one namespace), emitting `unregistered` for each, in sorted order. */
  clear(namespace?: string): void {
    for (const entry of this.#entries(namespace)) {
      if (this.#spaces.get(entry.namespace)?.get(entry.name) === entry) this.#remove(entry);
    }
  }

  /** Calls `listener` on every registration and unregistration. A throwing listener is isolated. */
  onChange(listener: (change: RegistryChange) => void): Unsubscribe {
    return this.#events.on('change', listener);
  }

  #healthTimeout(options: CheckHealthOptions): number {
    return checkTimeout(options.timeoutMs ?? this.#healthTimeoutMs, 'timeoutMs');
  }

  async #check(entry: Entry, timeoutMs: number, signal: AbortSignal | undefined): Promise<HealthReport> {
    const started = this.#clock.monotonic();
    const report =
      entry.health === undefined
        ? HEALTHY_REPORT
        : await runHealthCheck(entry.health, entry.value, { clock: this.#clock, timeoutMs, signal });
    if (registryHealthChecked.hasSubscribers) {
      registryHealthChecked.emit(
        { duration: this.#clock.monotonic() - started },
        { namespace: entry.namespace, name: entry.name, status: report.status },
      );
    }
    return report;
  }

  #entries(namespace: string | undefined): Entry[] {
    const out: Entry[] = [];
    if (namespace === undefined) {
      for (const names of this.#spaces.values()) out.push(...names.values());
    } else {
      const names = this.#spaces.get(namespace);
      if (names !== undefined) out.push(...names.values());
    }
    return out.sort(compareEntries);
  }

  #info(entry: Entry): RegistryEntryInfo {
    return {
      namespace: entry.namespace,
      name: entry.name,
      registeredAt: entry.registeredAt,
      uptimeMs: Math.round(this.#clock.monotonic() - entry.registeredMonotonic),
      metadata: entry.metadata,
      hasHealthCheck: entry.health !== undefined,
    };
  }

  #remove(entry: Entry): void {
    const { namespace, name } = entry;
    const names = this.#spaces.get(namespace);
    if (names?.get(name) !== entry) return;
    names.delete(name);
    if (names.size === 0) this.#spaces.delete(namespace);
    this.#size--;
    if (registryUnregistered.hasSubscribers) {
      registryUnregistered.emit(
        { count: 1, uptime: this.#clock.monotonic() - entry.registeredMonotonic },
        { namespace, name },
      );
    }
    if (this.#events.has('change')) this.#events.emit('change', { type: 'unregistered', namespace, name });
  }
}

function notFound(namespace: string, name: string): FoundationError {
  if (!isValidRegistryName(namespace)) return invalidNameError('namespace', namespace);
  if (!isValidRegistryName(name)) return invalidNameError('name', name);
  return new FoundationError('FND_REGISTRY_NOT_FOUND', {
    message: `Service "${namespace}/${name}" is not registered`,
    context: { namespace, name },
  });
}
