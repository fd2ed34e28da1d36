/**
 * `controlBusService()`: the control bus as a supervised service. Its `start()` serves the HTTP admin API,
 * the live status stream and the dashboard for one foundation; `stop()` closes open streams and the server.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import type { Foundation } from '../app/foundation.js';
import { FoundationError } from '../errors/index.js';
import type { HealthReport, Service } from '../kernel/service.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import { EventStreamHub, type EventStreamClientStatus } from './events-stream.js';
import { buildControlBusApp } from './http-app.js';
import { loadStaticFiles, publicDirectory } from './static-files.js';
import { StatusStream } from './status-stream.js';

/** Options of {@link controlBusService}. All are optional. */
export interface ControlBusOptions {
  /** Interface to listen on. Default `127.0.0.1` (local only). */
  host?: string;
  /** TCP port; `0` picks a free one. Default 4000. */
  port?: number;
  /** Bearer token required by every non-GET/HEAD request. Without one, such requests are refused (401). */
  token?: string;
  /** Largest accepted request body in bytes. Default 64 KiB. */
  bodyLimitBytes?: number;
  /** Largest accepted body of `POST /api/events` (events up to 1 MiB each). Default 2 MiB. */
  appendBodyLimitBytes?: number;
  /** Longest accepted request URL (path and query) in characters. Default 4096. */
  maxUrlLength?: number;
  /** Time limit of the health checks run by `/health/*` and the stream, in ms. Default 2000. */
  healthTimeoutMs?: number;
  /** Interval of the stream's periodic snapshot (health has no events), in ms. Default 5000. */
  streamRefreshMs?: number;
  /** Interval of the stream's heartbeat comment, in ms. Default 15 000. */
  heartbeatMs?: number;
  /** Most clients of `/api/status/stream` at once; more get 503 `FND_SYSTEM_RESOURCE_EXHAUSTED`. Default 64. */
  maxStreamClients?: number;
  /** Most clients of `/api/events/stream` at once; more get 503 `FND_SYSTEM_RESOURCE_EXHAUSTED`. Default 64. */
  maxEventStreamClients?: number;
  /**
   * Most events each `/api/events/stream` client's subscription holds ahead of a slow socket (its
   * `bufferSize`). Default 256.
   */
  eventStreamBufferSize?: number;
  /** Folder of the dashboard files. Default: `public/` next to this module. */
  publicDir?: string;
  /** On stop, connections still open after this many ms are cut. Default 1000. */
  closeGraceMs?: number;
  /** Fastify's request logging (pino, to stdout). Default off. */
  logger?: boolean;
}

/** A running control bus: what the service's `start()` resolves to. */
export interface ControlBus {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** The interface listened on. */
  readonly host: string;
  /** The clients of `GET /api/events/stream` now connected: their subscriptions and socket buffers. */
  eventStreams(): EventStreamClientStatus[];
  /** Closes open event streams and the server. Idempotent. */
  close(): Promise<void>;
}

/** Name of the control-bus service in the supervisor and registry. */
export const CONTROL_BUS_SERVICE = 'control-bus';

/** Default port of the control bus. */
export const DEFAULT_CONTROL_BUS_PORT = 4000;

const busStarted = telemetryEvent('control_bus:started');
const busStopped = telemetryEvent('control_bus:stopped');

function invalid(option: string, value: unknown, expected: string): FoundationError {
  return new FoundationError('FND_CONFIG_INVALID_VALUE', {
    message: `Invalid control bus option ${option}: expected ${expected}`,
    context: { option, value: typeof value === 'string' ? value.slice(0, 64) : typeof value },
  });
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(option, value, 'a positive integer');
  return value;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly bodyLimitBytes: number;
  readonly appendBodyLimitBytes: number;
  readonly maxUrlLength: number;
  readonly healthTimeoutMs: number;
  readonly streamRefreshMs: number;
  readonly heartbeatMs: number;
  readonly maxStreamClients: number;
  readonly maxEventStreamClients: number;
  readonly eventStreamBufferSize: number;
  readonly publicDir: string;
  readonly closeGraceMs: number;
  readonly logger: boolean;
}

function resolveOptions(options: ControlBusOptions): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '')
    throw invalid('host', host, 'a non-empty host name or address');
  const port = options.port ?? DEFAULT_CONTROL_BUS_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalid('port', port, 'an integer 0–65535');
  if (options.token?.trim() === '') throw invalid('token', '', 'a non-empty token');
  return {
    host,
    port,
    token: options.token,
    bodyLimitBytes: positiveInteger('bodyLimitBytes', options.bodyLimitBytes, 64 * 1024),
    appendBodyLimitBytes: positiveInteger(
      'appendBodyLimitBytes',
      options.appendBodyLimitBytes,
      2 * 1024 * 1024,
    ),
    maxUrlLength: positiveInteger('maxUrlLength', options.maxUrlLength, 4096),
    healthTimeoutMs: positiveInteger('healthTimeoutMs', options.healthTimeoutMs, 2000),
    streamRefreshMs: positiveInteger('streamRefreshMs', options.streamRefreshMs, 5000),
    heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 15_000),
    maxStreamClients: positiveInteger('maxStreamClients', options.maxStreamClients, 64),
    maxEventStreamClients: positiveInteger('maxEventStreamClients', options.maxEventStreamClients, 64),
    eventStreamBufferSize: positiveInteger('eventStreamBufferSize', options.eventStreamBufferSize, 256),
    publicDir: options.publicDir ?? publicDirectory(),
    closeGraceMs: positiveInteger('closeGraceMs', options.closeGraceMs, 1000),
    logger: options.logger ?? false,
  };
}

/**
 * The control bus for `foundation` as a service named `control-bus`: add it to the same foundation (or
 * another) and it listens when started. Options are validated here (`FND_CONFIG_INVALID_VALUE`); a listen
 * failure (port in use, unknown address) rejects `start()` with `FND_SERVER_LISTEN_FAILED`.
 *
 * @example
 * ```ts
 * const foundation = createFoundation({ name: 'orders' });
 * foundation.add(controlBusService(foundation, { port: 4000, token: process.env.FOUNDATION_TOKEN }));
 * await foundation.start(); // GET http://127.0.0.1:4000/ shows the dashboard
 * ```
 */
export function controlBusService(
  foundation: Foundation,
  options: ControlBusOptions = {},
): Service<ControlBus> {
  const settings = resolveOptions(options);
  const streams = new WeakMap<ControlBus, { status: StatusStream; events: EventStreamHub }>();
  return {
    name: CONTROL_BUS_SERVICE,
    async start(): Promise<ControlBus> {
      const files = await loadStaticFiles(settings.publicDir);
      const stream = new StatusStream(foundation, {
        clock: foundation.clock,
        refreshMs: settings.streamRefreshMs,
        heartbeatMs: settings.heartbeatMs,
        healthTimeoutMs: settings.healthTimeoutMs,
        maxClients: settings.maxStreamClients,
      });
      const eventStreams = new EventStreamHub({
        clock: foundation.clock,
        subscribe: (filter, subscribeOptions) => foundation.events.subscribe(filter, subscribeOptions),
        heartbeatMs: settings.heartbeatMs,
        maxClients: settings.maxEventStreamClients,
        bufferSize: settings.eventStreamBufferSize,
      });
      const app = buildControlBusApp(foundation, settings, files, stream, eventStreams);
      try {
        await app.listen({ host: settings.host, port: settings.port });
      } catch (error) {
        stream.close();
        await eventStreams.close();
        await app.close().catch(() => undefined);
        const reason = (error as { code?: unknown }).code;
        throw new FoundationError('FND_SERVER_LISTEN_FAILED', {
          message:
            `Cannot listen on ${settings.host}:${settings.port}` +
            (reason === 'EADDRINUSE'
              ? ': address already in use'
              : typeof reason === 'string'
                ? ` (${reason})`
                : ''),
          context: { host: settings.host, port: settings.port, reason },
          cause: error,
        });
      }
      const port = (app.server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      const bus: ControlBus = {
        url: `http://${urlHost(settings.host)}:${port}`,
        port,
        host: settings.host,
        eventStreams: () => eventStreams.clients(),
        close() {
          closing ??= (async () => {
            stream.close();
            await eventStreams.close();
            // Connections that do not finish within the grace period (a client that stopped reading)
            // are cut so that stopping never hangs.
            const force = foundation.clock.setTimeout(() => {
              app.server.closeAllConnections();
            }, settings.closeGraceMs);
            try {
              await app.close();
            } finally {
              force.cancel();
            }
            busStopped.emit({}, { foundation: foundation.name, port });
          })();
          return closing;
        },
      };
      streams.set(bus, { status: stream, events: eventStreams });
      busStarted.emit({ port }, { foundation: foundation.name, host: settings.host });
      return bus;
    },
    async stop(bus) {
      await bus.close();
    },
    health(bus): HealthReport {
      return {
        status: 'healthy',
        message: `listening on ${bus.url}`,
        details: {
          url: bus.url,
          streamClients: streams.get(bus)?.status.clientCount ?? 0,
          eventStreamClients: streams.get(bus)?.events.clientCount ?? 0,
        },
      };
    },
  };
}
