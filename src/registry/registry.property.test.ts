import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isFoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ServiceRegistry, type RegistryChange } from './registry.js';

// Small key spaces so that re-registrations under the same name (and stale unregister handles) are common.
const NAMESPACES = ['app', 'test:1'] as const;
const NAMES = ['db', 'cache', 'queue'] as const;
const namespaceArb = fc.constantFrom(...NAMESPACES);
const nameArb = fc.constantFrom(...NAMES);
const badNameArb = fc.constantFrom<unknown>(
  '',
  '__proto__',
  'constructor',
  '1x',
  'a b',
  'a'.repeat(129),
  7,
  null,
);

type Op =
  | { kind: 'register'; namespace: string; name: string; value: number }
  | { kind: 'registerBad'; namespace: unknown; name: unknown; badIsNamespace: boolean }
  | { kind: 'unregister'; namespace: string; name: string }
  | { kind: 'unregisterFn'; index: number }
  | { kind: 'clear'; namespace: string | undefined }
  | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      namespace: namespaceArb,
      name: nameArb,
      value: fc.integer(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ good: nameArb, bad: badNameArb, badIsNamespace: fc.boolean() })
      .map(({ good, bad, badIsNamespace }) => ({
        kind: 'registerBad' as const,
        namespace: badIsNamespace ? bad : good,
        name: badIsNamespace ? good : bad,
        badIsNamespace,
      })),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unregister' as const),
      namespace: namespaceArb,
      name: nameArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('unregisterFn' as const), index: fc.nat(40) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('clear' as const),
      namespace: fc.option(namespaceArb, { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_000 }) }),
  },
);

interface ModelEntry {
  namespace: string;
  name: string;
  value: number;
  token: number;
  registeredMonotonic: number;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

describe('ServiceRegistry property', () => {
  it('after any sequence of operations, contents, counts, listing and change events match a model Map', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const clock = new FakeClock();
        const registry = new ServiceRegistry({ clock });
        const model = new Map<string, ModelEntry>();
        const handles: Array<{ unregister: () => void; key: string; token: number }> = [];
        const changes: RegistryChange[] = [];
        const expectedChanges: RegistryChange[] = [];
        registry.onChange((c) => changes.push(c));
        let token = 0;

        // Checked after every operation, so a divergence cannot be healed by a later clear().
        const checkAgainstModel = (): void => {
          const expected = [...model.values()].sort((a, b) =>
            a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : 1,
          );
          expect(registry.count()).toBe(model.size);
          expect(registry.list().map((e) => [e.namespace, e.name, e.uptimeMs])).toEqual(
            expected.map((e) => [e.namespace, e.name, clock.monotonic() - e.registeredMonotonic]),
          );
          expect(registry.namespaces()).toEqual([...new Set(expected.map((e) => e.namespace))].sort());
          for (const ns of NAMESPACES) {
            expect(registry.count(ns)).toBe(expected.filter((e) => e.namespace === ns).length);
            for (const name of NAMES) {
              expect(registry.lookup(ns, name)).toBe(model.get(key(ns, name))?.value);
              expect(registry.has(ns, name)).toBe(model.has(key(ns, name)));
            }
          }
        };

        for (const op of ops) {
          switch (op.kind) {
            case 'register': {
              const k = key(op.namespace, op.name);
              if (model.has(k)) {
                let error: unknown;
                try {
                  registry.register(op.namespace, op.name, op.value);
                } catch (e) {
                  error = e;
                }
                expect(isFoundationError(error, 'FND_REGISTRY_ALREADY_REGISTERED')).toBe(true);
              } else {
                const unregister = registry.register(op.namespace, op.name, op.value);
                token++;
                model.set(k, { ...op, token, registeredMonotonic: clock.monotonic() });
                handles.push({ unregister, key: k, token });
                expectedChanges.push({ type: 'registered', namespace: op.namespace, name: op.name });
              }
              break;
            }
            case 'registerBad': {
              let error: unknown;
              try {
                registry.register(op.namespace as string, op.name as string, 0);
              } catch (e) {
                error = e;
              }
              expect(isFoundationError(error, 'FND_REGISTRY_INVALID_NAME')).toBe(true);
              break;
            }
            case 'unregister': {
              const k = key(op.namespace, op.name);
              expect(registry.unregister(op.namespace, op.name)).toBe(model.has(k));
              if (model.delete(k))
                expectedChanges.push({ type: 'unregistered', namespace: op.namespace, name: op.name });
              break;
            }
            case 'unregisterFn': {
              const handle = handles[op.index % Math.max(handles.length, 1)];
              if (handle === undefined) break;
              handle.unregister();
              const current = model.get(handle.key);
              if (current?.token === handle.token) {
                model.delete(handle.key);
                expectedChanges.push({
                  type: 'unregistered',
                  namespace: current.namespace,
                  name: current.name,
                });
              }
              break;
            }
            case 'clear': {
              registry.clear(op.namespace);
              const removed = [...model.values()]
                .filter((e) => op.namespace === undefined || e.namespace === op.namespace)
                .sort((a, b) => (key(a.namespace, a.name) < key(b.namespace, b.name) ? -1 : 1));
              for (const e of removed) {
                model.delete(key(e.namespace, e.name));
                expectedChanges.push({ type: 'unregistered', namespace: e.namespace, name: e.name });
              }
              break;
            }
            case 'advance':
              clock.advance(op.ms);
              break;
          }
          checkAgainstModel();
        }

        expect(changes).toEqual(expectedChanges);
      }),
      { numRuns: 300 },
    );
  });
});
