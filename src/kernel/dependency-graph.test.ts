import fc from 'fast-check';
import { thrown } from '../testing/index.js';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../errors/index.js';
import { DependencyGraph, type ServiceSpec } from './dependency-graph.js';

/** Random DAG: service i may require / optionally use services with a smaller index (then shuffled). */
const dagArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            required: fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`)),
            optional: fc.subarray(Array.from({ length: n }, (_, j) => `s${j}`).filter((x) => x !== `s${i}`)),
          }),
        ),
      ),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .map(([nodes, perm]): ServiceSpec[] =>
    perm.map((i) => ({
      name: `s${i}`,
      dependencies: nodes[i]?.required ?? [],
      optionalDependencies: nodes[i]?.optional ?? [],
    })),
  );

describe('DependencyGraph', () => {
  it('orders dependencies first and breaks ties by insertion order', () => {
    const graph = new DependencyGraph([
      { name: 'http', dependencies: ['db', 'cache'] },
      { name: 'metrics' },
      { name: 'db' },
      { name: 'cache', dependencies: ['db'] },
    ]);
    graph.validate();
    expect(graph.startOrder()).toEqual(['metrics', 'db', 'cache', 'http']);
    expect(graph.stopOrder()).toEqual(['http', 'cache', 'db', 'metrics']);
  });

  it('names the missing required dependency', () => {
    const graph = new DependencyGraph([{ name: 'api', dependencies: ['db'] }]);
    const error = thrown(() => {
      graph.validate();
    });
    expect(isFoundationError(error, 'FND_LIFECYCLE_MISSING_DEPENDENCY')).toBe(true);
    expect((error as { context: unknown }).context).toEqual({ service: 'api', dependency: 'db' });
  });

  it('allows optional dependencies on unknown services', () => {
    const graph = new DependencyGraph([{ name: 'api', optionalDependencies: ['cache'] }]);
    graph.validate();
    expect(graph.startOrder()).toEqual(['api']);
  });

  it('reports a required cycle with its path', () => {
    const graph = new DependencyGraph([
      { name: 'a', dependencies: ['b'] },
      { name: 'b', dependencies: ['c'] },
      { name: 'c', dependencies: ['a'] },
      { name: 'd' },
    ]);
    const error = thrown(() => {
      graph.validate();
    });
    expect(isFoundationError(error, 'FND_LIFECYCLE_DEPENDENCY_CYCLE')).toBe(true);
    expect((error as { context: unknown }).context).toEqual({ cycle: ['a', 'b', 'c', 'a'] });
    expect(graph.tryStartOrder()).toBeUndefined();
    expect(
      isFoundationError(
        thrown(() => graph.startOrder()),
        'FND_LIFECYCLE_DEPENDENCY_CYCLE',
      ),
    ).toBe(true);
  });

  it('reports a self-dependency as a cycle', () => {
    const graph = new DependencyGraph([{ name: 'a', dependencies: ['a'] }]);
    expect(graph.findCycle()).toEqual(['a', 'a']);
  });

  it('orders optional dependencies first but never reports an optional cycle', () => {
    const graph = new DependencyGraph([
      { name: 'a', optionalDependencies: ['b'] },
      { name: 'b', dependencies: ['a'] },
      { name: 'c', optionalDependencies: ['d'] },
      { name: 'd', optionalDependencies: ['c'] },
    ]);
    graph.validate();
    // a -> b optional edge would close a cycle with b's required a: dropped. c/d: c's edge wins (first).
    expect(graph.startOrder()).toEqual(['a', 'b', 'd', 'c']);
  });

  it('rejects duplicates', () => {
    const graph = new DependencyGraph([{ name: 'a' }]);
    expect(
      isFoundationError(
        thrown(() => {
          graph.add({ name: 'a' });
        }),
        'FND_LIFECYCLE_DUPLICATE_SERVICE',
      ),
    ).toBe(true);
  });

  it('lists transitive required dependants in start order, and direct optional dependants', () => {
    const graph = new DependencyGraph([
      { name: 'db' },
      { name: 'repo', dependencies: ['db'] },
      { name: 'api', dependencies: ['repo'] },
      { name: 'jobs', optionalDependencies: ['db'] },
      { name: 'other' },
    ]);
    expect(graph.dependantsOf('db')).toEqual(['repo', 'api']);
    expect(graph.dependantsOf('api')).toEqual([]);
    expect(graph.optionalDependantsOf('db')).toEqual(['jobs']);
  });

  it('keeps dangling edges after remove and ignores them in the order', () => {
    const graph = new DependencyGraph([{ name: 'db' }, { name: 'api', dependencies: ['db'] }]);
    expect(graph.remove('db')).toBe(true);
    expect(graph.remove('db')).toBe(false);
    expect(graph.startOrder()).toEqual(['api']);
    expect(
      isFoundationError(
        thrown(() => {
          graph.validate();
        }),
        'FND_LIFECYCLE_MISSING_DEPENDENCY',
      ),
    ).toBe(true);
  });

  it('property: on random DAGs every service starts after its deps and stops before them', () => {
    fc.assert(
      fc.property(dagArb, (specs) => {
        const graph = new DependencyGraph(specs);
        graph.validate();
        const start = graph.startOrder();
        const stop = graph.stopOrder();
        expect([...start].sort()).toEqual(specs.map((s) => s.name).sort());
        for (const spec of specs) {
          for (const dep of spec.dependencies ?? []) {
            expect(start.indexOf(dep)).toBeLessThan(start.indexOf(spec.name));
            expect(stop.indexOf(dep)).toBeGreaterThan(stop.indexOf(spec.name));
          }
        }
        // Deterministic: the same specs give the same order.
        expect(new DependencyGraph(specs).startOrder()).toEqual(start);
      }),
    );
  });

  it('property: ties follow insertion order when there are no edges', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { maxLength: 10 }), (names) => {
        const graph = new DependencyGraph(names.map((name) => ({ name })));
        expect(graph.startOrder()).toEqual(names);
      }),
    );
  });
});
