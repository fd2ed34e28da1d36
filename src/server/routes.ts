/**
 * The control bus's routes: liveness and readiness, status, registry, the live status stream and the
 * dashboard's static files — all read-only (`GET`, and `HEAD` where it makes sense) — the configuration
 * routes (`config-routes.ts`), the metrics routes (`metrics-routes.ts`) and the protection routes
 * (`protection-routes.ts`).
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { Foundation } from '../app/foundation.js';
import { CORRELATION_ID_HEADER, FoundationError } from '../errors/index.js';
import { isValidRegistryName } from '../registry/index.js';
import { registerConfigRoutes } from './config-routes.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { registerProtectionRoutes } from './protection-routes.js';
import { sendProblem } from './problem.js';
import type { RequestContexts } from './request-contexts.js';
import { SECURITY_HEADERS } from './security-headers.js';
import type { StaticFile } from './static-files.js';
import type { StatusStream } from './status-stream.js';

/** What {@link registerRoutes} needs. */
export interface RouteDependencies {
  readonly foundation: Foundation;
  readonly files: readonly StaticFile[];
  readonly stream: StatusStream;
  readonly requests: RequestContexts;
  readonly healthTimeoutMs: number;
}

/** Query parameters accepted by `GET /api/registry`. */
const REGISTRY_PARAMS: ReadonlySet<string> = new Set(['namespace', 'health']);

function badRequest(
  message: string,
  correlationId: string,
  context?: Record<string, unknown>,
): FoundationError {
  return new FoundationError('FND_HTTP_BAD_REQUEST', {
    message,
    correlationId,
    ...(context === undefined ? {} : { context }),
  });
}

interface RegistryQuery {
  readonly namespace: string | undefined;
  readonly health: boolean;
}

/** Validates the query of `GET /api/registry`; throws `FND_HTTP_BAD_REQUEST` naming the offending part. */
function parseRegistryQuery(query: unknown, correlationId: string): RegistryQuery {
  const params = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  for (const key of Object.keys(params)) {
    if (!REGISTRY_PARAMS.has(key)) {
      throw badRequest(
        `Unknown query parameter ${JSON.stringify(key.slice(0, 64))}; accepted: namespace, health`,
        correlationId,
      );
    }
  }
  const { namespace, health } = params;
  if (namespace !== undefined && !isValidRegistryName(namespace)) {
    throw badRequest(
      'Invalid namespace: expected one value of 1–128 characters, a letter then letters, digits, ".", "_", ":" or "-"',
      correlationId,
    );
  }
  if (health !== undefined && health !== 'true' && health !== 'false') {
    throw badRequest('Invalid health parameter: expected "true" or "false"', correlationId);
  }
  return { namespace, health: health === 'true' };
}

/** Registers every route of the control bus on `app`. */
export function registerRoutes(app: FastifyInstance, deps: RouteDependencies): void {
  const { foundation, files, stream, requests, healthTimeoutMs } = deps;

  app.get('/health/live', async (request, reply) => {
    const health = await foundation.health({ timeoutMs: healthTimeoutMs });
    if (health.live) return { status: 'ok' };
    const { correlationId } = requests.contextOf(request);
    return sendProblem(
      reply,
      new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: `Foundation ${foundation.name} is not live (state ${foundation.status().state})`,
        correlationId,
      }),
      correlationId,
      { state: foundation.status().state },
    );
  });

  app.get('/health/ready', async (request, reply) => {
    const health = await foundation.health({ timeoutMs: healthTimeoutMs });
    const state = foundation.status().state;
    if (health.ready) return { status: health.status, ready: true, state, services: health.services };
    const { correlationId } = requests.contextOf(request);
    const failing = health.services.filter((service) => service.status === 'unhealthy');
    const names = failing.map((service) => service.name);
    return sendProblem(
      reply,
      new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message:
          names.length > 0
            ? `Foundation ${foundation.name} is not ready: unhealthy ${names.join(', ')}`
            : `Foundation ${foundation.name} is not ready (state ${state})`,
        correlationId,
      }),
      correlationId,
      { state, services: failing },
    );
  });

  app.get('/api/status', () => foundation.status());

  app.get('/api/registry', async (request) => {
    const { correlationId } = requests.contextOf(request);
    const query = parseRegistryQuery(request.query, correlationId);
    if (!query.health) return { entries: foundation.registry.list(query.namespace) };
    const entries = await foundation.registry.checkAll({ timeoutMs: healthTimeoutMs });
    return {
      entries:
        query.namespace === undefined
          ? entries
          : entries.filter((entry) => entry.namespace === query.namespace),
    };
  });

  app.get('/api/status/stream', { exposeHeadRoute: false }, (request, reply) => {
    const { correlationId } = requests.contextOf(request);
    void reply.hijack();
    stream.open(request.raw, reply.raw, { ...SECURITY_HEADERS, [CORRELATION_ID_HEADER]: correlationId });
  });

  registerConfigRoutes(app, { config: () => foundation.config, requests });
  registerMetricsRoutes(app, { metrics: foundation.metrics, requests });
  registerProtectionRoutes(app, {
    protection: () => foundation.protection,
    limits: () => ({ registry: foundation.protection, rateLimits: foundation.rateLimits }),
    requests,
  });

  for (const file of files) {
    app.get(file.path, (_request, reply) =>
      reply.header('content-type', file.contentType).header('cache-control', 'no-cache').send(file.body),
    );
  }
}
