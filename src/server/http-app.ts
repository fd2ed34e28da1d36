/**
 * The control bus's fastify instance: request context and correlation id, security headers, limits,
 * bearer-token guard for mutating methods, and problem+json for every error (404, 405, 413, 415, 400, 401,
 * 500). Routes live in `routes.ts`.
 *
 * @module
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Foundation } from '../app/foundation.js';
import { CORRELATION_ID_HEADER, FoundationError, newCorrelationId, runInContext } from '../errors/index.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { checkBearer, SAFE_METHODS } from './bearer-auth.js';
import { PROBLEM_CONTENT_TYPE, problemBody, sendProblem, toHttpError } from './problem.js';
import { createRequestContexts } from './request-contexts.js';
import { registerEventRoutes } from './events-routes.js';
import type { EventStreamHub } from './events-stream.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerRoutes } from './routes.js';
import { SECURITY_HEADERS } from './security-headers.js';
import type { StaticFile } from './static-files.js';
import type { StatusStream } from './status-stream.js';

/** Settings of {@link buildControlBusApp}, all resolved. */
export interface ControlBusAppSettings {
  readonly token: string | undefined;
  readonly bodyLimitBytes: number;
  /** Largest accepted body of `POST /api/events`. */
  readonly appendBodyLimitBytes: number;
  readonly maxUrlLength: number;
  readonly healthTimeoutMs: number;
  readonly logger: boolean;
}

const requestServed = telemetryEvent('control_bus:request');

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function shorten(value: string, max = 200): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** Answers a request the HTTP parser rejected (garbage headers, oversized head) with a bare problem+json. */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const correlationId = newCorrelationId();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    problemBody(
      new FoundationError('FND_HTTP_BAD_REQUEST', {
        message: tooLarge
          ? 'The request head (URL and headers) is too large'
          : 'The request could not be parsed',
        correlationId,
      }),
      correlationId,
    ),
  );
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `${CORRELATION_ID_HEADER}: ${correlationId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The error that refuses `request` before routing, if any: a URL over the limit (400), a mutating method
 * without the right bearer token (401), a body that is not JSON (415).
 */
function rejectRequest(
  request: FastifyRequest,
  settings: ControlBusAppSettings,
  correlationId: string,
): FoundationError | undefined {
  if (request.url.length > settings.maxUrlLength) {
    return new FoundationError('FND_HTTP_BAD_REQUEST', {
      message: `The request URL is longer than ${settings.maxUrlLength} characters`,
      context: { length: request.url.length, limit: settings.maxUrlLength },
      correlationId,
    });
  }
  if (SAFE_METHODS.has(request.method)) return undefined;
  const denied = checkBearer(request.headers.authorization, settings.token, correlationId);
  if (denied !== undefined) return denied;
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (hasBody(request) && type !== 'application/json') {
    return new FoundationError('FND_HTTP_UNSUPPORTED_MEDIA_TYPE', {
      message: 'Request bodies must be application/json',
      correlationId,
    });
  }
  return undefined;
}

/**
 * Builds (does not start) the fastify instance of a control bus for `foundation`, serving `files`,
 * streaming status through `stream` and events through `eventStreams`.
 */
export function buildControlBusApp(
  foundation: Foundation,
  settings: ControlBusAppSettings,
  files: readonly StaticFile[],
  stream: StatusStream,
  eventStreams: EventStreamHub,
): FastifyInstance {
  const requests = createRequestContexts();
  const app = Fastify({
    logger: settings.logger,
    bodyLimit: settings.bodyLimitBytes,
    return503OnClosing: true,
    // Stream names and event ids may be up to 500 characters: let them reach validation (and its catalog
    // error) instead of fastify's bare 414.
    routerOptions: { maxParamLength: 1024 },
    forceCloseConnections: 'idle',
    clientErrorHandler,
    // A URL the router cannot decode (`/%ff`) never reaches the hooks: answer it like every bad request.
    frameworkErrors: (error, request, reply) => {
      const { correlationId } = requests.enter(request);
      reply.headers({
        ...SECURITY_HEADERS,
        'cache-control': 'no-store',
        [CORRELATION_ID_HEADER]: correlationId,
      });
      void sendProblem(
        reply,
        new FoundationError('FND_HTTP_BAD_REQUEST', { message: error.message, correlationId }),
        correlationId,
      );
    },
  });

  /** Methods served on each static path, for 405 answers with an accurate `allow` header. */
  const knownPaths = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = knownPaths.get(route.url) ?? new Set<string>();
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) methods.add(method);
    if (methods.has('GET') && route.exposeHeadRoute !== false) methods.add('HEAD');
    knownPaths.set(route.url, methods);
  });

  app.addHook('onRequest', (request, reply, done) => {
    const context = requests.enter(request);
    reply.headers({
      ...SECURITY_HEADERS,
      'cache-control': 'no-store',
      [CORRELATION_ID_HEADER]: context.correlationId,
    });
    runInContext(context, done);
  });

  app.addHook('onRequest', (request, _reply, done) => {
    done(rejectRequest(request, settings, requests.contextOf(request).correlationId));
  });

  // Body parsing runs on stream callbacks, outside the request's context: re-enter it before handlers.
  app.addHook('preHandler', (request, _reply, done) => {
    runInContext(requests.contextOf(request), done);
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (requestServed.hasSubscribers) {
      requestServed.emit(
        { durationMs: reply.elapsedTime, statusCode: reply.statusCode },
        {
          method: request.method,
          route: request.routeOptions.url ?? '(unmatched)',
          // The status class (2xx…5xx): a bounded tag for error rates.
          status: `${String(Math.floor(reply.statusCode / 100))}xx`,
        },
      );
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { correlationId } = requests.contextOf(request);
    void sendProblem(reply, toHttpError(error, correlationId), correlationId);
  });

  app.setNotFoundHandler((request, reply) => {
    const { correlationId } = requests.contextOf(request);
    const path = pathOf(request.url);
    const allowed = knownPaths.get(path);
    if (allowed !== undefined) {
      const methods = [...allowed].sort().join(', ');
      reply.header('allow', methods);
      return sendProblem(
        reply,
        new FoundationError('FND_HTTP_METHOD_NOT_ALLOWED', {
          message: `${request.method} is not allowed on ${path}; allowed: ${methods}`,
          context: { method: request.method, path, allow: methods },
          correlationId,
        }),
        correlationId,
      );
    }
    return sendProblem(
      reply,
      new FoundationError('FND_HTTP_NOT_FOUND', {
        message: `No route ${request.method} ${shorten(path)}`,
        correlationId,
      }),
      correlationId,
    );
  });

  registerRoutes(app, { foundation, files, stream, requests, healthTimeoutMs: settings.healthTimeoutMs });
  registerEventRoutes(app, {
    foundation,
    requests,
    appendBodyLimitBytes: settings.appendBodyLimitBytes,
    eventStreams,
  });
  registerOpsRoutes(app, { foundation, requests });
  return app;
}
