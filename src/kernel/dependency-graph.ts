/**
 * The dependency graph of supervised services (pure model, no I/O): validation, a deterministic start order
 * and the dependants of a service.
 *
 * - A **required** dependency must be defined ({@link DependencyGraph.validate} names a missing one) and must
 *   not be part of a cycle (the cycle's path is in the error context).
 * - An **optional** dependency may name a service that is not (yet) defined. When both are present the
 *   dependency is ordered first, but an optional edge never creates a cycle error: an optional edge that
 *   would close a cycle is dropped from the ordering.
 * - The start order is topological; ties are broken by insertion order. The stop order is its reverse.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';

/** What the graph needs to know about a service. */
export interface ServiceSpec {
  /** Unique name. */
  readonly name: string;
  /** Services that must run before this one. */
  readonly dependencies?: readonly string[] | undefined;
  /** Services ordered before this one when present; absence is fine. */
  readonly optionalDependencies?: readonly string[] | undefined;
}

interface Node {
  readonly name: string;
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/**
 * The graph of services and their required / optional dependencies.
 *
 * @example
 * ```ts
 * const graph = new DependencyGraph([
 *   { name: 'http', dependencies: ['db'] },
 *   { name: 'db' },
 * ]);
 * graph.validate();
 * graph.startOrder(); // ['db', 'http']
 * ```
 */
export class DependencyGraph {
  /** Insertion-ordered nodes. */
  readonly #nodes = new Map<string, Node>();
  #order: readonly string[] | undefined;

  /** @param specs - initial services, in insertion order. */
  constructor(specs: Iterable<ServiceSpec> = []) {
    for (const spec of specs) this.add(spec);
  }

  /** Number of services. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Names in insertion order. */
  names(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Whether `name` is in the graph. */
  has(name: string): boolean {
    return this.#nodes.has(name);
  }

  /** Adds a service. Throws `FND_LIFECYCLE_DUPLICATE_SERVICE` when the name is taken. Does not validate. */
  add(spec: ServiceSpec): void {
    if (this.#nodes.has(spec.name)) {
      throw new FoundationError('FND_LIFECYCLE_DUPLICATE_SERVICE', {
        message: `Service "${spec.name}" is already defined`,
        context: { service: spec.name },
      });
    }
    this.#nodes.set(spec.name, {
      name: spec.name,
      required: [...(spec.dependencies ?? [])],
      optional: [...(spec.optionalDependencies ?? [])],
    });
    this.#order = undefined;
  }

  /** Removes a service; returns whether it was there. Edges naming it from other services stay (dangling). */
  remove(name: string): boolean {
    const removed = this.#nodes.delete(name);
    if (removed) this.#order = undefined;
    return removed;
  }

  /** The required dependencies of `name` as declared (possibly naming undefined services). */
  requiredOf(name: string): readonly string[] {
    return this.#nodes.get(name)?.required ?? [];
  }

  /** The optional dependencies of `name` as declared. */
  optionalOf(name: string): readonly string[] {
    return this.#nodes.get(name)?.optional ?? [];
  }

  /**
   * Checks the graph: every required dependency is defined (`FND_LIFECYCLE_MISSING_DEPENDENCY`, context
   * `{ service, dependency }`) and required edges have no cycle (`FND_LIFECYCLE_DEPENDENCY_CYCLE`, context
   * `{ cycle }`: the path, first name repeated at the end). With `only`, checks just those services' edges
   * for missing dependencies (cycles are always searched in the whole graph). Throws the first problem.
   */
  validate(only?: Iterable<string>): void {
    const problem = this.problem(only);
    if (problem !== undefined) throw problem;
  }

  /** The error {@link DependencyGraph.validate} would throw, or `undefined` when the graph is valid. */
  problem(only?: Iterable<string>): FoundationError | undefined {
    const names = only === undefined ? this.#nodes.keys() : only;
    for (const name of names) {
      for (const dep of this.requiredOf(name)) {
        if (!this.#nodes.has(dep)) {
          return new FoundationError('FND_LIFECYCLE_MISSING_DEPENDENCY', {
            message: `Service "${name}" requires "${dep}", which is not defined`,
            context: { service: name, dependency: dep },
          });
        }
      }
    }
    const cycle = this.findCycle();
    return cycle === undefined ? undefined : cycleError(cycle);
  }

  /** A cycle among required edges between defined services (`[a, b, a]` = a requires b requires a), if any. */
  findCycle(): string[] | undefined {
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (name: string): string[] | undefined => {
      state.set(name, 'visiting');
      stack.push(name);
      for (const dep of this.requiredOf(name)) {
        if (!this.#nodes.has(dep)) continue;
        const s = state.get(dep);
        if (s === 'visiting') return [...stack.slice(stack.indexOf(dep)), dep];
        if (s === undefined) {
          const found = visit(dep);
          if (found !== undefined) return found;
        }
      }
      stack.pop();
      state.set(name, 'done');
      return undefined;
    };
    for (const name of this.#nodes.keys()) {
      if (state.has(name)) continue;
      const found = visit(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * The start order: every service after its defined required dependencies and, where no cycle results,
   * after its defined optional dependencies; ties in insertion order. Throws
   * `FND_LIFECYCLE_DEPENDENCY_CYCLE` on a required cycle. Dependencies on undefined services are ignored.
   */
  startOrder(): string[] {
    this.#order ??= this.#computeOrder();
    return [...this.#order];
  }

  /** The start order, or `undefined` when required edges form a cycle. Never throws. */
  tryStartOrder(): string[] | undefined {
    if (this.#order !== undefined) return [...this.#order];
    if (this.findCycle() !== undefined) return undefined;
    return this.startOrder();
  }

  /** The stop order: the start order reversed. */
  stopOrder(): string[] {
    return this.startOrder().reverse();
  }

  /**
   * Every service that requires `name`, directly or transitively (required edges only), in start order.
   * Excludes `name` itself.
   */
  dependantsOf(name: string): string[] {
    const found = new Set<string>();
    const queue = [name];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const node of this.#nodes.values()) {
        if (node.name !== name && !found.has(node.name) && node.required.includes(current)) {
          found.add(node.name);
          queue.push(node.name);
        }
      }
    }
    const order = this.tryStartOrder() ?? this.names();
    return order.filter((n) => found.has(n));
  }

  /** Services that list `name` as an optional dependency (direct only), in insertion order. */
  optionalDependantsOf(name: string): string[] {
    const result: string[] = [];
    for (const node of this.#nodes.values()) {
      if (node.optional.includes(name)) result.push(node.name);
    }
    return result;
  }

  #computeOrder(): string[] {
    const cycle = this.findCycle();
    if (cycle !== undefined) throw cycleError(cycle);
    // deps.get(x): the services x must start after.
    const deps = new Map<string, Set<string>>();
    for (const node of this.#nodes.values()) {
      deps.set(node.name, new Set(node.required.filter((d) => this.#nodes.has(d) && d !== node.name)));
    }
    const reaches = (from: string, to: string): boolean => {
      // Whether `from` (transitively) must start after `to`.
      const seen = new Set<string>();
      const stack = [from];
      while (stack.length > 0) {
        const current = stack.pop() as string;
        if (current === to) return true;
        if (seen.has(current)) continue;
        seen.add(current);
        for (const d of deps.get(current) ?? []) stack.push(d);
      }
      return false;
    };
    for (const node of this.#nodes.values()) {
      for (const dep of node.optional) {
        if (!this.#nodes.has(dep) || dep === node.name) continue;
        // Edge node -> dep closes a cycle when dep already (transitively) starts after node.
        if (reaches(dep, node.name)) continue;
        deps.get(node.name)?.add(dep);
      }
    }
    const order: string[] = [];
    const placed = new Set<string>();
    const names = [...this.#nodes.keys()];
    while (order.length < names.length) {
      const next = names.find((n) => !placed.has(n) && [...(deps.get(n) ?? [])].every((d) => placed.has(d)));
      if (next === undefined) break; // unreachable: the edge set is acyclic
      order.push(next);
      placed.add(next);
    }
    return order;
  }
}

function cycleError(cycle: readonly string[]): FoundationError {
  return new FoundationError('FND_LIFECYCLE_DEPENDENCY_CYCLE', {
    message: `Service dependencies form a cycle: ${cycle.join(' -> ')}`,
    context: { cycle },
  });
}
