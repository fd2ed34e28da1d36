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
import type { Clock } from './clock.js';
import { RestartIntensity } from './restart-intensity.js';
import type { Service } from './service.js';
import { SupervisedService, type ServiceRuntime } from './supervised-service.js';
import {
  errorMessage,
  intensityError,
  invalidState,
  resolveSupervisorOptions,
  validateService,
  worstStatus,
  type ResolvedSupervisorOptions,
} from './supervisor-calls.js';
import { ServiceTable } from './supervisor-service-table.js';
import type {
  AddServiceOptions,
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

/**
 * Supervises {@link Service}s. See `docs/lifecycle.md`.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ maxRestarts: 3, withinMs: 5000 });
 * supervisor.add({ name: 'db', start: () => connect(), stop: (db) => db.close() });
 * supervisor.add({
 *   name: 'http',
 *   dependencies: ['db'],
 *   start: (ctx) => serve(ctx.dependency('db')),
 *   stop: (server) => server.close(),
 * });
 * await supervisor.start();
 * await supervisor.stop();
 * ```
 */
export class Supervisor {
  readonly #options: ResolvedSupervisorOptions;
  readonly #clock: Clock;
  readonly #intensity: RestartIntensity;
  readonly #runtime: ServiceRuntime;
  readonly #services = new ServiceTable();
  readonly #events = new TypedEvents<SupervisorEvents>();
  #state: SupervisorState = 'idle';
  #escalated: FoundationError | undefined;
  #queue: Promise<void> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /** Creates an idle supervisor; nothing runs until {@link Supervisor.start}. Checks the options. */
  constructor(options: SupervisorOptions = {}) {
    this.#options = resolveSupervisorOptions(options);
    this.#clock = this.#options.clock;
    this.#intensity = new RestartIntensity(this.#options);
    this.#runtime = {
      clock: this.#clock,
      startTimeoutMs: this.#options.startTimeoutMs,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      fail: (unit, generation, error) => {
        this.#onFail(unit, generation, error);
      },
      instance: (name) => this.instance(name),
    };
  }

  /** Current state of the supervisor. */
  get state(): SupervisorState {
    return this.#state;
  }

  /**
   * Adds a service with its restart policy (default `permanent`) and boot policy (default `required`; see
   * {@link BootPolicy}: `background` lets `start()` succeed while the service is still failing to start).
   * Throws `FND_LIFECYCLE_INVALID_SERVICE` on a bad definition or option and `FND_LIFECYCLE_DUPLICATE_SERVICE`
   * on a taken name. While the supervisor runs, the service's required dependencies must exist
   * (`FND_LIFECYCLE_MISSING_DEPENDENCY`, `FND_LIFECYCLE_DEPENDENCY_CYCLE`) and it is started right away in
   * the background ({@link Supervisor.settled} waits for it); running services that list it as an optional
   * dependency get `onDependencyUp`. A start failure there is a run-time failure.
   */
  add<T>(service: Service<T>, options: AddServiceOptions = {}): void {
    const policy = options.restart ?? 'permanent';
    const boot = options.boot ?? 'required';
    validateService(service, policy, boot);
    const live = this.#state === 'running' || this.#state === 'starting';
    this.#services.add(new SupervisedService(service, policy, boot, this.#runtime), live);
    if (live) this.#enqueue(() => this.#startReady()).catch(noop);
  }

  /**
   * Stops a service — its required dependants first (they stay defined, `waiting` for it) — and removes it.
   * Removing an unknown name does nothing.
   */
  remove(name: string): Promise<void> {
    return this.#enqueue(async () => {
      const unit = this.#services.get(name);
      if (unit === undefined) return;
      unit.cancelTimer();
      const up = this.#services.dependantsOf(name).filter((d) => this.#services.get(d)?.state === 'running');
      await this.#takeDown([name, ...up]);
      for (const d of up) this.#services.markWaiting(d, name);
      this.#services.remove(name);
    });
  }

  /**
   * Validates the graph and starts every service in start order, one at a time. Throws the graph error
   * (nothing started) or, when the `start` of a `required`-boot service throws or exceeds `startTimeoutMs`,
   * stops the started ones in reverse order and rejects with `FND_LIFECYCLE_START_FAILED` (context
   * `{ service }`, cause = the error). A `background`-boot service that fails to start is handled like a
   * run-time failure (backoff, retries) and services requiring it are left `waiting`; should those failures
   * exceed the restart intensity, `start()` rejects with the `FND_LIFECYCLE_RESTART_INTENSITY` escalation.
   * Calling it while running resolves at once; while starting, returns the same promise.
   */
  start(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    if (this.#starting !== undefined) return this.#starting;
    if (this.#state === 'stopping') {
      return Promise.reject(invalidState('Supervisor is stopping'));
    }
    const problem = this.#services.problem();
    if (problem !== undefined) return Promise.reject(problem);
    const order = this.#services.startOrder();
    this.#state = 'starting';
    this.#escalated = undefined;
    this.#intensity.reset();
    this.#services.resetForStart();
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
    this.#services.cancelRestarts(false);
    if (!wasFailed) this.#state = 'stopping';
    const stopping = this.#enqueue(async () => {
      await this.#takeDown(this.#services.names());
      for (const unit of this.#services.values()) {
        if (unit.state !== 'failed' && unit.state !== 'stopped') unit.state = 'stopped';
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
    return { state: this.#state, escalated: this.#escalated, services: this.#services.statuses() };
  }

  /** The running instance of `name` (what its `start` resolved to), or `undefined`. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type
  instance<T = unknown>(name: string): T | undefined {
    const unit = this.#services.get(name);
    return unit?.state === 'running' ? (unit.instance as T) : undefined;
  }

  /**
   * Checks every service concurrently: a running one by its `health` function bounded by `timeoutMs`
   * (default 5000; a throw or timeout is unhealthy; no function = healthy); any other state is unhealthy.
   * Overall: the worst of all, and unhealthy when the supervisor is not running or escalated.
   */
  async health(options: { readonly timeoutMs?: number } = {}): Promise<SupervisorHealth> {
    const services = await this.#services.health(options.timeoutMs ?? 5000);
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

  async #startAll(order: readonly string[]): Promise<void> {
    const started: string[] = [];
    for (const name of order) {
      const unit = this.#services.get(name);
      if (!this.#isStarting()) break;
      if (unit === undefined) continue;
      if (!this.#services.isReady(unit)) {
        unit.state = 'waiting'; // a required dependency is a `background` service that is not up (yet)
        continue;
      }
      const error = await this.#startUnit(unit);
      if (error === undefined) {
        started.push(name);
      } else if (unit.boot === 'background') {
        await this.#failUnit(unit, error);
      } else {
        this.#services.cancelRestarts(true);
        await this.#takeDown(started);
        if (this.#isStarting()) this.#state = 'failed';
        throw error;
      }
    }
    if (this.#escalated !== undefined) throw this.#escalated;
    if (!this.#isStarting()) {
      throw invalidState('Supervisor was stopped while starting');
    }
    this.#state = 'running';
    // Services added while starting were not in `order`.
    await this.#startReady();
  }

  /** Starts one unit, then emits and tells running optional dependants. Resolves to the start error, if any. */
  async #startUnit(unit: SupervisedService): Promise<FoundationError | undefined> {
    const name = unit.name;
    this.#events.emit('service_starting', { name });
    const began = this.#clock.monotonic();
    const error = await unit.start();
    if (error !== undefined) return error;
    TELEMETRY.started.emit({ duration: this.#clock.monotonic() - began }, { service: name });
    this.#events.emit('service_started', { name, instance: unit.instance, restarts: unit.restarts });
    this.#services.notifyUp(name, unit.instance);
    return undefined;
  }

  /** Stops the running ones of `names` in reverse start order, telling optional dependants outside the set. */
  async #takeDown(names: Iterable<string>): Promise<void> {
    const set = new Set(names);
    const order = this.#services
      .order()
      .filter((n) => set.has(n))
      .reverse();
    for (const name of order) {
      const unit = this.#services.get(name);
      if (unit?.state !== 'running') continue;
      this.#services.notifyDown(name, set);
      await unit.stop();
      TELEMETRY.stopped.emit({ count: 1 }, { service: name });
      this.#events.emit('service_stopped', { name });
    }
  }

  /** Starts, in start order, every pending / waiting service whose required dependencies all run. */
  async #startReady(): Promise<void> {
    for (const name of this.#services.order()) {
      if (this.#state !== 'running') return;
      const unit = this.#services.get(name);
      if (unit === undefined || (unit.state !== 'pending' && unit.state !== 'waiting')) continue;
      if (!this.#services.isReady(unit)) {
        unit.state = 'waiting';
        continue;
      }
      const error = await this.#startUnit(unit);
      if (error !== undefined) await this.#failUnit(unit, error);
    }
  }

  #onFail(unit: SupervisedService, generation: number, error: unknown): void {
    if (this.#services.get(unit.name) !== unit || unit.generation !== generation) return; // stale instance
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    this.#enqueue(async () => {
      if (this.#state !== 'running' || unit.generation !== generation || unit.state !== 'running') return;
      const failure = new FoundationError('FND_LIFECYCLE_SERVICE_FAILED', {
        message: `Service "${unit.name}" failed: ${errorMessage(error)}`,
        context: { service: unit.name },
        cause: error,
      });
      await this.#failUnit(unit, failure);
    }).catch(noop);
  }

  /**
   * Handles a failure of a running unit or a failed (re)start — including a `background` service's failed
   * start during `start()`: take down, then restart or escalate.
   */
  async #failUnit(unit: SupervisedService, error: FoundationError): Promise<void> {
    const { name } = unit;
    const { backoff, strategy } = this.#options;
    const now = this.#clock.monotonic();
    if (unit.startedMono !== undefined && now - unit.startedMono >= backoff.max) unit.failures = 0;
    unit.recordError(error);
    const willRestart = unit.policy !== 'temporary';
    TELEMETRY.failed.emit({ count: 1 }, { service: name, code: error.code, willRestart });
    this.#events.emit('service_failed', { name, error, willRestart });
    const up = this.#services.collateralOf(name, strategy === 'rest_for_one' && willRestart);
    await this.#takeDown([name, ...up]);
    for (const n of up) this.#services.markWaiting(n, name);
    unit.state = 'failed';
    if (!willRestart || !this.#isLive()) return;
    if (!this.#intensity.record(this.#clock.monotonic())) {
      await this.#escalate(name, error);
      return;
    }
    const delay = Math.min(backoff.max, backoff.initial * 2 ** unit.failures);
    unit.failures++;
    unit.state = 'backoff';
    unit.timer = this.#clock.setTimeout(() => {
      unit.timer = undefined;
      this.#enqueue(() => this.#restart(unit)).catch(noop);
    }, delay);
  }

  async #restart(unit: SupervisedService): Promise<void> {
    if (this.#state !== 'running' || this.#services.get(unit.name) !== unit || unit.state !== 'backoff')
      return;
    unit.restarts++;
    TELEMETRY.restart.emit({ restarts: unit.restarts }, { service: unit.name });
    unit.state = 'waiting';
    unit.waitingFor = undefined;
    await this.#startReady();
  }

  async #escalate(name: string, cause: FoundationError): Promise<void> {
    const error = intensityError(name, this.#options, cause);
    this.#state = 'failed';
    this.#escalated = error;
    this.#services.cancelRestarts(true);
    await this.#takeDown(this.#services.names());
    for (const unit of this.#services.values()) {
      if (unit.state !== 'failed') unit.state = 'stopped';
    }
    TELEMETRY.escalated.emit({ count: 1 }, { service: name, code: error.code });
    this.#events.emit('escalated', { error });
  }

  /** Whether `start()` is still in progress (a method, so TypeScript does not narrow across awaits). */
  #isStarting(): boolean {
    return this.#state === 'starting';
  }

  /** Whether failures are supervised: running, or starting (a `background` service's failed boot start). */
  #isLive(): boolean {
    return this.#state === 'running' || this.#state === 'starting';
  }
}
