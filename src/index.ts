/**
 * `@elixirscope/foundation`: the few names every user needs. Each capability has its own subpath
 * (`@elixirscope/foundation/errors`, `…/config`, `…/telemetry`, `…/kernel`, `…/registry`, `…/server`, `…/testing`).
 *
 * @packageDocumentation
 * @module
 */
export {
  createFoundation,
  SERVICES_NAMESPACE,
  type Foundation,
  type FoundationConfigOptions,
  type FoundationHealth,
  type FoundationOptions,
  type TypedFoundation,
  type FoundationState,
  type FoundationStatus,
} from './app/index.js';
export {
  FoundationError,
  isFoundationError,
  withContext,
  currentContext,
  currentCorrelationId,
  addBreadcrumb,
  type ErrorCode,
  type FoundationContext,
  type FoundationErrorOptions,
} from './errors/index.js';
export { createConfig, type Config, type ManagedConfig } from './config/index.js';
export type { HealthReport, HealthStatus, Service, ServiceContext } from './kernel/service.js';
