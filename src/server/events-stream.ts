/**
 * The live event feed behind `GET /api/events/stream`: each client gets its own store subscription
 * (`EventStore.subscribe`) and receives every matching event as a server-sent event
 *
 * ```text
 * id: <checkpoint>
 * event: event
 * data: <the stored event as JSON>
 * ```
 *
 * so that an `EventSource` that reconnects with `Last-Event-ID` resumes right after the last event it got.
 * When the subscription fails (the store stopped or failed for good) the stream ends with one
 * `event: problem` whose data is the problem+json body.
 *
 * Backpressure: the feed pulls the next event from the subscription only while the client's socket accepts
 * writes; when `write()` reports a full buffer it waits for `drain`. A client that stops reading therefore
 * holds at most one socket buffer plus the subscription's own bounded buffer (`bufferSize` events) on the
 * server — the subscription stops reading the store when its buffer is full. A heartbeat comment (one timer for
 * every client, running only while clients are connected) keeps proxies from closing idle streams; a client
 * that goes away closes its subscription; {@link EventStreamHub.close} ends every stream.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FoundationError, isFoundationError } from '../errors/index.js';
import type { Clock, TimerHandle } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import type { StoredEvent } from '../events/model/types.js';
import type {
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
  SubscriptionStatus,
} from '../events/subscriptions/types.js';
import type { EventStreamRequest } from './events-stream-params.js';
import { problemBody } from './problem.js';

/** Opens a store subscription (`EventStore.subscribe`'s iterator form). */
export type SubscribeFunction = (filter: SubscriptionFilter, options: SubscribeOptions) => Subscription;

/** Timing and limits of an {@link EventStreamHub}. */
export interface EventStreamHubOptions {
  /** Clock of the heartbeat timer. */
  readonly clock: Clock;
  /** Opens the subscription of each client. */
  readonly subscribe: SubscribeFunction;
  /** Interval of the `: heartbeat` comment. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Most clients at once; more are refused with 503 `FND_SYSTEM_RESOURCE_EXHAUSTED`. Default 64. */
  readonly maxClients?: number;
  /** Most events each client's subscription holds ahead of the socket. Default 256. */
  readonly bufferSize?: number;
}

/** What the control bus reports about one connected stream client. */
export interface EventStreamClientStatus {
  /** The status of the client's store subscription (name `control-bus:events-stream:<n>`). */
  readonly subscription: SubscriptionStatus;
  /** Bytes written to the response that the socket has not yet taken. */
  readonly writableBytes: number;
  /** Whether the feed waits for the socket to drain before pulling the next event. */
  readonly waitingForDrain: boolean;
}

interface Client {
  readonly response: ServerResponse;
  readonly subscription: Subscription;
  waitingForDrain: boolean;
}

/** Retry interval sent to clients (the `retry:` field), in ms. */
export const EVENT_STREAM_RETRY_MS = 2000;

const clientsChanged = telemetryEvent('control_bus:event_stream_clients');
const streamFailed = telemetryEvent('control_bus:event_stream_failed');

/** Formats one stored event as a server-sent event whose id is its checkpoint. */
export function eventMessage(checkpoint: string, event: StoredEvent): string {
  return `id: ${checkpoint}\nevent: event\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The event-stream hub of one control bus. */
export class EventStreamHub {
  readonly #clock: Clock;
  readonly #subscribe: SubscribeFunction;
  readonly #heartbeatMs: number;
  readonly #maxClients: number;
  readonly #bufferSize: number;
  readonly #clients = new Set<Client>();
  #heartbeat: TimerHandle | undefined;
  #opened = 0;
  #closed = false;

  /** Creates an idle hub: no timer and no subscription until the first client connects. */
  constructor(options: EventStreamHubOptions) {
    this.#clock = options.clock;
    this.#subscribe = options.subscribe;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#maxClients = options.maxClients ?? 64;
    this.#bufferSize = options.bufferSize ?? 256;
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** The status of every connected client, in connection order. */
  clients(): EventStreamClientStatus[] {
    return [...this.#clients].map((client) => ({
      subscription: client.subscription.status(),
      writableBytes: client.response.writableLength,
      waitingForDrain: client.waitingForDrain,
    }));
  }

  /**
   * The error that refuses a new client, if any: the bus is stopping (`FND_SYSTEM_SERVICE_UNAVAILABLE`) or
   * the client limit is reached (`FND_SYSTEM_RESOURCE_EXHAUSTED`).
   */
  refusal(correlationId: string): FoundationError | undefined {
    if (this.#closed) {
      return new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: 'The control bus is stopping',
        correlationId,
      });
    }
    if (this.#clients.size >= this.#maxClients) {
      return new FoundationError('FND_SYSTEM_RESOURCE_EXHAUSTED', {
        message: `The event stream already has ${this.#maxClients} clients`,
        context: { limit: this.#maxClients },
        correlationId,
      });
    }
    return undefined;
  }

  /**
   * Opens the subscription of a new client. Throws (before anything is written) when the subscription is
   * refused: a bad start point (`FND_EVENTS_INVALID_SUBSCRIPTION`), the event store not running, or a
   * {@link refusal}. The caller then hands the response to {@link attach}.
   */
  subscribe(request: EventStreamRequest, correlationId: string): Subscription {
    const refused = this.refusal(correlationId);
    if (refused !== undefined) throw refused;
    this.#opened += 1;
    return this.#subscribe(request.filter, {
      from: request.from,
      bufferSize: this.#bufferSize,
      batchSize: Math.min(this.#bufferSize, 256),
      name: `control-bus:events-stream:${this.#opened}`,
    });
  }

  /**
   * Turns `response` into the event stream of `subscription`: writes the headers and starts the feed. The
   * subscription is closed when the client goes away, the subscription ends, or the hub closes.
   */
  attach(
    request: IncomingMessage,
    response: ServerResponse,
    headers: Readonly<Record<string, string>>,
    subscription: Subscription,
    correlationId: string,
  ): void {
    if (this.#closed) {
      void subscription.close();
      response.writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('closing\n');
      return;
    }
    if (request.socket.destroyed || response.destroyed) {
      // The client left before the stream opened: its `close` event has already gone by.
      void subscription.close();
      return;
    }
    request.socket.setNoDelay(true);
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${EVENT_STREAM_RETRY_MS}\n\n`);
    const client: Client = { response, subscription, waitingForDrain: false };
    this.#clients.add(client);
    response.once('close', () => {
      this.#remove(client);
    });
    clientsChanged.emit({ clients: this.#clients.size });
    if (this.#clients.size === 1) this.#scheduleHeartbeat();
    void this.#feed(client, correlationId);
  }

  /** Ends every stream and closes every subscription. Idempotent; later clients get 503. */
  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients];
    for (const client of clients) this.#end(client);
    await Promise.all(clients.map((client) => client.subscription.close()));
    this.#clients.clear();
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
  }

  /** Pulls events from the subscription while the socket accepts them. */
  async #feed(client: Client, correlationId: string): Promise<void> {
    const { response, subscription } = client;
    const iterator = subscription[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true || !this.#clients.has(client)) break;
        const checkpoint = subscription.checkpoint ?? String(next.value.position);
        if (!response.write(eventMessage(checkpoint, next.value))) {
          client.waitingForDrain = true;
          await drained(response);
          client.waitingForDrain = false;
        }
      }
    } catch (error) {
      // The subscription failed (the store stopped or failed for good): tell the client why, then end;
      // an EventSource reconnects with Last-Event-ID and resumes where it stopped.
      if (this.#clients.has(client) && !response.writableEnded) {
        const failure = isFoundationError(error)
          ? error
          : new FoundationError('FND_EVENTS_SUBSCRIPTION_FAILED', {
              message: 'The event subscription failed',
              cause: error,
              correlationId,
            });
        streamFailed.emit({}, { code: failure.code });
        response.write(`event: problem\ndata: ${JSON.stringify(problemBody(failure, correlationId))}\n\n`);
      }
    } finally {
      this.#end(client);
      this.#remove(client);
    }
  }

  /** Ends the response (closing its connection once flushed: a stream carries nothing else). */
  #end(client: Client): void {
    const { response } = client;
    if (response.writableEnded || response.destroyed) return;
    response.end(() => {
      response.socket?.destroy();
    });
  }

  #remove(client: Client): void {
    void client.subscription.close();
    if (!this.#clients.delete(client)) return;
    clientsChanged.emit({ clients: this.#clients.size });
    if (this.#clients.size === 0) {
      this.#heartbeat?.cancel();
      this.#heartbeat = undefined;
    }
  }

  #scheduleHeartbeat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      for (const client of this.#clients) {
        // A client whose socket is full gets no heartbeat: it is not idle, and nothing more is buffered.
        if (!client.waitingForDrain && !client.response.writableEnded)
          client.response.write(': heartbeat\n\n');
      }
      if (this.#clients.size > 0) this.#scheduleHeartbeat();
      else this.#heartbeat = undefined;
    }, this.#heartbeatMs);
  }
}

/** Resolves when `response` can take more data, or when it closed. */
function drained(response: ServerResponse): Promise<void> {
  if (response.destroyed || response.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
