import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createFoundation,
  isFoundationError,
  SERVICES_NAMESPACE,
  type FoundationOptions,
  type Service,
} from '../../src/index.js';
import { thrown } from '../../src/testing/index.js';
import { tempDir } from '../helpers/cli-process.js';

/** The services every foundation supervises before the caller's. */
const BUILT_IN = ['storage', 'config', 'events', 'projections'];

/** A foundation on the memory store (no files). */
function memoryFoundation(options: FoundationOptions = {}) {
  return createFoundation({ store: 'memory:', ...options });
}

function recordingService(
  name: string,
  log: string[],
  extra: Partial<Service<{ name: string }>> = {},
): Service {
  return {
    name,
    start: () => {
      log.push(`start:${name}`);
      return { name };
    },
    stop: () => {
      log.push(`stop:${name}`);
    },
    ...extra,
  };
}

describe('createFoundation', () => {
  it('starts services in dependency order, registers them, and stops them in reverse', async () => {
    const log: string[] = [];
    const foundation = memoryFoundation({ name: 'orders' });
    foundation
      .add(recordingService('api', log, { dependencies: ['db', 'cache'] }))
      .add(recordingService('db', log))
      .add(recordingService('cache', log, { dependencies: ['db'] }));

    expect(foundation.status().state).toBe('idle');
    expect(foundation.registry.count(SERVICES_NAMESPACE)).toBe(0);

    await foundation.start();
    expect(log).toEqual(['start:db', 'start:cache', 'start:api']);
    const status = foundation.status();
    expect(status.state).toBe('running');
    expect(status.name).toBe('orders');
    expect(status.services.map((s) => [s.name, s.state])).toEqual([
      ['storage', 'running'],
      ['config', 'running'],
      ['events', 'running'],
      ['projections', 'running'],
      ['db', 'running'],
      ['cache', 'running'],
      ['api', 'running'],
    ]);
    expect(foundation.registry.lookup(SERVICES_NAMESPACE, 'db')).toEqual({ name: 'db' });
    expect(foundation.registry.list(SERVICES_NAMESPACE).map((e) => e.name)).toEqual([
      'api',
      'cache',
      'config',
      'db',
      'events',
      'projections',
      'storage',
    ]);
    expect(foundation.registry.lookup(SERVICES_NAMESPACE, 'events')).toBe(foundation.events);
    expect(foundation.registry.lookup(SERVICES_NAMESPACE, 'storage')).toBe(foundation.storage);
    expect(foundation.registry.lookup(SERVICES_NAMESPACE, 'config')).toBe(foundation.config);

    const health = await foundation.health();
    expect(health).toMatchObject({ status: 'healthy', live: true, ready: true });

    await foundation.stop();
    expect(log.slice(3)).toEqual(['stop:api', 'stop:cache', 'stop:db']);
    expect(foundation.registry.count(SERVICES_NAMESPACE)).toBe(0);
    expect(foundation.status().state).toBe('stopped');
  });

  it('keeps two instances in one process fully isolated', async () => {
    const logA: string[] = [];
    const logB: string[] = [];
    const a = memoryFoundation({ name: 'a', services: [recordingService('db', logA)] });
    const b = memoryFoundation({ name: 'b', services: [recordingService('db', logB)] });
    await a.start();
    expect(a.registry.has(SERVICES_NAMESPACE, 'db')).toBe(true);
    expect(b.registry.has(SERVICES_NAMESPACE, 'db')).toBe(false);
    expect(b.status().state).toBe('idle');
    await b.start();
    await a.stop();
    expect(a.registry.has(SERVICES_NAMESPACE, 'db')).toBe(false);
    expect(b.registry.has(SERVICES_NAMESPACE, 'db')).toBe(true);
    expect(b.status().services.map((s) => s.state)).toEqual([
      'running',
      'running',
      'running',
      'running',
      'running',
    ]);
    // each has its own event store
    await b.events.append({ type: 'only.in.b' });
    expect((await b.events.query({})).events.map((e) => e.type)).toEqual(['only.in.b']);
    await expect(a.events.query({})).rejects.toMatchObject({ code: 'FND_SYSTEM_SERVICE_UNAVAILABLE' });
    expect(a.id).not.toBe(b.id);
    expect(logA).toEqual(['start:db', 'stop:db']);
    expect(logB).toEqual(['start:db']);
    await b.stop();
  });

  it('rolls back and reports FND_LIFECYCLE_START_FAILED when a service cannot start', async () => {
    const log: string[] = [];
    const foundation = memoryFoundation({
      services: [
        recordingService('db', log),
        {
          name: 'broken',
          dependencies: ['db'],
          start: () => {
            throw new Error('no socket');
          },
          stop: () => undefined,
        },
      ],
    });
    const failure: unknown = await foundation.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isFoundationError(failure, 'FND_LIFECYCLE_START_FAILED')).toBe(true);
    expect(log).toEqual(['start:db', 'stop:db']);
    expect(foundation.registry.count(SERVICES_NAMESPACE)).toBe(0);
    // the event store was rolled back with the rest
    await expect(foundation.events.append({ type: 'x.y' })).rejects.toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
    });
    const health = await foundation.health();
    expect(health.ready).toBe(false);
  });

  it('reports not ready while a service is unhealthy, and disposes with await using', async () => {
    let healthy = true;
    {
      await using foundation = memoryFoundation({
        services: [
          {
            name: 'flaky',
            start: () => 'x',
            stop: () => undefined,
            health: () => (healthy ? { status: 'healthy' } : { status: 'unhealthy', message: 'down' }),
          },
        ],
      });
      await foundation.start();
      expect((await foundation.health()).ready).toBe(true);
      healthy = false;
      const health = await foundation.health();
      expect(health).toMatchObject({ status: 'unhealthy', ready: false, live: true });
      expect(health.services.find((s) => s.name === 'flaky')).toEqual({
        name: 'flaky',
        status: 'unhealthy',
        message: 'down',
      });
      expect(health.services.map((s) => [s.name, s.status])).toEqual([
        ['storage', 'healthy'],
        ['config', 'healthy'],
        ['events', 'healthy'],
        ['projections', 'healthy'],
        ['flaky', 'unhealthy'],
      ]);
      healthy = true;
    }
  });

  it('rejects registry waiters when it stops', async () => {
    const foundation = memoryFoundation();
    await foundation.start();
    const waiting = foundation.registry.waitFor('services', 'never');
    await foundation.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED' });
  });
});

describe('registry health of supervised services', () => {
  it('runs the service definition health check through the registry', async () => {
    let status: 'healthy' | 'degraded' = 'healthy';
    const foundation = memoryFoundation({
      services: [
        {
          name: 'db',
          start: () => ({ pool: 3 }),
          stop: () => undefined,
          health(instance: { pool: number }) {
            return { status, details: { pool: instance.pool } };
          },
        },
      ],
    });
    await foundation.start();
    expect(foundation.registry.list(SERVICES_NAMESPACE).map((e) => [e.name, e.hasHealthCheck])).toEqual([
      ['config', true],
      ['db', true],
      ['events', true],
      ['projections', true],
      ['storage', true],
    ]);
    expect(await foundation.registry.checkHealth(SERVICES_NAMESPACE, 'db')).toEqual({
      status: 'healthy',
      details: { pool: 3 },
    });
    status = 'degraded';
    expect((await foundation.registry.checkHealth(SERVICES_NAMESPACE, 'db')).status).toBe('degraded');
    expect(Number.isInteger(foundation.status().uptimeMs)).toBe(true);
    await foundation.stop();
  });
});

describe('storage and events in the composition root', () => {
  it('refuses a bad store URL at once with FND_STORAGE_INVALID_URL', () => {
    for (const store of ['mysql://x', '', 'sqlite:', 'postgres://u:secret@h/db?schema=Bad', 'memory:/x']) {
      const error = thrown(() => createFoundation({ store }));
      expect(error).toMatchObject({ code: 'FND_STORAGE_INVALID_URL' });
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('event store methods throw FND_SYSTEM_SERVICE_UNAVAILABLE before start and after stop', async () => {
    const foundation = memoryFoundation();
    await expect(foundation.events.append({ type: 'a.b' })).rejects.toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
    });
    await foundation.start();
    const result = await foundation.events.append({ type: 'a.b', stream: 's-1', data: { n: 1 } });
    expect(result).toMatchObject({ streamVersion: 1, position: 1, idempotent: false });
    await foundation.stop();
    await expect(foundation.events.get(result.events[0]!.id)).rejects.toMatchObject({
      code: 'FND_SYSTEM_SERVICE_UNAVAILABLE',
    });
  });

  it('defaults to a SQLite file in the data directory that keeps events across restarts', async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, 'nested', 'data');
    const first = createFoundation({ dataDir });
    expect(first.storage.kind).toBe('sqlite');
    await first.start();
    expect(first.status().services.map((s) => s.name)).toEqual(BUILT_IN);
    expect(existsSync(join(dataDir, 'foundation.db'))).toBe(true);
    const appended = await first.events.append([
      { type: 'order.created', stream: 'order-1', data: { total: 12 } },
      { type: 'order.paid', stream: 'order-1', data: { total: 12 } },
    ]);
    const health = await first.health();
    expect(health.services.find((s) => s.name === 'storage')).toMatchObject({ status: 'healthy' });
    await first.stop();

    await using second = createFoundation({ dataDir });
    await second.start();
    const stream = await second.events.readStream('order-1');
    expect(stream.map((e) => [e.id, e.type, e.streamVersion])).toEqual(
      appended.events.map((e) => [e.id, e.type, e.streamVersion]),
    );
  });

  it('passes event limits to the event store', async () => {
    await using foundation = memoryFoundation({ events: { maxEventBytes: 200 } });
    await foundation.start();
    await expect(
      foundation.events.append({ type: 'big.one', data: { text: 'x'.repeat(500) } }),
    ).rejects.toMatchObject({ code: 'FND_EVENTS_TOO_LARGE' });
    expect((await foundation.events.query({})).events).toEqual([]);
  });

  it('reserves the service names storage and events', () => {
    const foundation = memoryFoundation();
    expect(() => foundation.add({ name: 'events', start: () => 1, stop: () => undefined })).toThrow();
  });
});
