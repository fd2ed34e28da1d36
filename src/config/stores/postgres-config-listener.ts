/**
 * Cross-process wake-ups of a PostgreSQL config version store: one dedicated connection per store object
 * that `LISTEN`s on the schema's config channel (every append runs `pg_notify(channel, version::text)` in
 * its statement, so the notification arrives only after the commit). The connection is opened when the first
 * watcher is added and closed when the last one leaves. When it is lost it is reopened with a backoff
 * (100 ms doubling to 5 s); after every (re)connection the latest stored version is read on the listening
 * connection (after `LISTEN`, so nothing committed later is missed) and every watcher is called with it.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { telemetryEvent } from '../../kernel/telemetry.js';

const listenLost = telemetryEvent('config:listen_lost');
const listenConnected = telemetryEvent('config:listen_connected');

/** First and largest delay before reconnecting the LISTEN connection, ms. */
export const CONFIG_LISTEN_RECONNECT_MS = { first: 100, max: 5000 } as const;

/** Longest channel name PostgreSQL accepts (NAMEDATALEN - 1 bytes). */
const MAX_CHANNEL_BYTES = 63;

const LATEST = 'SELECT MAX(version) AS version FROM config_versions';

/**
 * The notification channel of a schema's config versions: `fnd_config_<schema>`, or, when that is longer
 * than 63 bytes, the schema's first 40 characters and a hash of the whole name (two long schemas sharing a
 * prefix never share a channel).
 */
export function configChannel(schema: string): string {
  const plain = `fnd_config_${schema}`;
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES) return plain;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 11);
  return `fnd_config_${schema.slice(0, 40)}_${hash}`;
}

/** The LISTEN connection of one store object; calls `onVersion` for every notified or caught-up version. */
export class PgConfigListener {
  readonly #pool: () => Promise<pg.Pool>;
  readonly #channel: string;
  readonly #onVersion: (version: number) => void;
  #client: pg.Client | undefined;
  #running = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Increases on every start/stop: a connection attempt of an older generation is discarded. */
  #generation = 0;

  /**
   * @param pool resolves to the storage's (migrated) pool; the listening connection copies its settings
   * @param onVersion called with each notified version, and with the latest after every (re)connection
   */
  constructor(pool: () => Promise<pg.Pool>, channel: string, onVersion: (version: number) => void) {
    this.#pool = pool;
    this.#channel = channel;
    this.#onVersion = onVersion;
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Whether the listener is started (connected, or connecting / waiting to reconnect). */
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
    let client: pg.Client | undefined;
    try {
      const pool = await this.#pool();
      const driver = (await import('pg')).default;
      if (generation !== this.#generation) return;
      const options = pool.options as pg.ClientConfig & { application_name?: string };
      client = new driver.Client({
        ...options,
        keepAlive: true,
        application_name: `${options.application_name ?? 'foundation'}:config_listen`.slice(0, 63),
      });
      const current = client;
      current.on('error', () => {
        this.#lost(current, generation);
      });
      current.on('end', () => {
        this.#lost(current, generation);
      });
      current.on('notification', (message) => {
        if (message.channel !== this.#channel || this.#client !== current) return;
        const version = Number(message.payload);
        if (Number.isSafeInteger(version) && version > 0) this.#onVersion(version);
      });
      await current.connect();
      await current.query(`LISTEN "${this.#channel.replaceAll('"', '""')}"`);
      const latest = (await current.query<{ version: number | null }>(LATEST)).rows[0]?.version ?? null;
      if (generation !== this.#generation) {
        void current.end().catch(() => undefined);
        return;
      }
      this.#client = current;
      this.#attempt = 0;
      if (listenConnected.hasSubscribers) listenConnected.emit({}, { channel: this.#channel });
      // Versions committed while nobody listened (before the first connection, during an outage).
      if (latest !== null) this.#onVersion(latest);
    } catch (error) {
      if (client !== undefined) void client.end().catch(() => undefined);
      if (generation !== this.#generation) return;
      if (listenLost.hasSubscribers) {
        listenLost.emit(
          { attempt: this.#attempt + 1 },
          { channel: this.#channel, message: error instanceof Error ? error.message : String(error) },
        );
      }
      this.#retry(generation);
    }
  }

  #lost(client: pg.Client, generation: number): void {
    if (this.#client !== client || generation !== this.#generation) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    if (listenLost.hasSubscribers) listenLost.emit({ attempt: 0 }, { channel: this.#channel });
    this.#retry(generation);
  }

  #retry(generation: number): void {
    if (!this.#running || generation !== this.#generation || this.#timer !== undefined) return;
    this.#attempt++;
    const delay = Math.min(
      CONFIG_LISTEN_RECONNECT_MS.max,
      CONFIG_LISTEN_RECONNECT_MS.first * 2 ** Math.min(this.#attempt - 1, 10),
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running && generation === this.#generation) void this.#connect(generation);
    }, delay);
    this.#timer.unref();
  }
}
