/**
 * PostgreSQL going away: appends fail fast with FND_STORAGE_UNAVAILABLE (a hang would hit the test timeout),
 * and the store reconnects on its own when the server is back. The shared server is never restarted: a TCP
 * proxy between the store and the server is cut and restored, and the store's backends are terminated with
 * `pg_terminate_backend`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { AppendOutcome } from '../../src/events/model/port.js';
import { createTestSchema, describePg, pgExec, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

/** The schema's URL pointed at the proxy, with an application name of its own to find its backends. */
function throughProxy(url: string, port: number, applicationName: string): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function terminateBackends(applicationName: string): Promise<number> {
  const result = await pgExec(
    'SELECT pg_terminate_backend(pid, 5000) AS killed FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  );
  return result.rowCount ?? 0;
}

describePg('PostgresEventStore when PostgreSQL goes away', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let open: OpenStore;
  const applicationName = `fnd_outage_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    schema = await createTestSchema();
    const target = new URL(pgTestUrl());
    proxy = await startTcpProxy({
      host: target.hostname,
      port: Number(target.port === '' ? 5432 : target.port),
    });
    open = await openPgStore(throughProxy(schema.url, proxy.port, applicationName));
  });

  afterAll(async () => {
    await open.close();
    await proxy.close();
    await schema.drop();
  });

  it('fails fast with FND_STORAGE_UNAVAILABLE while the server is unreachable, then recovers by itself', async () => {
    const before = await open.store.append([
      appendRequest([preparedEvent('outage', 1), preparedEvent('outage', 2)]),
      appendRequest([preparedEvent(null, 3)]),
    ]);
    const beforeIds = before.flatMap((o) => storedEvents(o).map((e) => e.id));

    await proxy.cut();
    const appendError = await rejection(open.store.append([appendRequest([preparedEvent('outage', 4)])]));
    expect(isFoundationError(appendError) && appendError.code).toBe('FND_STORAGE_UNAVAILABLE');
    // Once the pooled connections are gone, new ones are refused: still the same clear error.
    const secondError = await rejection(open.store.append([appendRequest([preparedEvent('outage', 5)])]));
    expect(isFoundationError(secondError) && secondError.code).toBe('FND_STORAGE_UNAVAILABLE');
    const readError = await rejection(open.store.streamVersion('outage'));
    expect(isFoundationError(readError) && readError.code).toBe('FND_STORAGE_UNAVAILABLE');

    await proxy.restore();
    const [after] = await open.store.append([appendRequest([preparedEvent('outage', 6)], 2)]);
    expect(storedEvents(after).map((e) => e.streamVersion)).toEqual([3]);

    const all = await open.store.readAll({ afterPosition: 0, limit: 100 });
    expect(all.map((e) => e.id)).toEqual([...beforeIds, ...storedEvents(after).map((e) => e.id)]);
    expect(await open.store.streamVersion('outage')).toBe(3);
  });

  it('terminated backends during a stream of appends: each append lands whole or fails clearly, never half', async () => {
    const stream = 'terminated';
    const batches = Array.from({ length: 40 }, (_, i) => [
      preparedEvent(stream, i * 3),
      preparedEvent(stream, i * 3 + 1),
      preparedEvent(`${stream}-side`, i * 3 + 2),
    ]);
    const results: (AppendOutcome | Error)[] = new Array<AppendOutcome | Error>(batches.length);
    let next = 0;
    let killed = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const i = next++;
        try {
          const [outcome] = await open.store.append([appendRequest(batches[i] ?? [])]);
          results[i] = outcome ?? new Error('no outcome');
        } catch (error) {
          results[i] = error instanceof Error ? error : new Error(String(error));
        }
        if (i % 10 === 5) killed += await terminateBackends(applicationName);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(killed).toBeGreaterThan(0);

    const stored = new Set(
      [
        ...(await open.store.readStream(stream, { from: 1, direction: 'forward', limit: 1000 })),
        ...(await open.store.readStream(`${stream}-side`, { from: 1, direction: 'forward', limit: 1000 })),
      ].map((e) => e.id),
    );
    let failed = 0;
    for (const [i, result] of results.entries()) {
      const ids = (batches[i] ?? []).map((e) => e.id);
      const present = ids.filter((id) => stored.has(id)).length;
      if (result instanceof Error) {
        failed++;
        expect(isFoundationError(result) && result.code).toBe('FND_STORAGE_UNAVAILABLE');
        // The commit may or may not have happened before the connection died, but never half of it.
        expect([0, ids.length]).toContain(present);
      } else {
        expect(result.ok).toBe(true);
        expect(present).toBe(ids.length);
      }
    }
    // Versions stay contiguous whatever failed.
    const events = await open.store.readStream(stream, { from: 1, direction: 'forward', limit: 1000 });
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, k) => k + 1));
    expect(failed).toBeLessThan(batches.length);

    const [later] = await open.store.append([appendRequest([preparedEvent(stream, 999)], events.length)]);
    expect(storedEvents(later).map((e) => e.streamVersion)).toEqual([events.length + 1]);
  });

  it('the EventStore service over the same storage: rejects appends while cut, serves again once restored', async () => {
    const service = createEventStore(open.storage);
    await service.start();
    try {
      const first = await service.append({ type: 'svc.before', stream: 'svc-outage' });
      await proxy.cut();
      const errors = await Promise.all(
        [1, 2, 3].map((n) =>
          rejection(service.append({ type: 'svc.during', stream: 'svc-outage', data: { n } })),
        ),
      );
      expect(errors.map((e) => isFoundationError(e) && e.code)).toEqual(
        Array(3).fill('FND_STORAGE_UNAVAILABLE'),
      );
      await proxy.restore();
      const after = await service.append({ type: 'svc.after', stream: 'svc-outage' }, { expectedVersion: 1 });
      expect(after.streamVersion).toBe(2);
      const events = await service.readStream('svc-outage');
      expect(events.map((e) => e.type)).toEqual(['svc.before', 'svc.after']);
      expect(events[0]?.id).toBe(first.events[0]?.id);
    } finally {
      await service.stop();
    }
  });
});

describePg('PostgresEventStore when the server stops answering (half-open connection)', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let open: OpenStore;

  beforeAll(async () => {
    schema = await createTestSchema();
    const target = new URL(pgTestUrl());
    proxy = await startTcpProxy({
      host: target.hostname,
      port: Number(target.port === '' ? 5432 : target.port),
    });
    const url = new URL(throughProxy(schema.url, proxy.port, `fnd_frozen_${randomBytes(4).toString('hex')}`));
    url.searchParams.set('queryTimeoutMs', '1000');
    open = await openPgStore(url.toString());
  });

  afterAll(async () => {
    await open.close();
    await proxy.close();
    await schema.drop();
  });

  it('an append on a silent connection fails with FND_STORAGE_UNAVAILABLE instead of hanging, then the store recovers', async () => {
    const [before] = await open.store.append([appendRequest([preparedEvent('frozen', 1)])]);
    expect(storedEvents(before).map((e) => e.streamVersion)).toEqual([1]);

    proxy.freeze();
    const appendError = await rejection(open.store.append([appendRequest([preparedEvent('frozen', 2)])]));
    expect(isFoundationError(appendError) && appendError.code).toBe('FND_STORAGE_UNAVAILABLE');
    const readError = await rejection(open.store.streamVersion('frozen'));
    expect(isFoundationError(readError) && readError.code).toBe('FND_STORAGE_UNAVAILABLE');

    proxy.thaw();
    const [after] = await open.store.append([appendRequest([preparedEvent('frozen', 3)], 1)]);
    expect(storedEvents(after).map((e) => e.streamVersion)).toEqual([2]);
    const stored = await open.store.readStream('frozen', { from: 1, direction: 'forward', limit: 10 });
    expect(stored.map((e) => e.id)).toEqual([
      ...storedEvents(before).map((e) => e.id),
      ...storedEvents(after).map((e) => e.id),
    ]);
  });
});
