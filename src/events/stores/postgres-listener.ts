/**
 * Cross-process wake-ups for PostgreSQL subscriptions: one dedicated connection per store that `LISTEN`s on
 * the schema's events channel (every append runs `pg_notify` on it inside its transaction, so the
 * notification arrives only after the commit). The connection is opened when the first listener is added
 * and closed when the last one leaves. When it is lost it is reopened with a backoff (100 ms doubling to
 * 5 s), and after every (re)connection every listener is called once: events committed while nobody was
 * listening are not missed.
 *
 * @module
 */
import type pg from 'pg';
import { telemetryEvent } from '../../kernel/telemetry.js';

const listenLost = telemetryEvent('events:listen_lost');
const listenConnected = telemetryEvent('events:listen_connected');

/** First and largest delay before reconnecting the LISTEN connection, ms. */
export const LISTEN_RECONNECT_MS = { first: 100, max: 5000 } as const;

/** Longest channel name PostgreSQL accepts (NAMEDATALEN - 1 bytes). */
const MAX_CHANNEL = 63;

/** The notification channel of a schema's events: `fnd_events_<schema>` (at most 63 bytes). */
export function eventsChannel(schema: string): string {
  return `fnd_events_${schema}`.slice(0, MAX_CHANNEL);
}

/** A LISTEN connection shared by the listeners of one store. */
export class PgEventsListener {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #listeners = new Set<() => void>();
  #client: pg.Client | undefined;
  #running = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Increases on every start/stop: a connection attempt of an older generation is discarded. */
  #generation = 0;

  constructor(pool: pg.Pool, channel: string) {
    this.#pool = pool;
    this.#channel = channel;
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Adds a listener (opening the connection for the first one); returns its removal. */
  add(listener: () => void): () => void {
    const wrapped = (): void => {
      listener();
    };
    this.#listeners.add(wrapped);
    if (!this.#running) this.#start();
    return () => {
      if (!this.#listeners.delete(wrapped)) return;
      if (this.#listeners.size === 0) this.stop();
    };
  }

  /** Closes the connection and forgets every listener. */
  close(): void {
    this.#listeners.clear();
    this.stop();
  }

  /** Closes the connection (listeners stay; the next `add` reopens). */
  stop(): void {
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) void client.end().catch(() => undefined);
  }

  #start(): void {
    this.#running = true;
    this.#generation++;
    this.#attempt = 0;
    void this.#connect(this.#generation);
  }

  #fire(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async #connect(generation: number): Promise<void> {
    let client: pg.Client | undefined;
    try {
      const driver = (await import('pg')).default;
      if (generation !== this.#generation) return;
      client = new driver.Client({ ...this.#pool.options, keepAlive: true });
      const current = client;
      current.on('error', () => {
        this.#lost(current, generation);
      });
      current.on('end', () => {
        this.#lost(current, generation);
      });
      current.on('notification', (message) => {
        if (message.channel === this.#channel && this.#client === current) this.#fire();
      });
      await current.connect();
      await current.query(`LISTEN "${this.#channel.replaceAll('"', '""')}"`);
      if (generation !== this.#generation) {
        void current.end().catch(() => undefined);
        return;
      }
      this.#client = current;
      this.#attempt = 0;
      if (listenConnected.hasSubscribers) listenConnected.emit({}, { channel: this.#channel });
      // Commits made while nobody listened (before the first connection, during an outage): read now.
      this.#fire();
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
      LISTEN_RECONNECT_MS.max,
      LISTEN_RECONNECT_MS.first * 2 ** Math.min(this.#attempt - 1, 10),
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running && generation === this.#generation) void this.#connect(generation);
    }, delay);
    this.#timer.unref();
  }
}
