/**
 * Configuration reads (issue: typed `get` ≥ 10× faster than node-config and convict, i.e. ratio ≤ 0.1),
 * ours against node-config 5.x and convict 6.x in the same run, all holding the same 50-leaf, three-level
 * configuration (bench/config/settings.ts), with a plain object read as the floor:
 *
 * - `get(leaf)`: `config.get(path)` cycling over 8 leaf paths, vs the peers' `get(path)` of the same paths;
 * - `get(section)`: a whole section object (10 leaves in 2 groups), cycling over the 5 sections;
 * - snapshot read: `config.snapshot().a.b.c` (how hot code should read) vs the same peers' `get(path)`;
 * - `update` of one mutable leaf (memory store): ours only, since neither peer versions, validates and
 *   applies runtime changes.
 *
 * node-config is imported by the first case's setup, never when another suite runs (see bench/config/peers.ts).
 *
 * @module
 */
import type { ManagedConfig } from '../../src/config/index.js';
import {
  loadConvict,
  loadNodeConfig,
  plainObject,
  type ConvictConfig,
  type NodeConfig,
} from '../config/peers.js';
import {
  createSettingsConfig,
  LEAF_PATHS,
  MUTABLE_PATH,
  readLeaf,
  SECTION_PATHS,
  type Settings,
} from '../config/settings.js';
import { asyncCase, asyncImpl, defineSuite, impl, type Impl } from '../suite.js';

const CHECKED_PATHS: readonly string[] = [...LEAF_PATHS, ...SECTION_PATHS];

/** Our config, not started (reads do not need the store), and its snapshot for the peers. */
function ours(): ManagedConfig<Settings> {
  return createSettingsConfig();
}

/** The JSON our config holds (no path is secret, so `redacted()` is the snapshot): what every peer is loaded with. */
function content() {
  return ours().redacted();
}

/** The peers' `get(paths[i % n])` and the plain-object floor reading `readLeaf`. */
function peerGets(paths: readonly string[], floor: Impl | undefined): Impl[] {
  const n = paths.length;
  const pick = n === 8 ? (i: number) => paths[i & 7]! : (i: number) => paths[i % n]!;
  return [
    impl<NodeConfig>({
      impl: 'node-config',
      role: 'peer',
      setup: () => loadNodeConfig(content(), CHECKED_PATHS),
      fn: (config, i) => config.get(pick(i)),
    }),
    impl<ConvictConfig>({
      impl: 'convict',
      role: 'peer',
      setup: () => loadConvict(content(), CHECKED_PATHS),
      fn: (config, i) => config.get(pick(i)),
    }),
    ...(floor === undefined ? [] : [floor]),
  ];
}

const plainRead = impl<Settings>({
  impl: 'plain-object',
  role: 'baseline',
  setup: () => plainObject(ours().snapshot() as Settings),
  fn: (object, i) => readLeaf(object, i),
});

export default defineSuite({
  name: 'config',
  cases: [
    {
      name: "get('a.b.c'), 8 leaves",
      impls: [
        impl({ impl: 'ours', role: 'ours', setup: ours, fn: (config, i) => config.get(LEAF_PATHS[i & 7]!) }),
        ...peerGets(LEAF_PATHS, plainRead),
      ],
    },
    {
      name: "get('a'), a section of 10 leaves, 5 sections",
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: ours,
          fn: (config, i) => config.get(SECTION_PATHS[i % 5]!),
        }),
        ...peerGets(SECTION_PATHS, undefined),
      ],
    },
    {
      name: 'snapshot().a.b.c vs peers get(a.b.c), 8 leaves',
      impls: [
        impl({ impl: 'ours', role: 'ours', setup: ours, fn: (config, i) => readLeaf(config.snapshot(), i) }),
        ...peerGets(LEAF_PATHS, plainRead),
      ],
    },
    asyncCase({
      name: `update('${MUTABLE_PATH}', n), memory store — ours only (no peer has runtime updates)`,
      impls: [
        asyncImpl<ManagedConfig<Settings>>({
          impl: 'ours',
          role: 'ours',
          setup: async () => {
            const config = ours();
            await config.start();
            return config;
          },
          // `i` never repeats, so every update changes the value and makes a new version.
          fn: (config, i) => config.update(MUTABLE_PATH, 1 + (i % 1_000_000)),
          teardown: (config) => config.stop(),
        }),
      ],
    }),
  ],
});
