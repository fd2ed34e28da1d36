/**
 * The control bus's routes for operating the event capability:
 *
 * - `GET /api/subscriptions` — live subscriptions of the event store (name, state, position, lag, buffered,
 *   delivered) and the durable subscriptions created through the foundation (name, member, state, partitions
 *   held, lag).
 * - `GET /api/projections` and `GET /api/projections/:name` — state, mode, position, rebuild progress, error.
 * - `POST /api/projections/:name/rebuild` (bearer token): 202 while an async projection replays, 200 once an
 *   inline one is rebuilt; `POST /api/projections/:name/restart` (bearer token).
 * - `GET /api/retention` — policies, last report, running, last error; `POST /api/retention/run` (token).
 *
 * Every refusal is problem+json with a catalog code: a malformed name or an unexpected query parameter or
 * body 400, an unknown projection 404 `FND_DATA_NOT_FOUND`, retention not configured 404
 * `FND_CONFIG_NOT_FOUND`, the projections or retention service not running 503
 * `FND_SYSTEM_SERVICE_UNAVAILABLE`.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PROJECTIONS_SERVICE, RETENTION_SERVICE } from '../app/event-services.js';
import { SERVICES_NAMESPACE, type Foundation } from '../app/foundation.js';
import { FoundationError } from '../errors/index.js';
import type { ProjectionStatus } from '../events/projections/types.js';
import type { EventRetention } from '../events/retention/event-retention.js';
import type { DurableStatus } from '../events/subscriptions/durable/types.js';
import { singleParams } from './events-params.js';
import type { RequestContexts } from './request-contexts.js';

/** What {@link registerOpsRoutes} needs. */
export interface OpsRouteDependencies {
  readonly foundation: Foundation;
  readonly requests: RequestContexts;
}

/** Largest body accepted by the operation routes (they take none, or `{}`), in bytes. */
export const OPS_BODY_LIMIT_BYTES = 1024;

/** A projection name as the projections accept it. */
const PROJECTION_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** A foundation error reduced to what a client may see. */
interface ErrorSummary {
  readonly code: string;
  readonly message: string;
}

function summary(error: FoundationError | undefined): ErrorSummary | null {
  return error === undefined ? null : { code: error.code, message: error.message };
}

/** The JSON shape of a durable subscription in `GET /api/subscriptions`. */
export function durableView(status: DurableStatus): Record<string, unknown> {
  return {
    name: status.name,
    member: status.member,
    state: status.state,
    partitions: status.partitions,
    held: status.held.map((partition) => ({
      partition: partition.partition,
      position: partition.position,
      storedPosition: partition.storedPosition,
      lag: partition.lag,
      handled: partition.handled,
    })),
    members: status.members,
    lag: status.lag,
    handled: status.handled,
    deadLettered: status.deadLettered,
    error: summary(status.error),
    heartbeatError: summary(status.heartbeatError),
  };
}

function projectionName(request: FastifyRequest, correlationId: string): string {
  const name = (request.params as Record<string, unknown> | undefined)?.name;
  if (typeof name !== 'string' || !PROJECTION_NAME.test(name)) {
    throw new FoundationError('FND_HTTP_BAD_REQUEST', {
      message: 'Invalid projection name: expected 1–100 characters [A-Za-z0-9_.:-]',
      context: { parameter: 'name', length: typeof name === 'string' ? name.length : 0 },
      correlationId,
    });
  }
  return name;
}

/** The operation routes take no body, or an empty JSON object. */
function noBody(body: unknown, correlationId: string): void {
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw new FoundationError('FND_HTTP_BAD_REQUEST', {
    message: 'This request takes no body (or an empty JSON object)',
    correlationId,
  });
}

function notFound(name: string, correlationId: string): FoundationError {
  return new FoundationError('FND_DATA_NOT_FOUND', {
    message: `No projection named ${name}`,
    context: { projection: name },
    correlationId,
  });
}

/** Registers the operation routes of the event capability on `app`. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDependencies): void {
  const { foundation, requests } = deps;
  const correlationOf = (request: FastifyRequest): string => requests.contextOf(request).correlationId;
  const mutating = { bodyLimit: OPS_BODY_LIMIT_BYTES } as const;

  /** Refuses with 503 while the projections service is not running (its store may be closed). */
  const projectionsRunning = (correlationId: string): void => {
    const service = foundation.status().services.find((s) => s.name === PROJECTIONS_SERVICE);
    if (service?.state === 'running') return;
    throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
      message: `The projections service is ${service?.state ?? 'not supervised'}`,
      context: { service: PROJECTIONS_SERVICE, state: service?.state ?? null },
      correlationId,
    });
  };

  const statusOf = async (name: string, correlationId: string): Promise<ProjectionStatus> => {
    projectionsRunning(correlationId);
    const status = await foundation.projections.status(name);
    if (status === undefined) throw notFound(name, correlationId);
    return status;
  };

  app.get('/api/subscriptions', (request) => {
    singleParams(request.query, [], correlationOf(request));
    const live = foundation.events.subscriptions().map((status) => ({
      name: status.name,
      state: status.state,
      position: status.position,
      checkpoint: status.checkpoint ?? null,
      lag: status.lag,
      buffered: status.buffered,
      delivered: status.delivered,
    }));
    return { live, durable: foundation.durableSubscriptions().map(durableView) };
  });

  app.get('/api/projections', async (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    projectionsRunning(correlationId);
    return { projections: await foundation.projections.statuses() };
  });

  app.get('/api/projections/:name', async (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    return statusOf(projectionName(request, correlationId), correlationId);
  });

  app.post('/api/projections/:name/rebuild', mutating, async (request, reply) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    const name = projectionName(request, correlationId);
    noBody(request.body, correlationId);
    await statusOf(name, correlationId);
    // An async projection replays in the background (202, progress in its status); an inline one is rebuilt
    // before the answer (200).
    const status = await foundation.projections.rebuild(name);
    return reply.code(status.state === 'rebuilding' ? 202 : 200).send(status);
  });

  app.post('/api/projections/:name/restart', mutating, async (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    const name = projectionName(request, correlationId);
    noBody(request.body, correlationId);
    await statusOf(name, correlationId);
    await foundation.projections.restart(name);
    return statusOf(name, correlationId);
  });

  /** The retention service: `undefined` when not configured; throws 503 when configured but not running. */
  const retentionOf = (correlationId: string): EventRetention | undefined => {
    const service = foundation.status().services.find((s) => s.name === RETENTION_SERVICE);
    if (service === undefined) return undefined;
    const retention = foundation.registry.lookup<EventRetention>(SERVICES_NAMESPACE, RETENTION_SERVICE);
    if (retention === undefined) {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: `The retention service is ${service.state}`,
        context: { service: RETENTION_SERVICE, state: service.state },
        correlationId,
      });
    }
    return retention;
  };

  app.get('/api/retention', (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    const retention = retentionOf(correlationId);
    if (retention === undefined) {
      return {
        configured: false,
        policies: [],
        scheduled: false,
        running: false,
        lastReport: null,
        lastError: null,
      };
    }
    const status = retention.status();
    return {
      configured: true,
      policies: retention.policies,
      scheduled: status.scheduled,
      running: status.running,
      lastReport: status.lastReport ?? null,
      lastError: summary(status.lastError),
    };
  });

  app.post('/api/retention/run', mutating, async (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    noBody(request.body, correlationId);
    const retention = retentionOf(correlationId);
    if (retention === undefined) {
      throw new FoundationError('FND_CONFIG_NOT_FOUND', {
        message:
          'Retention is not configured on this node (start it with retention policies, e.g. FOUNDATION_RETENTION_POLICIES)',
        context: { service: RETENTION_SERVICE },
        correlationId,
      });
    }
    return { report: await retention.runRetention() };
  });
}
