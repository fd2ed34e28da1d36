/**
 * Registry: named services in namespaces, O(1) lookup, health per service, event-driven wait-for-service.
 *
 * @packageDocumentation
 * @module
 */
export * from './health-check.js';
export * from './names.js';
export * from './registry.js';
export * from './registry-telemetry.js';
