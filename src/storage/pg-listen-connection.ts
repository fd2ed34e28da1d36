/**
 * One dedicated PostgreSQL connection that `LISTEN`s on a channel: opened on `start()`, reopened with a
 * backoff (100 ms doubling to 5 s) when it is lost, closed on `stop()`. After every (re)connection — once
 * `LISTEN` is in place, so nothing committed later can be missed — `onConnected` runs on that connection (to
 * catch up on what happened while nobody listened). Shared by the event store's wake-ups and the config's
 * version watch; each gives its own telemetry events.
 *
 * @module
 */
import type pg from 'pg';
import type { TelemetryEvent } from '../kernel/telemetry.js';

/** First and largest delay before reconnecting a LISTEN connection, ms. */
export const PG_LISTEN_RECONNECT_MS = { first: 100, max: 5000 } as const;

/** Settings of a {@link PgListenConnection}. */
export interface PgListenOptions {
  /** Resolves to the pool whose settings the connection copies (called before each attempt). */
  readonly pool: () => Promise<pg.Pool>;
  readonly channel: string;
  /** Appended to the pool's `application_name` (e.g. `config_listen`), so operators can tell it apart. */
  readonly applicationSuffix?: string;
  /** Called with each notification's payload on the channel. */
  readonly onNotification: (payload: string) => void;
  /** Called after every (re)connection, on the listening client, before it counts as connected. */
  readonly onConnected: (client: pg.Client) => void | Promise<void>;
  /** Published on a lost connection or a failed attempt (`{ attempt }`, `{ channel, message? }`). */
  readonly lost: TelemetryEvent;
  /** Published when the connection is up (`{}`, `{ channel }`). */
  readonly connected: TelemetryEvent;
}

/** A LISTEN connection with reconnection. */
export class PgListenConnection {
  readonly #options: PgListenOptions;
  #client: pg.Client | undefined;
  #running = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Increases on every start/stop: a connection attempt of an older generation is discarded. */
  #generation = 0;

  constructor(options: PgListenOptions) {
    this.#options = options;
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Whether it is started (connected, connecting or waiting to reconnect). */
  get running(): boolean {
    return this.#running;
  }

  /** Opens the connection (harmless when started). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#generation++;
    this.#attempt = 0;
    void this.#connect(this.#generation);
  }

  /** Closes the connection and cancels any reconnection. */
  stop(): void {
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) void client.end().catch(() => undefined);
  }

  async #connect(generation: number): Promise<void> {
    const { channel, applicationSuffix } = this.#options;
    let client: pg.Client | undefined;
    try {
      const pool = await this.#options.pool();
      const driver = (await import('pg')).default;
      if (generation !== this.#generation) return;
      const settings = pool.options as pg.ClientConfig & { application_name?: string };
      client = new driver.Client({
        ...settings,
        keepAlive: true,
        ...(applicationSuffix === undefined
          ? {}
          : {
              application_name: `${settings.application_name ?? 'foundation'}:${applicationSuffix}`.slice(
                0,
                63,
              ),
            }),
      });
      const current = client;
      current.on('error', () => {
        this.#lost(current, generation);
      });
      current.on('end', () => {
        this.#lost(current, generation);
      });
      current.on('notification', (message) => {
        if (message.channel === channel && this.#client === current) {
          this.#options.onNotification(message.payload ?? '');
        }
      });
      await current.connect();
      await current.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
      if (generation !== this.#generation) {
        void current.end().catch(() => undefined);
        return;
      }
      this.#client = current;
      await this.#options.onConnected(current);
      if (generation !== this.#generation || this.#client !== current) return;
      this.#attempt = 0;
      if (this.#options.connected.hasSubscribers) this.#options.connected.emit({}, { channel });
    } catch (error) {
      if (client !== undefined) {
        if (this.#client === client) this.#client = undefined;
        void client.end().catch(() => undefined);
      }
      if (generation !== this.#generation) return;
      if (this.#options.lost.hasSubscribers) {
        this.#options.lost.emit(
          { attempt: this.#attempt + 1 },
          { channel, message: error instanceof Error ? error.message : String(error) },
        );
      }
      this.#retry(generation);
    }
  }

  #lost(client: pg.Client, generation: number): void {
    if (this.#client !== client || generation !== this.#generation) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    if (this.#options.lost.hasSubscribers)
      this.#options.lost.emit({ attempt: 0 }, { channel: this.#options.channel });
    this.#retry(generation);
  }

  #retry(generation: number): void {
    if (!this.#running || generation !== this.#generation || this.#timer !== undefined) return;
    this.#attempt++;
    const delay = Math.min(
      PG_LISTEN_RECONNECT_MS.max,
      PG_LISTEN_RECONNECT_MS.first * 2 ** Math.min(this.#attempt - 1, 10),
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running && generation === this.#generation) void this.#connect(generation);
    }, delay);
    this.#timer.unref();
  }
}
