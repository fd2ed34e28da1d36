/**
 * The control bus's event-store routes:
 *
 * - `GET /api/events` — the query DSL as query-string parameters (see `events-params.ts`) →
 *   `{ events, nextCursor }`.
 * - `GET /api/events/aggregate?groupBy=type|time&bucketMs=…&<filters>` → `{ groups }`.
 * - `GET /api/events/correlation/:correlationId` → `{ correlationId, roots }` (the causation tree).
 * - `GET /api/events/:id` → the event, or 404 `FND_EVENTS_NOT_FOUND`.
 * - `GET /api/streams/:stream?from&direction&limit` → `{ stream, version, events }`.
 * - `GET /api/events/stream?types&stream&correlationId&where&from` — server-sent events, live (see
 *   `events-stream.ts`); the `Last-Event-ID` header resumes after the event it names.
 * - `POST /api/events` (bearer token) — body: one event, an array of events, or
 *   `{ "events": [...], "expectedVersion": … }` → 201 with the append result (200 when the append was an
 *   idempotent retry that wrote nothing); 409 on a version or id conflict.
 *
 * Errors are the store's catalog errors, served as problem+json by the bus's error handler.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { Foundation } from '../app/foundation.js';
import { CORRELATION_ID_HEADER, FoundationError } from '../errors/index.js';
import type { AppendOptions, EventInput } from '../events/model/types.js';
import {
  aggregateFromParams,
  eventQueryFromParams,
  singleParams,
  streamReadFromParams,
} from './events-params.js';
import { eventStreamFromParams } from './events-stream-params.js';
import type { EventStreamHub } from './events-stream.js';
import { sendProblem } from './problem.js';
import type { RequestContexts } from './request-contexts.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** What {@link registerEventRoutes} needs. */
export interface EventRouteDependencies {
  readonly foundation: Foundation;
  readonly requests: RequestContexts;
  /** Largest accepted body of `POST /api/events`, in bytes. */
  readonly appendBodyLimitBytes: number;
  /** The hub of `GET /api/events/stream`. */
  readonly eventStreams: EventStreamHub;
}

/** Keys of the envelope form of an append body. */
const ENVELOPE_KEYS: readonly string[] = ['events', 'expectedVersion'];

function invalidBody(message: string, correlationId: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_EVENT', { message, correlationId });
}

/** What an append body holds: the events (one or many) and the append options. */
interface AppendBody {
  readonly input: EventInput | readonly EventInput[];
  readonly options: AppendOptions;
}

/**
 * Reads an append body: an event object, an array of events, or an envelope `{ events, expectedVersion }`.
 * The events themselves are validated by the store.
 */
export function parseAppendBody(body: unknown, correlationId: string): AppendBody {
  if (Array.isArray(body)) return { input: body as EventInput[], options: {} };
  if (typeof body !== 'object' || body === null) {
    throw invalidBody(
      'The body must be an event object, an array of events, or {"events": [...], "expectedVersion": …}',
      correlationId,
    );
  }
  const record = body as Record<string, unknown>;
  if (!('events' in record)) return { input: record as unknown as EventInput, options: {} };
  for (const key of Object.keys(record)) {
    if (!ENVELOPE_KEYS.includes(key)) {
      throw invalidBody(
        `Unknown member ${JSON.stringify(key.slice(0, 60))} of an append envelope; accepted: events, expectedVersion`,
        correlationId,
      );
    }
  }
  if (!Array.isArray(record.events)) throw invalidBody('events must be an array of events', correlationId);
  const options: AppendOptions =
    record.expectedVersion === undefined
      ? {}
      : { expectedVersion: record.expectedVersion as NonNullable<AppendOptions['expectedVersion']> };
  return { input: record.events as EventInput[], options };
}

function paramOf(params: unknown, name: string): string {
  const value = (params as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** Registers the event-store routes on `app`. */
export function registerEventRoutes(app: FastifyInstance, deps: EventRouteDependencies): void {
  const { foundation, requests } = deps;
  const correlationOf = (request: Parameters<RequestContexts['contextOf']>[0]): string =>
    requests.contextOf(request).correlationId;

  app.get('/api/events', async (request) => {
    const page = await foundation.events.query(eventQueryFromParams(request.query, correlationOf(request)));
    return { events: page.events, nextCursor: page.nextCursor ?? null };
  });

  app.get('/api/events/stream', { exposeHeadRoute: false }, (request, reply) => {
    // Everything that can be refused is refused here, as problem+json, before the stream opens: bad input
    // (400), then a full or stopping bus (503), then whatever the store refuses.
    const correlationId = correlationOf(request);
    const lastEventId = request.headers['last-event-id'];
    if (Array.isArray(lastEventId)) {
      throw new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
        message: 'Last-Event-ID may be given only once',
        context: { parameter: 'Last-Event-ID' },
        correlationId,
      });
    }
    const wanted = eventStreamFromParams(request.query, lastEventId, correlationId);
    const refused = deps.eventStreams.refusal(correlationId);
    if (refused !== undefined) {
      if (refused.code === 'FND_SYSTEM_RESOURCE_EXHAUSTED') reply.header('retry-after', '5');
      return sendProblem(reply, refused, correlationId);
    }
    const subscription = deps.eventStreams.subscribe(wanted, correlationId);
    void reply.hijack();
    deps.eventStreams.attach(
      request.raw,
      reply.raw,
      { ...SECURITY_HEADERS, [CORRELATION_ID_HEADER]: correlationId },
      subscription,
      correlationId,
    );
    return reply;
  });

  app.get('/api/events/aggregate', async (request) => {
    const groups = await foundation.events.aggregate(
      aggregateFromParams(request.query, correlationOf(request)),
    );
    return { groups };
  });

  app.get('/api/events/correlation/:correlationId', async (request) => {
    singleParams(request.query, [], correlationOf(request));
    const correlationId = paramOf(request.params, 'correlationId');
    const roots = await foundation.events.correlationChain(correlationId);
    return { correlationId, roots };
  });

  app.get('/api/events/:id', async (request) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    const id = paramOf(request.params, 'id');
    const event = await foundation.events.get(id);
    if (event === undefined) {
      throw new FoundationError('FND_EVENTS_NOT_FOUND', {
        message: `No event with id ${JSON.stringify(id.slice(0, 100))}`,
        context: { id: id.slice(0, 100) },
        correlationId,
      });
    }
    return event;
  });

  app.get('/api/streams/:stream', async (request) => {
    const options = streamReadFromParams(request.query, correlationOf(request));
    const stream = paramOf(request.params, 'stream');
    const events = await foundation.events.readStream(stream, options);
    const version = await foundation.events.streamVersion(stream);
    return { stream, version, events };
  });

  app.post('/api/events', { bodyLimit: deps.appendBodyLimitBytes }, async (request, reply) => {
    const correlationId = correlationOf(request);
    singleParams(request.query, [], correlationId);
    const { input, options } = parseAppendBody(request.body, correlationId);
    const result = await foundation.events.append(input, options);
    return reply.code(result.idempotent ? 200 : 201).send(result);
  });
}
