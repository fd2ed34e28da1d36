/**
 * The StatsD / DogStatsD push exporter: one connected UDP socket, lines packed into packets, a bounded retry
 * buffer with exponential backoff while the target is down.
 *
 * @module
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { FoundationError } from '../../errors/index.js';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type { ExporterStatus, MetricsExporter, MetricsSnapshot } from '../types.js';
import { StatsdLineBuilder, packLines } from './statsd-lines.js';

/** Options of the {@link StatsdExporter} constructor. */
export interface StatsdExporterOptions {
  /** Host name or IP address of the StatsD server (an IPv6 address gives a `udp6` socket). */
  readonly host: string;
  /** UDP port of the StatsD server. */
  readonly port: number;
  /** Prepended to every name with a `.`. */
  readonly prefix?: string;
  /** DogStatsD tags (`|#k:v`); otherwise tag values become name segments. Default false. */
  readonly dogstatsd?: boolean;
  /** Largest UDP payload sent. Default 1432 (fits a 1500-byte MTU). */
  readonly maxPacketBytes?: number;
  /** Lines kept for retry while the target is down; the oldest are dropped (counted) beyond. Default 1000. */
  readonly maxBuffered?: number;
  /** First retry delay after a failure, ms; doubles per failure. Default 1000. */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms. Default 30 000. */
  readonly retryMaxMs?: number;
  /** Time source of the backoff. Default the system clock. */
  readonly clock?: Clock;
}

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
      message: `StatsD exporter option ${name} must be an integer from ${String(min)} to ${String(max)}`,
      context: { option: name, value },
    });
  }
}

/**
 * Pushes each snapshot to a StatsD server over UDP (line format in {@link StatsdLineBuilder}).
 *
 * - The socket is connected once (`start`), so the kernel reports an unreachable port (ICMP) as
 *   `ECONNREFUSED` on the socket; a refused batch, a failed send and a failed connect (DNS) are counted in
 *   `failed`, put back in the buffer and retried after a backoff (`retryBaseMs × 2^n`, at most
 *   `retryMaxMs`) on a later `export`. A refusal re-sends the whole last batch: lines delivered just before
 *   the target went down may arrive twice.
 * - The buffer holds at most `maxBuffered` lines: the oldest are dropped and counted in `dropped` (as are
 *   lines longer than `maxPacketBytes`, and the lines still buffered at `stop`).
 * - `export` awaits only local socket sends (never DNS nor the backoff); `exported` counts lines sent.
 *
 * @example
 * ```ts
 * const statsd = new StatsdExporter({ host: '127.0.0.1', port: 8125, dogstatsd: true });
 * await statsd.start({ collect: () => registry.collect() });
 * await statsd.export(registry.collect()); // every export interval
 * ```
 */
export class StatsdExporter implements MetricsExporter {
  /** Always `statsd`. */
  readonly name = 'statsd';
  readonly #host: string;
  readonly #port: number;
  readonly #maxPacketBytes: number;
  readonly #maxBuffered: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #clock: Clock;
  readonly #builder: StatsdLineBuilder;
  #socket: dgram.Socket | undefined;
  #connected = false;
  #connecting: Promise<void> | undefined;
  #started = false;
  /** Lines waiting to be sent, oldest first. */
  #buffer: string[] = [];
  /** The last batch handed to the socket: put back in the buffer when the target refuses it. */
  #inFlight: string[] = [];
  #flushing: Promise<void> | undefined;
  #attempt = 0;
  #retryAt = 0;
  #flushesSinceFailure = 0;
  #exported = 0;
  #failed = 0;
  #dropped = 0;
  #lastError: { readonly message: string; readonly at: number } | undefined;

  /** Validates the options; opens nothing until `start`. */
  constructor(options: StatsdExporterOptions) {
    checkInteger('port', options.port, 1, 65_535);
    if (typeof options.host !== 'string' || options.host === '') {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: 'StatsD exporter option host must be a non-empty string',
        context: { option: 'host' },
      });
    }
    this.#host = options.host;
    this.#port = options.port;
    this.#maxPacketBytes = options.maxPacketBytes ?? 1432;
    this.#maxBuffered = options.maxBuffered ?? 1000;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    checkInteger('maxPacketBytes', this.#maxPacketBytes, 64);
    checkInteger('maxBuffered', this.#maxBuffered, 1);
    checkInteger('retryBaseMs', this.#retryBaseMs, 0);
    checkInteger('retryMaxMs', this.#retryMaxMs, this.#retryBaseMs);
    this.#clock = options.clock ?? systemClock;
    this.#builder = new StatsdLineBuilder({ prefix: options.prefix, dogstatsd: options.dogstatsd === true });
  }

  /** Opens and connects the socket (a failed connect is counted and retried later; `start` does not throw). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#connect();
  }

  /**
   * Turns the snapshot into lines, buffers them (bounded) and, unless backing off, sends the buffer.
   * Refused on a stopped exporter (`FND_SYSTEM_SERVICE_UNAVAILABLE`).
   */
  async export(snapshot: MetricsSnapshot): Promise<void> {
    if (!this.#started) {
      throw new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
        message: 'The StatsD exporter is not started',
        context: { exporter: this.name },
      });
    }
    this.#enqueue(this.#builder.lines(snapshot), false);
    if (this.#flushing !== undefined || this.#clock.now() < this.#retryAt) return;
    if (!this.#connected) {
      // DNS may be slow: connect in the background and send on a later export.
      if (this.#connecting === undefined) void this.#connect();
      return;
    }
    this.#flushing = this.#flush();
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Waits for a send in progress, closes the socket; lines still buffered are dropped (counted). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#flushing;
    await this.#connecting;
    this.#dropped += this.#buffer.length;
    this.#buffer = [];
    this.#inFlight = [];
    this.#closeSocket();
  }

  /** Lines sent (`exported`), failures (`failed`), lines dropped (`dropped`), the last error. */
  status(): ExporterStatus {
    return {
      name: this.name,
      exported: this.#exported,
      failed: this.#failed,
      dropped: this.#dropped,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** Lines waiting for a retry (at most `maxBuffered`). */
  buffered(): number {
    return this.#buffer.length;
  }

  #connect(): Promise<void> {
    const socket = dgram.createSocket(isIP(this.#host) === 6 ? 'udp6' : 'udp4');
    socket.on('error', (error) => {
      this.#onFailure(error, this.#inFlight);
      this.#inFlight = [];
    });
    socket.unref();
    this.#socket = socket;
    this.#connected = false;
    const connecting = new Promise<void>((resolve) => {
      socket.connect(this.#port, this.#host, (error?: Error | null) => {
        if (this.#socket !== socket) {
          resolve();
          return;
        }
        if (error === undefined || error === null) {
          this.#connected = true;
        } else {
          this.#onFailure(error, []);
          this.#closeSocket();
        }
        resolve();
      });
    });
    this.#connecting = connecting.finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    if (socket === undefined) return;
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    try {
      socket.close();
    } catch {
      // Already closed (a failed connect may have closed it).
    }
  }

  async #flush(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) return;
    // The previous batch went out without a refusal: the target is back, restart the backoff.
    if (this.#flushesSinceFailure > 0) this.#attempt = 0;
    this.#flushesSinceFailure++;
    const lines = this.#buffer;
    this.#buffer = [];
    const { packets, oversized } = packLines(lines, this.#maxPacketBytes);
    this.#dropped += oversized;
    const sent: string[] = [];
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      if (packet === undefined) break;
      const error = await new Promise<Error | null>((resolve) => {
        socket.send(packet.payload, (e) => {
          resolve(e);
        });
      });
      if (error !== null) {
        const unsent = packets.slice(i).flatMap((p) => p.lines);
        this.#onFailure(error, unsent);
        break;
      }
      this.#exported += packet.lines.length;
      for (const line of packet.lines) sent.push(line);
    }
    this.#inFlight = sent.length > this.#maxBuffered ? sent.slice(sent.length - this.#maxBuffered) : sent;
  }

  #onFailure(error: Error, retry: readonly string[]): void {
    const now = this.#clock.now();
    this.#failed++;
    const code = (error as NodeJS.ErrnoException).code;
    this.#lastError = { message: code === undefined ? error.message : `${code}: ${error.message}`, at: now };
    if (retry.length > 0) this.#enqueue(retry, true);
    this.#flushesSinceFailure = 0;
    this.#retryAt = now + Math.min(this.#retryBaseMs * 2 ** this.#attempt, this.#retryMaxMs);
    this.#attempt = Math.min(this.#attempt + 1, 30);
  }

  /** Adds lines (at the front for retries, which are older), dropping the oldest beyond `maxBuffered`. */
  #enqueue(lines: readonly string[], older: boolean): void {
    if (lines.length === 0) return;
    const all = older ? [...lines, ...this.#buffer] : this.#buffer.concat(lines);
    const excess = all.length - this.#maxBuffered;
    if (excess > 0) {
      this.#dropped += excess;
      this.#buffer = all.slice(excess);
    } else {
      this.#buffer = all;
    }
  }
}
