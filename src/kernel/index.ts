/**
 * Kernel: the clock, the telemetry primitives, the `Service` contract and the supervisor.
 *
 * @packageDocumentation
 * @module
 */
export * from './clock.js';
export * from './dependency-graph.js';
export * from './restart-intensity.js';
export * from './service.js';
export * from './supervisor.js';
export * from './telemetry.js';
export * from './typed-events.js';
