/**
 * The config of a foundation, built from `createFoundation()`'s options: the user's schema with the
 * `foundation` section added, the declared mutable and secret paths with the foundation's own, and the
 * options given in code (`name`, `dataDir`, `store`, `events.maxHealthyLag`) as argument-level values of
 * that section. Its versions go to a store in the foundation's storage, made when the config starts.
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createConfig, type ConfigEventRecord, type ManagedConfig } from '../config/config.js';
import {
  FOUNDATION_MUTABLE_PATHS,
  FOUNDATION_SECRET_PATHS,
  withFoundationSection,
} from '../config/foundation-settings.js';
import { ConfigWatchHub } from '../config/stores/config-watch-hub.js';
import { createConfigVersionStore } from '../config/stores/create-version-store.js';
import type { JsonObject, JsonValue } from '../config/types.js';
import type { Clock } from '../kernel/clock.js';
import type { Storage } from '../storage/index.js';
// Type-only (erased at run time): the options are declared beside createFoundation, which calls this.
import type { FoundationConfigOf, FoundationOptions } from './foundation.js';

/**
 * What the config of a foundation needs from the rest of it. `node` and `storage` are called late (when the
 * config records a version or starts), so they may read values the composition root sets after this call.
 */
export interface FoundationConfigDependencies {
  /** The foundation's clock. */
  readonly clock: Clock;
  /** This node's name, for version records. */
  readonly node: () => string;
  /** The foundation's storage, where the version store lives. */
  readonly storage: () => Storage;
  /** Records a config change as an event (once the event store runs). */
  readonly recordEvent: (event: ConfigEventRecord) => Promise<unknown>;
}

function objectOrEmpty(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * Creates the managed config of a foundation from its options. Its sources are read at once: a corrupt file
 * throws here.
 */
export function createFoundationConfig<S extends StandardSchemaV1 | undefined>(
  options: FoundationOptions<S>,
  dependencies: FoundationConfigDependencies,
): ManagedConfig<FoundationConfigOf<S>> {
  const { schema, mutable, secrets, arguments: userArguments, ...configSources } = options.config ?? {};
  const explicit: Record<string, JsonValue> = {};
  if (options.name !== undefined) explicit.name = options.name;
  if (options.dataDir !== undefined) explicit.dataDir = options.dataDir;
  if (options.store !== undefined) explicit.store = options.store;
  if (options.events?.maxHealthyLag !== undefined) {
    explicit.events = { maxHealthyLag: options.events.maxHealthyLag };
  }
  const configArguments: JsonObject = {
    ...userArguments,
    foundation: { ...objectOrEmpty(userArguments?.foundation), ...explicit },
  };
  const hub = new ConfigWatchHub();
  return createConfig(
    {
      ...configSources,
      schema: withFoundationSection(schema),
      arguments: configArguments,
      mutable: [...FOUNDATION_MUTABLE_PATHS, ...(mutable ?? [])],
      secrets: [...FOUNDATION_SECRET_PATHS, ...(secrets ?? [])],
    },
    {
      clock: dependencies.clock,
      node: dependencies.node,
      store: () => createConfigVersionStore(dependencies.storage(), { hub }),
      recordEvent: dependencies.recordEvent,
    },
  ) as unknown as ManagedConfig<FoundationConfigOf<S>>;
}
