/**
 * Registry lookup: `ServiceRegistry.lookup(namespace, name)` of an existing service, against a flat `Map`
 * keyed by a precomputed `namespace:name` string (the fastest a lookup can be) and a nested `Map` of
 * namespace → name → value (the same two-key shape as ours). 1000 services in 10 namespaces; lookups cycle
 * over a shuffled list of all of them. Target: ours < 100 ns/op.
 *
 * @module
 */
import { ServiceRegistry } from '../../src/registry/index.js';
import { defineSuite, impl } from '../suite.js';

const NAMESPACES = 10;
const PER_NAMESPACE = 100;

interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly value: { readonly id: number };
}

/** All services in a fixed pseudo-random order (deterministic, so runs compare). */
function entries(): Entry[] {
  const list: Entry[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    for (let s = 0; s < PER_NAMESPACE; s++) {
      const namespace = `namespace_${n}`;
      const name = `service_${s}`;
      list.push({ namespace, name, key: `${namespace}:${name}`, value: { id: list.length } });
    }
  }
  let seed = 42;
  for (let i = list.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export default defineSuite({
  name: 'registry',
  cases: [
    {
      name: 'lookup (1000 services)',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => {
            const list = entries();
            const registry = new ServiceRegistry();
            for (const e of list) registry.register(e.namespace, e.name, e.value);
            return { registry, list };
          },
          fn: ({ registry, list }, i) => {
            const e = list[i % list.length]!;
            return registry.lookup(e.namespace, e.name);
          },
        }),
        impl({
          impl: 'map',
          role: 'peer',
          setup: () => {
            const list = entries();
            return { map: new Map(list.map((e) => [e.key, e.value] as const)), list };
          },
          fn: ({ map, list }, i) => map.get(list[i % list.length]!.key),
        }),
        impl({
          impl: 'nested-map',
          role: 'peer',
          setup: () => {
            const list = entries();
            const map = new Map<string, Map<string, Entry['value']>>();
            for (const e of list) {
              let inner = map.get(e.namespace);
              if (inner === undefined) map.set(e.namespace, (inner = new Map<string, Entry['value']>()));
              inner.set(e.name, e.value);
            }
            return { map, list };
          },
          fn: ({ map, list }, i) => {
            const e = list[i % list.length]!;
            return map.get(e.namespace)?.get(e.name);
          },
        }),
      ],
    },
  ],
});
