/**
 * `@elixirscope/foundation`: the few names every user needs. Each capability has its own subpath
 * (`@elixirscope/foundation/errors`, `…/kernel`, `…/registry`, `…/server`, `…/testing`).
 *
 * @module @elixirscope/foundation
 */
export {
  createFoundation,
  SERVICES_NAMESPACE,
  type Foundation,
  type FoundationHealth,
  type FoundationOptions,
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
export type { HealthReport, HealthStatus, Service, ServiceContext } from './kernel/service.js';
