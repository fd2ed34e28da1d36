import { describe, expect, it } from 'vitest';
import { createFoundation, isFoundationError, SERVICES_NAMESPACE, type Service } from '../../src/index.js';

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
    const foundation = createFoundation({ name: 'orders' });
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
      ['db', 'running'],
      ['cache', 'running'],
      ['api', 'running'],
    ]);
    expect(foundation.registry.lookup(SERVICES_NAMESPACE, 'db')).toEqual({ name: 'db' });
    expect(foundation.registry.list(SERVICES_NAMESPACE).map((e) => e.name)).toEqual(['api', 'cache', 'db']);

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
    const a = createFoundation({ name: 'a', services: [recordingService('db', logA)] });
    const b = createFoundation({ name: 'b', services: [recordingService('db', logB)] });
    await a.start();
    expect(a.registry.has(SERVICES_NAMESPACE, 'db')).toBe(true);
    expect(b.registry.has(SERVICES_NAMESPACE, 'db')).toBe(false);
    expect(b.status().state).toBe('idle');
    await b.start();
    await a.stop();
    expect(a.registry.has(SERVICES_NAMESPACE, 'db')).toBe(false);
    expect(b.registry.has(SERVICES_NAMESPACE, 'db')).toBe(true);
    expect(b.status().services[0]?.state).toBe('running');
    expect(a.id).not.toBe(b.id);
    expect(logA).toEqual(['start:db', 'stop:db']);
    expect(logB).toEqual(['start:db']);
    await b.stop();
  });

  it('rolls back and reports FND_LIFECYCLE_START_FAILED when a service cannot start', async () => {
    const log: string[] = [];
    const foundation = createFoundation({
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
    const health = await foundation.health();
    expect(health.ready).toBe(false);
  });

  it('reports not ready while a service is unhealthy, and disposes with await using', async () => {
    let healthy = true;
    {
      await using foundation = createFoundation({
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
      expect(health.services).toEqual([{ name: 'flaky', status: 'unhealthy', message: 'down' }]);
      healthy = true;
    }
  });

  it('rejects registry waiters when it stops', async () => {
    const foundation = createFoundation();
    await foundation.start();
    const waiting = foundation.registry.waitFor('services', 'never');
    await foundation.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED' });
  });
});

describe('registry health of supervised services', () => {
  it('runs the service definition health check through the registry', async () => {
    let status: 'healthy' | 'degraded' = 'healthy';
    const foundation = createFoundation({
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
    expect(foundation.registry.list(SERVICES_NAMESPACE)[0]?.hasHealthCheck).toBe(true);
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
