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
import { PG_LISTEN_RECONNECT_MS, PgListenConnection } from '../../storage/pg-listen-connection.js';

const listenLost = telemetryEvent('events:listen_lost');
const listenConnected = telemetryEvent('events:listen_connected');

/** First and largest delay before reconnecting the LISTEN connection, ms. */
export const LISTEN_RECONNECT_MS = PG_LISTEN_RECONNECT_MS;

/** Longest channel name PostgreSQL accepts (NAMEDATALEN - 1 bytes). */
const MAX_CHANNEL = 63;

/** The notification channel of a schema's events: `fnd_events_<schema>` (at most 63 bytes). */
export function eventsChannel(schema: string): string {
  return `fnd_events_${schema}`.slice(0, MAX_CHANNEL);
}

/** A LISTEN connection shared by the listeners of one store. */
export class PgEventsListener {
  readonly #listeners = new Set<() => void>();
  readonly #connection: PgListenConnection;

  constructor(pool: pg.Pool, channel: string) {
    this.#connection = new PgListenConnection({
      pool: () => Promise.resolve(pool),
      channel,
      lost: listenLost,
      connected: listenConnected,
      onNotification: () => {
        this.#fire();
      },
      // Commits made while nobody listened (before the first connection, during an outage): read now.
      onConnected: () => {
        this.#fire();
      },
    });
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Adds a listener (opening the connection for the first one); returns its removal. */
  add(listener: () => void): () => void {
    const wrapped = (): void => {
      listener();
    };
    this.#listeners.add(wrapped);
    this.#connection.start();
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
    this.#connection.stop();
  }

  #fire(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
