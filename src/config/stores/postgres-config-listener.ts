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
import { PG_LISTEN_RECONNECT_MS, PgListenConnection } from '../../storage/pg-listen-connection.js';

const listenLost = telemetryEvent('config:listen_lost');
const listenConnected = telemetryEvent('config:listen_connected');

/** First and largest delay before reconnecting the LISTEN connection, ms. */
export const CONFIG_LISTEN_RECONNECT_MS = PG_LISTEN_RECONNECT_MS;

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
  readonly #connection: PgListenConnection;

  /**
   * @param pool - resolves to the storage's (migrated) pool; the listening connection copies its settings
   * @param onVersion - called with each notified version, and with the latest after every (re)connection
   */
  constructor(pool: () => Promise<pg.Pool>, channel: string, onVersion: (version: number) => void) {
    this.#connection = new PgListenConnection({
      pool,
      channel,
      applicationSuffix: 'config_listen',
      lost: listenLost,
      connected: listenConnected,
      onNotification: (payload) => {
        const version = Number(payload);
        if (Number.isSafeInteger(version) && version > 0) onVersion(version);
      },
      // Versions committed while nobody listened (before the first connection, during an outage).
      onConnected: async (client) => {
        const latest = (await client.query<{ version: number | null }>(LATEST)).rows[0]?.version ?? null;
        if (latest !== null) onVersion(latest);
      },
    });
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Whether the listener is started (connected, or connecting / waiting to reconnect). */
  get running(): boolean {
    return this.#connection.running;
  }

  /** Opens the connection (harmless when started). */
  start(): void {
    this.#connection.start();
  }

  /** Closes the connection and cancels any reconnection. */
  stop(): void {
    this.#connection.stop();
  }
}
