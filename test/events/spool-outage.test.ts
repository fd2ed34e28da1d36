/**
 * The event spool against a real PostgreSQL that goes away: a throw-away cluster (not the shared server) is
 * stopped while appends continue (they are spooled on local disk), then started again; the spool replays
 * by itself and every event ends up in PostgreSQL exactly once, in append order. Waits are on the spool's
 * telemetry, never on time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import { createEventStore, type EventStore } from '../../src/events/index.js';
import { isSpooled } from '../../src/events/spool/index.js';
import { onTelemetry, type TelemetryMessage } from '../../src/kernel/telemetry.js';
import { Storage } from '../../src/storage/index.js';
import { rejection } from '../../src/testing/capture.js';
import { createPgCluster, describePgCluster, type PgCluster } from '../helpers/pg-cluster.js';

/** Resolves with the next message of `name` for this spool (`path`) that satisfies `accept`. */
function nextTelemetry(
  name: string,
  path: string,
  accept: (message: TelemetryMessage) => boolean = () => true,
): Promise<TelemetryMessage> {
  return new Promise((resolve) => {
    const stop = onTelemetry(name, (message) => {
      if (message.metadata.path !== path || !accept(message)) return;
      stop();
      resolve(message);
    });
  });
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describePgCluster('event spool: a real PostgreSQL stopped and started', () => {
  let cluster: PgCluster | undefined;
  let dir: string;
  let storage: Storage | undefined;
  let events: EventStore | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fnd-spool-outage-'));
    cluster = await createPgCluster();
    await cluster.start();
  }, 120_000);

  afterAll(async () => {
    try {
      await events?.stop().catch(() => undefined);
      await storage?.close().catch(() => undefined);
    } finally {
      await cluster?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('spools appends while the server is down and replays them, once each and in order, when it is back', async () => {
    const server = cluster as PgCluster;
    const path = join(dir, 'events-spool.db');
    storage = new Storage(`${server.url}?schema=spool_outage&queryTimeoutMs=10000`);
    await storage.open();
    events = createEventStore(storage, { spool: { path, retryInitialMs: 50, retryMaxMs: 500 } });
    await events.start();
    const store = events;

    const appended: string[] = [];
    let n = 0;
    const append = async (): Promise<boolean> => {
      const stream = `order-${n % 3}`;
      const result = await store.append({ type: 'order.noted', stream, data: { n: n++ } });
      appended.push(...result.events.map((e) => e.id));
      return isSpooled(result);
    };

    for (let i = 0; i < 5; i++) expect(await append()).toBe(false);

    for (let round = 1; round <= 2; round++) {
      await server.stop(round === 1 ? 'fast' : 'immediate');
      const firstFailure = nextTelemetry('events:spool_replay_failed', path);
      const depths: TelemetryMessage[] = [];
      const stopDepth = onTelemetry('events:spool_depth', (m) => {
        if (m.metadata.path === path) depths.push(m);
      });
      try {
        for (let i = 0; i < 20; i++) expect(await append()).toBe(true);
        const checked = await rejection(
          store.append({ type: 'order.noted', stream: 'order-1' }, { expectedVersion: 5 }),
        );
        expect(isFoundationError(checked) && checked.code).toBe('FND_STORAGE_UNAVAILABLE');
        expect(depths.at(-1)?.measurements).toMatchObject({ events: 20, requests: 20 });
        expect(depths.map((m) => m.measurements.events)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

        // The replay loop probes the store and fails while it is down.
        const failure = await firstFailure;
        expect(failure.metadata.code).toBe('FND_STORAGE_UNAVAILABLE');

        const drained = nextTelemetry(
          'events:spool_drained',
          path,
          (m) => (m.measurements.replayed ?? 0) > 0,
        );
        await server.start();
        await drained;
        expect(depths.at(-1)?.measurements).toMatchObject({ events: 0, bytes: 0, requests: 0 });
      } finally {
        stopDepth();
      }
      // Straight to the store again.
      expect(await append()).toBe(false);
    }

    const rows = await sql<{ id: string; position: string; stream: string; stream_version: string }>(
      server.url,
      'SELECT id, position, stream, stream_version FROM spool_outage.foundation_events ORDER BY position',
    );
    expect(rows.map((r) => r.id)).toEqual(appended);
    expect(new Set(rows.map((r) => r.id)).size).toBe(appended.length);
    for (const stream of ['order-0', 'order-1', 'order-2']) {
      const versions = rows.filter((r) => r.stream === stream).map((r) => Number(r.stream_version));
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
    const all = await store.readAll({ limit: 1000 });
    expect(all.map((e) => e.id)).toEqual(appended);
  });
});
