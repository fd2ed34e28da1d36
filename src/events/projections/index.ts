/**
 * Projections: keyed JSON states folded from the event log, updated inline (in the append transaction) or
 * async (batches committed with their checkpoint), rebuildable from position 0.
 *
 * @module
 */
export type { ProjectionSource } from './async-runner.js';
export * from './create-projection-store.js';
export { foldBatch, projectionFailed, routeEvents, type RoutedBatch, type RowChange } from './fold.js';
export type { InlineProjector } from './inline-hook.js';
export { MemoryProjectionStore } from './memory-projection-store.js';
export { PROJECTIONS_MIGRATIONS } from './migrations.js';
export type * from './projection-store.js';
export * from './projections.js';
export { SqliteProjectionStore } from './sqlite-projection-store.js';
export * from './types.js';
export { isProjectionName, validateDefinition, type ValidDefinition } from './validate-definition.js';
