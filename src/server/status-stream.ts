/**
 * The live status feed behind `GET /api/status/stream`: server-sent events carrying a {@link StatusSnapshot}
 * (the foundation's status and health). Each client gets one `status` event when it connects; all clients
 * get another one shortly (debounced) after the supervisor reports a service event or an event is appended
 * (telemetry `events:appended`, from any store of the process), and periodically so
 * health changes show up; a heartbeat comment keeps proxies from closing idle streams.
 *
 * One set of timers serves every client; they run only while a client is connected, are created through
 * the foundation's clock (unref'ed with the system clock) and are cleared by {@link StatusStream.close}.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Foundation, FoundationHealth, FoundationStatus } from '../app/foundation.js';
import type { Clock, TimerHandle } from '../kernel/clock.js';
import { CORRELATION_ID_HEADER, FoundationError } from '../errors/index.js';
import { onTelemetry, telemetryEvent } from '../kernel/telemetry.js';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem.js';

/** What every `status` event carries. */
export interface StatusSnapshot {
  /** The foundation's status (`foundation.status()`) when the event was sent. */
  readonly status: FoundationStatus;
  /** The foundation's health (`foundation.health()`), checked for this event. */
  readonly health: FoundationHealth;
  /**
   * The event log: `lastPosition` is the position of the latest event (0 when the log is empty, `null`
   * while the event store is not running). Clients refetch `/api/events` when it changes.
   */
  readonly events: { readonly lastPosition: number | null };
}

/** Timing and limits of a {@link StatusStream}. */
export interface StatusStreamOptions {
  /** Clock for the debounce, refresh and heartbeat timers. */
  readonly clock: Clock;
  /** Delay that coalesces bursts of supervisor events into one update. Default 100 ms. */
  readonly debounceMs?: number;
  /** Interval of the `: heartbeat` comment. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Interval of the periodic snapshot (health checks have no events). Default 5 s. */
  readonly refreshMs?: number;
  /** Time limit handed to `foundation.health()`. Default 2 s. */
  readonly healthTimeoutMs?: number;
  /** A client whose unsent output exceeds this many bytes is disconnected. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** Most clients connected at once; more are refused with 503 `FND_SYSTEM_RESOURCE_EXHAUSTED`. Default 64. */
  readonly maxClients?: number;
}

/** Supervisor events that change what the dashboard shows. */
const SERVICE_EVENTS = [
  'service_starting',
  'service_started',
  'service_stopped',
  'service_failed',
  'escalated',
] as const;

const clientsChanged = telemetryEvent('control_bus:stream_clients');

/** The event-stream hub of one control bus. */
export class StatusStream {
  readonly #foundation: Foundation;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #heartbeatMs: number;
  readonly #refreshMs: number;
  readonly #healthTimeoutMs: number;
  readonly #maxBufferedBytes: number;
  readonly #maxClients: number;
  readonly #clients = new Set<ServerResponse>();
  #unsubscribers: Array<() => void> = [];
  #debounce: TimerHandle | undefined;
  #heartbeat: TimerHandle | undefined;
  #refresh: TimerHandle | undefined;
  #pushing = false;
  #pushAgain = false;
  #closed = false;

  /** Creates an idle hub: no timer and no subscription until the first client connects. */
  constructor(foundation: Foundation, options: StatusStreamOptions) {
    this.#foundation = foundation;
    this.#clock = options.clock;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#refreshMs = options.refreshMs ?? 5_000;
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#maxClients = options.maxClients ?? 64;
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Builds the snapshot sent to clients. */
  async snapshot(): Promise<StatusSnapshot> {
    const [health, lastPosition] = await Promise.all([
      this.#foundation.health({ timeoutMs: this.#healthTimeoutMs }),
      this.#lastPosition(),
    ]);
    return { status: this.#foundation.status(), health, events: { lastPosition } };
  }

  /** Position of the latest event, or `null` when the event store cannot answer. */
  async #lastPosition(): Promise<number | null> {
    try {
      const page = await this.#foundation.events.query({ order: 'desc', limit: 1 });
      return page.events[0]?.position ?? 0;
    } catch {
      return null;
    }
  }

  /**
   * Turns `response` into an event stream: writes the headers, registers the client and sends it a first
   * `status` event. The client is dropped when its connection closes.
   */
  open(request: IncomingMessage, response: ServerResponse, headers: Readonly<Record<string, string>>): void {
    if (this.#closed) {
      response.writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('closing\n');
      return;
    }
    if (this.#clients.size >= this.#maxClients) {
      const correlationId = headers[CORRELATION_ID_HEADER] ?? '';
      const error = new FoundationError('FND_SYSTEM_RESOURCE_EXHAUSTED', {
        message: `The status stream already has ${this.#maxClients} clients`,
        context: { limit: this.#maxClients },
        correlationId,
      });
      response
        .writeHead(503, { ...headers, 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': '5' })
        .end(JSON.stringify(problemBody(error, correlationId)));
      return;
    }
    request.socket.setNoDelay(true);
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    this.#clients.add(response);
    response.once('close', () => {
      this.#remove(response);
    });
    clientsChanged.emit({ clients: this.#clients.size });
    if (this.#clients.size === 1) this.#activate();
    this.snapshot().then(
      (snapshot) => {
        this.#write(response, statusEvent(snapshot));
      },
      () => {
        // The next debounced or periodic push retries.
      },
    );
  }

  /** Schedules one update for every client after the debounce delay (bursts coalesce). */
  notify(): void {
    if (this.#closed || this.#clients.size === 0 || this.#debounce !== undefined) return;
    this.#debounce = this.#clock.setTimeout(() => {
      this.#debounce = undefined;
      this.#push();
    }, this.#debounceMs);
  }

  /** Ends every stream, clears every timer and subscription. Idempotent; later clients get 503. */
  close(): void {
    this.#closed = true;
    for (const response of [...this.#clients]) {
      // A stream's connection carries nothing else: once the end is flushed, close it rather than leave
      // it to keep-alive (a server waiting for it would not stop).
      response.end(() => {
        response.socket?.destroy();
      });
    }
    this.#clients.clear();
    this.#deactivate();
  }

  #activate(): void {
    const supervisor = this.#foundation.supervisor;
    this.#unsubscribers = SERVICE_EVENTS.map((event) =>
      supervisor.on(event, () => {
        this.notify();
      }),
    );
    this.#unsubscribers.push(
      onTelemetry('events:appended', () => {
        this.notify();
      }),
    );
    this.#scheduleHeartbeat();
    this.#scheduleRefresh();
  }

  #deactivate(): void {
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers = [];
    this.#debounce?.cancel();
    this.#heartbeat?.cancel();
    this.#refresh?.cancel();
    this.#debounce = undefined;
    this.#heartbeat = undefined;
    this.#refresh = undefined;
  }

  #remove(response: ServerResponse): void {
    if (!this.#clients.delete(response)) return;
    clientsChanged.emit({ clients: this.#clients.size });
    if (this.#clients.size === 0) this.#deactivate();
  }

  #scheduleHeartbeat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      for (const response of [...this.#clients]) this.#write(response, ': heartbeat\n\n');
      if (this.#clients.size > 0) this.#scheduleHeartbeat();
    }, this.#heartbeatMs);
  }

  #scheduleRefresh(): void {
    this.#refresh = this.#clock.setTimeout(() => {
      this.#push();
      if (this.#clients.size > 0) this.#scheduleRefresh();
    }, this.#refreshMs);
  }

  /** Sends a fresh snapshot to every client; a push requested while one runs is run once afterwards. */
  #push(): void {
    if (this.#pushing) {
      this.#pushAgain = true;
      return;
    }
    this.#pushing = true;
    this.snapshot()
      .then(
        (snapshot) => {
          const event = statusEvent(snapshot);
          for (const response of [...this.#clients]) this.#write(response, event);
        },
        () => {
          // Health failed as a whole; the next push retries.
        },
      )
      .finally(() => {
        this.#pushing = false;
        if (this.#pushAgain && !this.#closed) {
          this.#pushAgain = false;
          this.#push();
        }
      });
  }

  #write(response: ServerResponse, chunk: string): void {
    if (!this.#clients.has(response) || response.writableEnded) return;
    if (response.writableLength > this.#maxBufferedBytes) {
      response.destroy();
      this.#remove(response);
      return;
    }
    response.write(chunk);
  }
}

/** Formats one `status` server-sent event. */
export function statusEvent(snapshot: StatusSnapshot): string {
  return `event: status\ndata: ${JSON.stringify(snapshot)}\n\n`;
}
