/**
 * The services of a supervisor: the {@link SupervisedService}s keyed by name, their {@link DependencyGraph},
 * and the queries and notifications the {@link Supervisor} needs over both — start order, readiness, what goes
 * down with a failed service, and the `onDependencyUp` / `onDependencyDown` calls to optional dependants.
 * It decides nothing about *when* things happen; that is the supervisor's serial queue.
 *
 * @module
 */
import type { FoundationError } from '../errors/index.js';
import { DependencyGraph } from './dependency-graph.js';
import type { SupervisedService } from './supervised-service.js';
import type { ServiceHealth, ServiceStatus } from './supervisor-types.js';

/** The supervised services and their dependency graph (internal to the supervisor). */
export class ServiceTable {
  readonly #graph = new DependencyGraph();
  readonly #units = new Map<string, SupervisedService>();

  /** The unit named `name`, if supervised. */
  get(name: string): SupervisedService | undefined {
    return this.#units.get(name);
  }

  /** Every unit, in insertion order. */
  values(): IterableIterator<SupervisedService> {
    return this.#units.values();
  }

  /** Every name, in insertion order. */
  names(): IterableIterator<string> {
    return this.#units.keys();
  }

  /**
   * Adds `unit`. Throws `FND_LIFECYCLE_DUPLICATE_SERVICE` on a taken name; with `checkDependencies` (the
   * supervisor is live) also the graph error of its required dependencies (missing or cycle), leaving the
   * table unchanged.
   */
  add(unit: SupervisedService, checkDependencies: boolean): void {
    this.#graph.add(unit.service);
    if (checkDependencies) {
      try {
        this.#graph.validate([unit.name]);
      } catch (error) {
        this.#graph.remove(unit.name);
        throw error;
      }
    }
    this.#units.set(unit.name, unit);
  }

  /** Forgets `name` (its dependants keep their edges to it). */
  remove(name: string): void {
    this.#units.delete(name);
    this.#graph.remove(name);
  }

  /** The graph's validation error, or `undefined` when every service can start. */
  problem(): FoundationError | undefined {
    return this.#graph.problem();
  }

  /** The start order; throws on a dependency cycle. */
  startOrder(): string[] {
    return this.#graph.startOrder();
  }

  /** The start order, or insertion order when the graph has a cycle. Never throws. */
  order(): string[] {
    return this.#graph.tryStartOrder() ?? this.#graph.names();
  }

  /** Services that require `name` (transitively), in start order. */
  dependantsOf(name: string): string[] {
    return this.#graph.dependantsOf(name);
  }

  /**
   * Whether `unit` may start now: every required dependency runs, and the service it went down with (if any)
   * is not still waiting out its backoff.
   */
  isReady(unit: SupervisedService): boolean {
    const blocker = unit.waitingFor === undefined ? undefined : this.#units.get(unit.waitingFor);
    return (
      blocker?.state !== 'backoff' &&
      this.#graph.requiredOf(unit.name).every((d) => this.#units.get(d)?.state === 'running')
    );
  }

  /**
   * The running services that go down with a failure of `name`: its required dependants and, with
   * `restForOne`, every service after it in start order.
   */
  collateralOf(name: string, restForOne: boolean): string[] {
    const collateral = new Set(this.#graph.dependantsOf(name));
    if (restForOne) {
      const order = this.order();
      for (const n of order.slice(order.indexOf(name) + 1)) collateral.add(n);
    }
    return [...collateral].filter((n) => this.#units.get(n)?.state === 'running');
  }

  /** Marks `name` as `waiting` for `blocker` to come back. */
  markWaiting(name: string, blocker: string): void {
    const unit = this.#units.get(name);
    if (unit === undefined) return;
    unit.state = 'waiting';
    unit.waitingFor = blocker;
  }

  /** Calls `onDependencyUp` on every running service that lists `name` as an optional dependency. */
  notifyUp(name: string, instance: unknown): void {
    for (const d of this.#graph.optionalDependantsOf(name)) {
      const dependant = this.#units.get(d);
      if (dependant?.state !== 'running') continue;
      try {
        dependant.service.onDependencyUp?.(dependant.instance, name, instance);
      } catch {
        // A throwing notification must not break the supervisor.
      }
    }
  }

  /**
   * Calls `onDependencyDown` on every running service that lists `name` as an optional dependency, except
   * those in `except` (they are going down too).
   */
  notifyDown(name: string, except: ReadonlySet<string>): void {
    for (const d of this.#graph.optionalDependantsOf(name)) {
      const dependant = this.#units.get(d);
      if (except.has(d) || dependant?.state !== 'running') continue;
      try {
        dependant.service.onDependencyDown?.(dependant.instance, name);
      } catch {
        // A throwing notification must not break the supervisor.
      }
    }
  }

  /** Puts every unit back to `pending` with zeroed counters, for a fresh `start()`. */
  resetForStart(): void {
    for (const unit of this.#units.values()) {
      unit.state = 'pending';
      unit.restarts = 0;
      unit.failures = 0;
      unit.waitingFor = undefined;
    }
  }

  /** Cancels every pending restart; with `failBackoff`, a unit that was in `backoff` becomes `failed`. */
  cancelRestarts(failBackoff: boolean): void {
    for (const unit of this.#units.values()) {
      unit.cancelTimer();
      if (failBackoff && unit.state === 'backoff') unit.state = 'failed';
    }
  }

  /** Status snapshots, in start order. */
  statuses(): ServiceStatus[] {
    return this.order().flatMap((name) => this.#units.get(name)?.status() ?? []);
  }

  /** Health checks of every service (concurrent), in start order. */
  health(timeoutMs: number): Promise<ServiceHealth[]> {
    return Promise.all(this.order().flatMap((name) => this.#units.get(name)?.health(timeoutMs) ?? []));
  }
}
