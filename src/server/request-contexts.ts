/**
 * The correlation context of each control-bus request, kept beside the request (no fastify decoration,
 * no module state).
 *
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { contextFromHeaders, type FoundationContext } from '../errors/index.js';

/** Per-request contexts of one control bus. */
export interface RequestContexts {
  /** Creates and records the root context of `request` (named after its method and route). */
  enter(request: FastifyRequest): FoundationContext;
  /** The context of `request`; one is created for a request that never reached the hooks. */
  contextOf(request: FastifyRequest): FoundationContext;
}

/** Creates an empty per-request context table. */
export function createRequestContexts(): RequestContexts {
  const contexts = new WeakMap<FastifyRequest, FoundationContext>();
  const enter = (request: FastifyRequest): FoundationContext => {
    // A request is caused by its client, not by whoever started the server: a root context whose
    // correlation (and causation) id come from the request headers when valid.
    const context = contextFromHeaders(request.headers, {
      operation: `http ${request.method} ${request.routeOptions.url ?? '(unmatched)'}`,
    });
    contexts.set(request, context);
    return context;
  };
  return {
    enter,
    contextOf: (request) => contexts.get(request) ?? enter(request),
  };
}
