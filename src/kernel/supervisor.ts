/**
 * The supervisor: starts services in dependency order (sequentially, one at a time), stops them in reverse,
 * restarts failed ones per strategy with a backoff and a restart-intensity limit, and escalates past it.
 *
 * Every lifecycle operation (start, stop, add-while-running, remove, failure handling, restarts) runs on one
 * serial queue, so service states change one operation at a time. Do not `await` supervisor methods from
 * inside a service's `start` / `stop`: that waits on the queue the call itself is holding.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { DependencyGraph } from './dependency-graph.js';
import { RestartIntensity } from './restart-intensity.js';
import type { Service, ServiceContext } from './service.js';
import {
  boundedCall,
  checkServiceHealth,
  errorMessage,
  validateService,
  worstStatus,
} from './supervisor-calls.js';
import type {
  RestartPolicy,
  RestartStrategy,
  ServiceHealth,
  ServiceLastError,
  ServiceState,
  ServiceStatus,
  SupervisorEvents,
  SupervisorHealth,
  SupervisorOptions,
  SupervisorState,
  SupervisorStatus,
} from './supervisor-types.js';
import { telemetryEvent } from './telemetry.js';
import { TypedEvents, type Unsubscribe } from './typed-events.js';

export type * from './supervisor-types.js';

const TELEMETRY = {
  started: telemetryEvent('supervisor:service_started'),
  stopped: telemetryEvent('supervisor:service_stopped'),
  failed: telemetryEvent('supervisor:service_failed'),
  restart: telemetryEvent('supervisor:restart'),
  escalated: telemetryEvent('supervisor:escalated'),
} as const;

const noop = (): void => undefined;

interface Entry {
  readonly service: Service;
  readonly policy: RestartPolicy;
  state: ServiceState;
  instance: unknown;
  /** Incremented per start attempt; a `fail()` from an older generation is stale. */
  generation: number;
  controller: AbortController | undefined;
  restarts: number;
  startedAt: number | undefined;
  startedMono: number | undefined;
  lastError: ServiceLastError | undefined;
  /** Consecutive failures, for the backoff delay. */
  failures: number;
  timer: TimerHandle | undefined;
  /** A collateral of this failed service: it is not restarted while that service waits out its backoff. */
  waitingFor: string | undefined;
}

/**
 * Supervises {@link Service}s. See `docs/lifecycle.md`.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ maxRestarts: 3, withinMs: 5000 });
 * supervisor.add({ name: 'db', start: () => connect(), stop: (db) => db.close() });
 * supervisor.add({ name: 'http', dependencies: ['db'], start: (ctx) => serve(ctx.dependency('db')), stop: (s) => s.close() });
 * await supervisor.start();
 * await supervisor.stop();
 * ```
 */
export class Supervisor {
  readonly #clock: Clock;
  readonly #strategy: RestartStrategy;
  readonly #intensity: RestartIntensity;
  readonly #stopTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #backoff: { readonly initial: number; readonly max: number };
  readonly #graph = new DependencyGraph();
  readonly #entries = new Map<string, Entry>();
  readonly #events = new TypedEvents<SupervisorEvents>();
  #state: SupervisorState = 'idle';
  #escalated: FoundationError | undefined;
  #queue: Promise<void> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /** Creates an idle supervisor; nothing runs until {@link Supervisor.start}. */
  constructor(options: SupervisorOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#strategy = options.strategy ?? 'one_for_one';
    this.#intensity = new RestartIntensity({
      maxRestarts: options.maxRestarts ?? 3,
      withinMs: options.withinMs ?? 5000,
    });
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.#backoff = options.restartBackoffMs ?? { initial: 10, max: 5000 };
    for (const [key, value] of Object.entries({
      stopTimeoutMs: this.#stopTimeoutMs,
      startTimeoutMs: this.#startTimeoutMs,
      'restartBackoffMs.initial': this.#backoff.initial,
      'restartBackoffMs.max': this.#backoff.max,
    })) {
      if (!Number.isFinite(value) || value < 0) {
        throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
          message: `Supervisor option ${key} must be a non-negative number`,
          context: { option: key, value },
        });
      }
    }
  }

  /** Current state of the supervisor. */
  get state(): SupervisorState {
    return this.#state;
  }

  /**
   * Adds a service. Throws `FND_LIFECYCLE_INVALID_SERVICE` on a bad definition and
   * `FND_LIFECYCLE_DUPLICATE_SERVICE` on a taken name. While the supervisor runs, the service's required
   * dependencies must exist (`FND_LIFECYCLE_MISSING_DEPENDENCY`, `FND_LIFECYCLE_DEPENDENCY_CYCLE`) and it is
   * started right away in the background ({@link Supervisor.settled} waits for it); running services that
   * list it as an optional dependency get `onDependencyUp`. A start failure there is a run-time failure.
   */
  add<T>(service: Service<T>, options: { readonly restart?: RestartPolicy } = {}): void {
    const policy = options.restart ?? 'permanent';
    validateService(service, policy);
    const svc: Service = service;
    this.#graph.add(svc);
    const live = this.#state === 'running' || this.#state === 'starting';
    if (live) {
      try {
        this.#graph.validate([svc.name]);
      } catch (error) {
        this.#graph.remove(svc.name);
        throw error;
      }
    }
    this.#entries.set(svc.name, newEntry(svc, policy));
    if (live) this.#enqueue(() => this.#startReady()).catch(noop);
  }

  /**
   * Stops a service — its required dependants first (they stay defined, `waiting` for it) — and removes it.
   * Removing an unknown name does nothing.
   */
  remove(name: string): Promise<void> {
    return this.#enqueue(async () => {
      const entry = this.#entries.get(name);
      if (entry === undefined) return;
      entry.timer?.cancel();
      entry.timer = undefined;
      const dependants = this.#graph.dependantsOf(name);
      const up = dependants.filter((d) => this.#entries.get(d)?.state === 'running');
      await this.#takeDown([name, ...up]);
      for (const d of up) this.#markWaiting(d, name);
      this.#entries.delete(name);
      this.#graph.remove(name);
    });
  }

  /**
   * Validates the graph and starts every service in start order, one at a time. Throws the graph error
   * (nothing started) or, when a `start` throws or exceeds `startTimeoutMs`, stops the started ones in
   * reverse order and rejects with `FND_LIFECYCLE_START_FAILED` (context `{ service }`, cause = the error).
   * Calling it while running resolves at once; while starting, returns the same promise.
   */
  start(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    if (this.#starting !== undefined) return this.#starting;
    if (this.#state === 'stopping') {
      return Promise.reject(
        new FoundationError('FND_LIFECYCLE_INVALID_STATE', {
          message: 'Supervisor is stopping',
          context: {},
        }),
      );
    }
    const problem = this.#graph.problem();
    if (problem !== undefined) return Promise.reject(problem);
    const order = this.#graph.startOrder();
    this.#state = 'starting';
    this.#escalated = undefined;
    this.#intensity.reset();
    for (const entry of this.#entries.values()) {
      entry.state = 'pending';
      entry.restarts = 0;
      entry.failures = 0;
      entry.waitingFor = undefined;
    }
    const starting = this.#enqueue(() => this.#startAll(order));
    this.#starting = starting.finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /**
   * Stops every service in reverse start order, each bounded by `stopTimeoutMs` (a hanging or throwing stop is
   * recorded as the service's `lastError` — `FND_LIFECYCLE_STOP_TIMEOUT` / `FND_LIFECYCLE_STOP_FAILED` — and
   * the others still stop). Cancels pending restarts and aborts each service's signal. Idempotent; never
   * rejects. A `failed` supervisor stays `failed`.
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state === 'idle' || this.#state === 'stopped') return Promise.resolve();
    const wasFailed = this.#state === 'failed';
    this.#cancelTimers();
    if (!wasFailed) this.#state = 'stopping';
    const stopping = this.#enqueue(async () => {
      await this.#takeDown(this.#entries.keys());
      for (const entry of this.#entries.values()) {
        if (entry.state !== 'failed' && entry.state !== 'stopped') entry.state = 'stopped';
      }
      if (!wasFailed) this.#state = 'stopped';
    });
    this.#stopping = stopping.finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /** Same as {@link Supervisor.stop}: `await using supervisor = new Supervisor()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * Resolves once no lifecycle operation is queued or running (starts triggered by `add`, failure handling,
   * restarts whose backoff elapsed). Does not wait for backoff timers that have not fired yet.
   */
  async settled(): Promise<void> {
    for (;;) {
      const tail = this.#queue;
      await tail;
      if (tail === this.#queue) return;
    }
  }

  /** A snapshot of the supervisor and every service, in start order. */
  status(): SupervisorStatus {
    const now = this.#clock.monotonic();
    const services = this.#order().flatMap((name): ServiceStatus[] => {
      const e = this.#entries.get(name);
      if (e === undefined) return [];
      const running = e.state === 'running' && e.startedMono !== undefined;
      return [
        {
          name,
          state: e.state,
          restarts: e.restarts,
          startedAt: running ? e.startedAt : undefined,
          uptimeMs: running ? now - (e.startedMono as number) : 0,
          lastError: e.lastError,
          dependencies: [...(e.service.dependencies ?? [])],
          optionalDependencies: [...(e.service.optionalDependencies ?? [])],
          restartPolicy: e.policy,
        },
      ];
    });
    return { state: this.#state, escalated: this.#escalated, services };
  }

  /** The running instance of `name` (what its `start` resolved to), or `undefined`. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
  instance<T = unknown>(name: string): T | undefined {
    const entry = this.#entries.get(name);
    return entry?.state === 'running' ? (entry.instance as T) : undefined;
  }

  /**
   * Checks every service concurrently: a running one by its `health` function bounded by `timeoutMs`
   * (default 5000; a throw or timeout is unhealthy; no function = healthy); any other state is unhealthy.
   * Overall: the worst of all, and unhealthy when the supervisor is not running or escalated.
   */
  async health(options: { readonly timeoutMs?: number } = {}): Promise<SupervisorHealth> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const checks = this.#order().flatMap((name): Promise<ServiceHealth>[] => {
      const e = this.#entries.get(name);
      if (e === undefined) return [];
      if (e.state !== 'running') {
        return [Promise.resolve({ name, status: 'unhealthy', message: `service is ${e.state}` })];
      }
      return [checkServiceHealth(this.#clock, timeoutMs, e.service, e.instance)];
    });
    const services = await Promise.all(checks);
    const status =
      this.#state !== 'running' || this.#escalated !== undefined
        ? 'unhealthy'
        : worstStatus(services.map((s) => s.status));
    return { status, services };
  }

  /** Subscribes to a supervisor event; returns the unsubscribe function. */
  on<K extends keyof SupervisorEvents>(
    event: K,
    listener: (payload: SupervisorEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────

  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.then(noop, noop);
    return result;
  }

  #order(): string[] {
    return this.#graph.tryStartOrder() ?? this.#graph.names();
  }

  async #startAll(order: readonly string[]): Promise<void> {
    const started: string[] = [];
    for (const name of order) {
      const entry = this.#entries.get(name);
      if (!this.#isStarting()) break;
      if (entry === undefined) continue;
      const error = await this.#startEntry(name, entry);
      if (error !== undefined) {
        await this.#takeDown(started);
        if (this.#isStarting()) this.#state = 'failed';
        throw error;
      }
      started.push(name);
    }
    if (!this.#isStarting()) {
      throw new FoundationError('FND_LIFECYCLE_INVALID_STATE', {
        message: 'Supervisor was stopped while starting',
        context: {},
      });
    }
    this.#state = 'running';
    // Services added while starting were not in `order`.
    await this.#startReady();
  }

  /** Starts one entry; resolves to `undefined` on success or to the `FND_LIFECYCLE_START_FAILED` error. */
  async #startEntry(name: string, entry: Entry): Promise<FoundationError | undefined> {
    const generation = ++entry.generation;
    const controller = new AbortController();
    entry.controller = controller;
    entry.state = 'starting';
    entry.waitingFor = undefined;
    this.#events.emit('service_starting', { name });
    const ctx: ServiceContext = {
      signal: controller.signal,
      fail: (error) => {
        this.#onFail(name, entry, generation, error);
      },
      dependency: ((dep: string) => this.#dependencyFor(entry, dep)) as ServiceContext['dependency'],
    };
    const began = this.#clock.monotonic();
    const service = entry.service;
    const outcome = await boundedCall(this.#clock, this.#startTimeoutMs, () => service.start(ctx));
    if (outcome.kind === 'ok') {
      const startedMono = this.#clock.monotonic();
      entry.instance = outcome.value;
      entry.state = 'running';
      entry.startedAt = this.#clock.now();
      entry.startedMono = startedMono;
      TELEMETRY.started.emit({ duration: startedMono - began }, { service: name });
      this.#events.emit('service_started', { name, instance: outcome.value, restarts: entry.restarts });
      for (const d of this.#graph.optionalDependantsOf(name)) {
        const dependant = this.#entries.get(d);
        if (dependant?.state !== 'running') continue;
        try {
          dependant.service.onDependencyUp?.(dependant.instance, name, outcome.value);
        } catch {
          // A throwing notification must not break the supervisor.
        }
      }
      return undefined;
    }
    controller.abort();
    this.#clear(entry, 'failed');
    const timedOut = outcome.kind === 'timeout';
    if (timedOut) {
      // The start may still finish: release what it acquired.
      void outcome.late.then(
        (instance) => boundedCall(this.#clock, this.#stopTimeoutMs, () => service.stop(instance)),
        noop,
      );
    }
    const error = new FoundationError('FND_LIFECYCLE_START_FAILED', {
      message: timedOut
        ? `Service "${name}" did not start within ${this.#startTimeoutMs} ms`
        : `Service "${name}" failed to start: ${errorMessage(outcome.error)}`,
      context: timedOut ? { service: name, timeoutMs: this.#startTimeoutMs } : { service: name },
      ...(timedOut ? {} : { cause: outcome.error }),
    });
    this.#recordError(entry, error);
    return error;
  }

  /** Stops one running entry (bounded); it ends `stopped`. */
  async #stopEntry(name: string, entry: Entry): Promise<void> {
    entry.state = 'stopping';
    entry.controller?.abort();
    const instance = entry.instance;
    const service = entry.service;
    const outcome = await boundedCall(this.#clock, this.#stopTimeoutMs, () => service.stop(instance));
    if (outcome.kind === 'timeout') {
      outcome.late.catch(noop);
      this.#recordError(
        entry,
        new FoundationError('FND_LIFECYCLE_STOP_TIMEOUT', {
          message: `Service "${name}" did not stop within ${this.#stopTimeoutMs} ms`,
          context: { service: name, timeoutMs: this.#stopTimeoutMs },
        }),
      );
    } else if (outcome.kind === 'error') {
      this.#recordError(
        entry,
        new FoundationError('FND_LIFECYCLE_STOP_FAILED', {
          message: `Service "${name}" failed to stop: ${errorMessage(outcome.error)}`,
          context: { service: name },
          cause: outcome.error,
        }),
      );
    }
    this.#clear(entry, 'stopped');
    TELEMETRY.stopped.emit({ count: 1 }, { service: name });
    this.#events.emit('service_stopped', { name });
  }

  /** Stops the running ones of `names` in reverse start order, telling optional dependants outside the set. */
  async #takeDown(names: Iterable<string>): Promise<void> {
    const set = new Set(names);
    const order = this.#order()
      .filter((n) => set.has(n))
      .reverse();
    for (const name of order) {
      const entry = this.#entries.get(name);
      if (entry?.state !== 'running') continue;
      for (const d of this.#graph.optionalDependantsOf(name)) {
        const dependant = this.#entries.get(d);
        if (set.has(d) || dependant?.state !== 'running') continue;
        try {
          dependant.service.onDependencyDown?.(dependant.instance, name);
        } catch {
          // A throwing notification must not break the supervisor.
        }
      }
      await this.#stopEntry(name, entry);
    }
  }

  /** Starts, in start order, every pending / waiting service whose required dependencies all run. */
  async #startReady(): Promise<void> {
    for (const name of this.#order()) {
      if (this.#state !== 'running') return;
      const entry = this.#entries.get(name);
      if (entry === undefined || (entry.state !== 'pending' && entry.state !== 'waiting')) continue;
      const blocker = entry.waitingFor === undefined ? undefined : this.#entries.get(entry.waitingFor);
      const ready =
        blocker?.state !== 'backoff' &&
        this.#graph.requiredOf(name).every((d) => this.#entries.get(d)?.state === 'running');
      if (!ready) {
        entry.state = 'waiting';
        continue;
      }
      const error = await this.#startEntry(name, entry);
      if (error !== undefined) await this.#failEntry(name, entry, error);
    }
  }

  #onFail(name: string, entry: Entry, generation: number, error: unknown): void {
    if (this.#entries.get(name) !== entry || entry.generation !== generation) return; // stale instance
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    this.#enqueue(async () => {
      if (this.#state !== 'running' || entry.generation !== generation || entry.state !== 'running') return;
      const failure = new FoundationError('FND_LIFECYCLE_SERVICE_FAILED', {
        message: `Service "${name}" failed: ${errorMessage(error)}`,
        context: { service: name },
        cause: error,
      });
      await this.#failEntry(name, entry, failure);
    }).catch(noop);
  }

  /** Handles a failure of a running entry or a failed (re)start: take down, then restart or escalate. */
  async #failEntry(name: string, entry: Entry, error: FoundationError): Promise<void> {
    const now = this.#clock.monotonic();
    if (entry.startedMono !== undefined && now - entry.startedMono >= this.#backoff.max) entry.failures = 0;
    this.#recordError(entry, error);
    const willRestart = entry.policy !== 'temporary';
    TELEMETRY.failed.emit({ count: 1 }, { service: name, code: error.code, willRestart });
    this.#events.emit('service_failed', { name, error, willRestart });
    const order = this.#order();
    const later = order.slice(order.indexOf(name) + 1);
    const collateral = new Set(this.#graph.dependantsOf(name));
    if (this.#strategy === 'rest_for_one' && willRestart) for (const n of later) collateral.add(n);
    const up = [...collateral].filter((n) => this.#entries.get(n)?.state === 'running');
    await this.#takeDown([name, ...up]);
    for (const n of up) this.#markWaiting(n, name);
    entry.state = 'failed';
    if (!willRestart || this.#state !== 'running') return;
    if (!this.#intensity.record(this.#clock.monotonic())) {
      await this.#escalate(name, error);
      return;
    }
    const delay = Math.min(this.#backoff.max, this.#backoff.initial * 2 ** entry.failures);
    entry.failures++;
    entry.state = 'backoff';
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      this.#enqueue(() => this.#restart(name, entry)).catch(noop);
    }, delay);
  }

  async #restart(name: string, entry: Entry): Promise<void> {
    if (this.#state !== 'running' || this.#entries.get(name) !== entry || entry.state !== 'backoff') return;
    entry.restarts++;
    TELEMETRY.restart.emit({ restarts: entry.restarts }, { service: name });
    entry.state = 'waiting';
    entry.waitingFor = undefined;
    await this.#startReady();
  }

  async #escalate(name: string, cause: FoundationError): Promise<void> {
    const error = new FoundationError('FND_LIFECYCLE_RESTART_INTENSITY', {
      message: `More than ${this.#intensity.maxRestarts} restarts within ${this.#intensity.withinMs} ms (last: "${name}"); escalated`,
      context: {
        service: name,
        maxRestarts: this.#intensity.maxRestarts,
        withinMs: this.#intensity.withinMs,
      },
      cause,
    });
    this.#state = 'failed';
    this.#escalated = error;
    this.#cancelTimers();
    await this.#takeDown(this.#entries.keys());
    for (const entry of this.#entries.values()) {
      if (entry.state === 'backoff') entry.state = 'failed';
      else if (entry.state !== 'failed') entry.state = 'stopped';
    }
    TELEMETRY.escalated.emit({ count: 1 }, { service: name, code: error.code });
    this.#events.emit('escalated', { error });
  }

  /** Whether `start()` is still in progress (a method, so TypeScript does not narrow across awaits). */
  #isStarting(): boolean {
    return this.#state === 'starting';
  }

  /** Drops the instance of an entry that is no longer running. */
  #clear(entry: Entry, state: ServiceState): void {
    entry.state = state;
    entry.instance = undefined;
    entry.controller = undefined;
    entry.startedAt = undefined;
    entry.startedMono = undefined;
  }

  #markWaiting(name: string, blocker: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    entry.state = 'waiting';
    entry.waitingFor = blocker;
  }

  #cancelTimers(): void {
    for (const entry of this.#entries.values()) {
      entry.timer?.cancel();
      entry.timer = undefined;
    }
  }

  #recordError(entry: Entry, error: FoundationError): void {
    entry.lastError = { code: error.code, message: error.message, at: this.#clock.now() };
  }

  #dependencyFor(entry: Entry, dep: string): unknown {
    const declared =
      (entry.service.dependencies?.includes(dep) ?? false) ||
      (entry.service.optionalDependencies?.includes(dep) ?? false);
    if (!declared) return undefined;
    const target = this.#entries.get(dep);
    return target?.state === 'running' ? target.instance : undefined;
  }
}

function newEntry(service: Service, policy: RestartPolicy): Entry {
  return {
    service,
    policy,
    state: 'pending',
    instance: undefined,
    generation: 0,
    controller: undefined,
    restarts: 0,
    startedAt: undefined,
    startedMono: undefined,
    lastError: undefined,
    failures: 0,
    timer: undefined,
    waitingFor: undefined,
  };
}
