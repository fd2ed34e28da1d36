/**
 * Configuration: a typed schema (zod 4 or any Standard Schema validator), layered sources (defaults, file,
 * environment, arguments, runtime: each overrides the ones before), validation of the whole result before
 * anything applies, atomic batches with compare-and-set, versions with history and rollback, subscribers with
 * a veto, hot reload of the file, persistence in the foundation's store and convergence across nodes on
 * PostgreSQL. See docs/config.md.
 *
 * @packageDocumentation
 * @module
 */
export * from './types.js';
export type { Config, ConfigView } from './config-api.js';
export {
  createConfig,
  type ConfigDependencies,
  type ConfigEventRecord,
  type ConfigLifecycle,
  type ManagedConfig,
  type ManagedConfigView,
} from './config.js';
export {
  foundationSettingsSchema,
  withFoundationSection,
  FOUNDATION_MUTABLE_PATHS,
  FOUNDATION_SECRET_PATHS,
  type FoundationConfigShape,
  type FoundationSettings,
} from './foundation-settings.js';
export { DEFAULT_LIMITS } from './config-input.js';
export { createConfigVersionStore, type ConfigVersionStoreOptions } from './stores/create-version-store.js';
export { ConfigWatchHub } from './stores/config-watch-hub.js';
export { MemoryConfigVersionStore, type MemoryConfigVersionStoreOptions } from './stores/memory-store.js';
export { SqliteConfigVersionStore, type SqliteConfigVersionStoreOptions } from './stores/sqlite-store.js';
export { CONFIG_MIGRATIONS } from './stores/migrations.js';
