/**
 * One supervised service: its current instance, state and counters, and the bounded calls to its `start` and
 * `stop`. The {@link Supervisor} decides *when* to start or stop it; this class does the calling, the state
 * transitions and the error recording.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Service, ServiceContext } from './service.js';
import { boundedCall, checkServiceHealth, errorMessage } from './supervisor-calls.js';
import type {
  BootPolicy,
  RestartPolicy,
  ServiceHealth,
  ServiceLastError,
  ServiceState,
  ServiceStatus,
} from './supervisor-types.js';

const noop = (): void => undefined;

/** What a {@link SupervisedService} needs from its supervisor. */
export interface ServiceRuntime {
  readonly clock: Clock;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** Called by the service's `ctx.fail(error)`; `generation` identifies the instance that failed. */
  fail(unit: SupervisedService, generation: number, error: unknown): void;
  /** The running instance of `name`, or `undefined`. */
  instance(name: string): unknown;
}

/** A service under supervision (internal to the supervisor; exported for its tests and the docs). */
export class SupervisedService {
  readonly service: Service;
  readonly policy: RestartPolicy;
  /** What a start failure during the supervisor's `start()` means. */
  readonly boot: BootPolicy;
  state: ServiceState = 'pending';
  /** What `start` resolved to; `undefined` unless running or stopping. */
  instance: unknown;
  /** Incremented per start attempt; a `fail()` from an older generation is stale. */
  generation = 0;
  /** Restart attempts since the supervisor last started. */
  restarts = 0;
  /** Consecutive failures, for the backoff delay. */
  failures = 0;
  /** Pending restart timer while in `backoff`. */
  timer: TimerHandle | undefined;
  /** A collateral of this failed service: it is not restarted while that service waits out its backoff. */
  waitingFor: string | undefined;
  lastError: ServiceLastError | undefined;
  /** Monotonic ms when the running instance started. */
  startedMono: number | undefined;
  #startedAt: number | undefined;
  #controller: AbortController | undefined;
  readonly #runtime: ServiceRuntime;

  /** Wraps a validated service definition. */
  constructor(service: Service, policy: RestartPolicy, boot: BootPolicy, runtime: ServiceRuntime) {
    this.service = service;
    this.policy = policy;
    this.boot = boot;
    this.#runtime = runtime;
  }

  /** The service's name. */
  get name(): string {
    return this.service.name;
  }

  /** Whether `dep` is a declared (required or optional) dependency. */
  declares(dep: string): boolean {
    return (
      (this.service.dependencies?.includes(dep) ?? false) ||
      (this.service.optionalDependencies?.includes(dep) ?? false)
    );
  }

  /**
   * Calls `start` bounded by the start timeout. Resolves to `undefined` when running, or to the recorded
   * `FND_LIFECYCLE_START_FAILED` error (state `failed`). A start that finishes after its timeout is stopped.
   */
  async start(): Promise<FoundationError | undefined> {
    const { clock, startTimeoutMs, stopTimeoutMs } = this.#runtime;
    const generation = ++this.generation;
    const controller = new AbortController();
    this.#controller = controller;
    this.state = 'starting';
    this.waitingFor = undefined;
    const ctx: ServiceContext = {
      signal: controller.signal,
      fail: (error) => {
        this.#runtime.fail(this, generation, error);
      },
      dependency: ((dep: string) =>
        this.declares(dep) ? this.#runtime.instance(dep) : undefined) as ServiceContext['dependency'],
    };
    const service = this.service;
    const outcome = await boundedCall(clock, startTimeoutMs, () => service.start(ctx));
    if (outcome.kind === 'ok') {
      this.instance = outcome.value;
      this.state = 'running';
      this.#startedAt = clock.now();
      this.startedMono = clock.monotonic();
      return undefined;
    }
    controller.abort();
    this.clear('failed');
    const timedOut = outcome.kind === 'timeout';
    if (timedOut) {
      // The start may still finish: release what it acquired.
      void outcome.late.then((late) => boundedCall(clock, stopTimeoutMs, () => service.stop(late)), noop);
    }
    const error = new FoundationError('FND_LIFECYCLE_START_FAILED', {
      message: timedOut
        ? `Service "${this.name}" did not start within ${startTimeoutMs} ms`
        : `Service "${this.name}" failed to start: ${errorMessage(outcome.error)}`,
      context: timedOut ? { service: this.name, timeoutMs: startTimeoutMs } : { service: this.name },
      ...(timedOut ? {} : { cause: outcome.error }),
    });
    this.recordError(error);
    return error;
  }

  /**
   * Aborts the instance's signal and calls `stop` bounded by the stop timeout; a timeout or a throw is
   * recorded as `lastError` (`FND_LIFECYCLE_STOP_TIMEOUT` / `FND_LIFECYCLE_STOP_FAILED`). Ends `stopped`.
   */
  async stop(): Promise<void> {
    const { clock, stopTimeoutMs } = this.#runtime;
    this.state = 'stopping';
    this.#controller?.abort();
    const instance = this.instance;
    const service = this.service;
    const outcome = await boundedCall(clock, stopTimeoutMs, () => service.stop(instance));
    if (outcome.kind === 'timeout') {
      outcome.late.catch(noop);
      this.recordError(
        new FoundationError('FND_LIFECYCLE_STOP_TIMEOUT', {
          message: `Service "${this.name}" did not stop within ${stopTimeoutMs} ms`,
          context: { service: this.name, timeoutMs: stopTimeoutMs },
        }),
      );
    } else if (outcome.kind === 'error') {
      this.recordError(
        new FoundationError('FND_LIFECYCLE_STOP_FAILED', {
          message: `Service "${this.name}" failed to stop: ${errorMessage(outcome.error)}`,
          context: { service: this.name },
          cause: outcome.error,
        }),
      );
    }
    this.clear('stopped');
  }

  /** Drops the instance (no longer running) and moves to `state`. */
  clear(state: ServiceState): void {
    this.state = state;
    this.instance = undefined;
    this.#controller = undefined;
    this.#startedAt = undefined;
    this.startedMono = undefined;
  }

  /** Records `error` as the last error, stamped with the clock's wall time. */
  recordError(error: FoundationError): void {
    this.lastError = { code: error.code, message: error.message, at: this.#runtime.clock.now() };
  }

  /** Cancels a pending restart timer. */
  cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Its health: the `health` function (bounded by `timeoutMs`) when running, else unhealthy (the message
   * names the state and, in `backoff` / `failed`, the last error).
   */
  health(timeoutMs: number): Promise<ServiceHealth> {
    if (this.state !== 'running') {
      const cause = this.state === 'backoff' || this.state === 'failed' ? this.lastError : undefined;
      const message = `service is ${this.state}${cause === undefined ? '' : `: ${cause.message}`}`;
      return Promise.resolve({ name: this.name, status: 'unhealthy', message });
    }
    return checkServiceHealth(this.#runtime.clock, timeoutMs, this.service, this.instance);
  }

  /** A status snapshot. */
  status(): ServiceStatus {
    const running = this.state === 'running' && this.startedMono !== undefined;
    return {
      name: this.name,
      state: this.state,
      restarts: this.restarts,
      startedAt: running ? this.#startedAt : undefined,
      uptimeMs: running ? Math.round(this.#runtime.clock.monotonic() - (this.startedMono ?? 0)) : 0,
      lastError: this.lastError,
      dependencies: [...(this.service.dependencies ?? [])],
      optionalDependencies: [...(this.service.optionalDependencies ?? [])],
      restartPolicy: this.policy,
      boot: this.boot,
    };
  }
}
