import { afterEach, describe, expect, it } from 'vitest';
import { createFoundation, type FoundationStatus } from '../../src/app/foundation.js';
import { controlBusService, type ControlBus } from '../../src/server/index.js';
import { startControlBus, testService, type RunningControlBus } from '../helpers/control-bus.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface RegistryBody {
  entries: Array<{
    namespace: string;
    name: string;
    registeredAt: number;
    uptimeMs: number;
    metadata: Record<string, unknown>;
    hasHealthCheck: boolean;
    health?: { status: string; message?: string };
  }>;
}

describe('control bus API', () => {
  let running: RunningControlBus | undefined;
  afterEach(async () => {
    await running?.[Symbol.asyncDispose]();
    running = undefined;
  });

  it('GET /health/live answers 200 {status: ok} while running', async () => {
    running = await startControlBus();
    const response = await running.fetch('/health/live');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/ready lists every service when all are healthy', async () => {
    running = await startControlBus({
      services: [testService('db'), testService('cache', { dependencies: ['db'] })],
    });
    const response = await running.fetch('/health/ready');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      ready: boolean;
      state: string;
      services: unknown[];
    };
    expect(body).toMatchObject({ status: 'healthy', ready: true, state: 'running' });
    expect(body.services).toEqual(
      expect.arrayContaining([
        { name: 'db', status: 'healthy' },
        { name: 'cache', status: 'healthy' },
        expect.objectContaining({ name: 'control-bus', status: 'healthy' }),
      ]),
    );
  });

  it('GET /health/ready answers 503 problem+json naming the unhealthy service, and 200 once it recovers', async () => {
    let healthy = true;
    running = await startControlBus({
      services: [
        testService('db', {
          health: () =>
            healthy ? { status: 'healthy' } : { status: 'unhealthy', message: 'connection refused' },
        }),
        testService('cache'),
      ],
    });
    healthy = false;
    const problem = await expectProblem(
      await running.fetch('/health/ready'),
      503,
      'FND_SYSTEM_SERVICE_UNAVAILABLE',
    );
    expect(problem.detail).toBe('Foundation test-node is not ready: unhealthy db');
    expect(problem.state).toBe('running');
    expect(problem.services).toEqual([{ name: 'db', status: 'unhealthy', message: 'connection refused' }]);
    // liveness is not readiness: the process is still live
    expect((await running.fetch('/health/live')).status).toBe(200);
    healthy = true;
    expect((await running.fetch('/health/ready')).status).toBe(200);
  });

  it('a bus serving a failed foundation answers 503 to liveness and readiness', async () => {
    const watched = createFoundation({
      name: 'watched',
      store: 'memory:',
      services: [
        {
          name: 'broken',
          start: () => {
            throw new Error('boom');
          },
          stop: () => undefined,
        },
      ],
    });
    await expect(watched.start()).rejects.toMatchObject({ code: 'FND_LIFECYCLE_START_FAILED' });
    expect(watched.status().state).toBe('failed');
    // the bus runs in another foundation and reports on `watched`
    const host = createFoundation({ name: 'host', store: 'memory:' });
    host.add(controlBusService(watched, { port: 0 }));
    await host.start();
    try {
      const bus = host.registry.get<ControlBus>('services', 'control-bus');
      const live = await fetch(`${bus.url}/health/live`);
      const liveProblem = await expectProblem(live, 503, 'FND_SYSTEM_SERVICE_UNAVAILABLE');
      expect(liveProblem.detail).toBe('Foundation watched is not live (state failed)');
      expect(liveProblem.state).toBe('failed');
      const ready = await expectProblem(
        await fetch(`${bus.url}/health/ready`),
        503,
        'FND_SYSTEM_SERVICE_UNAVAILABLE',
      );
      expect(ready.state).toBe('failed');
      const status = (await (await fetch(`${bus.url}/api/status`)).json()) as FoundationStatus;
      expect(status.name).toBe('watched');
      // storage and events started and were rolled back; the broken service failed
      expect(status.services.map((s) => s.name)).toEqual([
        'storage',
        'config',
        'events',
        'projections',
        'broken',
      ]);
      const broken = status.services.find((s) => s.name === 'broken');
      expect(broken).toMatchObject({ name: 'broken', state: 'failed' });
      expect(broken?.lastError?.message).toContain('boom');
    } finally {
      await host.stop();
    }
  });

  it('a degraded service keeps the foundation ready', async () => {
    running = await startControlBus({
      services: [testService('db', { health: () => ({ status: 'degraded', message: 'replica lag' }) })],
    });
    const response = await running.fetch('/health/ready');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; services: unknown[] };
    expect(body.status).toBe('degraded');
    expect(body.services).toContainEqual({ name: 'db', status: 'degraded', message: 'replica lag' });
  });

  it('GET /api/status returns the foundation status with every supervised service', async () => {
    running = await startControlBus({
      name: 'orders',
      services: [testService('db'), testService('cache', { dependencies: ['db'] })],
    });
    const response = await running.fetch('/api/status');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const status = (await response.json()) as FoundationStatus;
    expect(status.id).toBe(running.foundation.id);
    expect(status.id).toMatch(UUID);
    expect(status.name).toBe('orders');
    expect(status.state).toBe('running');
    expect(status.restarts).toBe(0);
    expect(status.process.pid).toBe(process.pid);
    expect(status.process.node).toBe(process.version);
    expect(status.process.rssBytes).toBeGreaterThan(0);
    expect(status.services.map((s) => s.name)).toEqual([
      'storage',
      'config',
      'events',
      'projections',
      'db',
      'cache',
      'control-bus',
    ]);
    const cache = status.services.find((s) => s.name === 'cache');
    expect(cache).toMatchObject({
      state: 'running',
      restarts: 0,
      dependencies: ['db'],
      optionalDependencies: [],
      restartPolicy: 'permanent',
    });
    expect(cache?.lastError).toBeUndefined();
  });

  it('a service added while running shows up in /api/status and /api/registry', async () => {
    running = await startControlBus({ services: [testService('db')] });
    running.foundation.add(testService('mailer', { dependencies: ['db'] }));
    await running.foundation.registry.waitFor('services', 'mailer');
    const status = (await (await running.fetch('/api/status')).json()) as FoundationStatus;
    expect(status.services.find((s) => s.name === 'mailer')).toMatchObject({
      state: 'running',
      dependencies: ['db'],
    });
    const registry = (await (await running.fetch('/api/registry')).json()) as RegistryBody;
    expect(registry.entries.map((e) => `${e.namespace}/${e.name}`)).toEqual([
      'services/config',
      'services/control-bus',
      'services/db',
      'services/events',
      'services/mailer',
      'services/projections',
      'services/storage',
    ]);
  });

  it('GET /api/registry lists entries with their metadata, filters by namespace and runs health checks', async () => {
    running = await startControlBus({ services: [testService('db')] });
    const unregister = running.foundation.registry.register(
      'plugins',
      'geo',
      { ok: true },
      {
        metadata: { version: '1.2.0' },
        health: () => ({ status: 'degraded', message: 'stale data' }),
      },
    );
    try {
      const all = (await (await running.fetch('/api/registry')).json()) as RegistryBody;
      expect(all.entries.map((e) => `${e.namespace}/${e.name}`)).toEqual([
        'plugins/geo',
        'services/config',
        'services/control-bus',
        'services/db',
        'services/events',
        'services/projections',
        'services/storage',
      ]);
      const geo = all.entries[0]!;
      expect(geo).toMatchObject({ metadata: { version: '1.2.0' }, hasHealthCheck: true });
      expect(geo.registeredAt).toBeGreaterThan(0);
      expect(geo.health).toBeUndefined();

      const plugins = (await (await running.fetch('/api/registry?namespace=plugins')).json()) as RegistryBody;
      expect(plugins.entries.map((e) => e.name)).toEqual(['geo']);

      const none = (await (
        await running.fetch('/api/registry?namespace=nothing-here')
      ).json()) as RegistryBody;
      expect(none.entries).toEqual([]);

      const checked = (await (
        await running.fetch('/api/registry?namespace=plugins&health=true')
      ).json()) as RegistryBody;
      expect(checked.entries).toHaveLength(1);
      expect(checked.entries[0]!.health).toEqual({ status: 'degraded', message: 'stale data' });

      const allChecked = (await (await running.fetch('/api/registry?health=true')).json()) as RegistryBody;
      expect(allChecked.entries.map((e) => [e.name, e.health?.status])).toEqual([
        ['geo', 'degraded'],
        ['config', 'healthy'],
        ['control-bus', 'healthy'],
        ['db', 'healthy'],
        ['events', 'healthy'],
        ['projections', 'healthy'],
        ['storage', 'healthy'],
      ]);
    } finally {
      unregister();
    }
  });

  it('GET / serves the dashboard with a strict content security policy; its files are served too', async () => {
    running = await startControlBus();
    const page = await running.fetch('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('<script src="/app.js" defer></script>');
    expect(html).not.toMatch(/<script>(?!<)/);
    expect(html).not.toMatch(/ on[a-z]+="/);

    const script = await running.fetch('/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('new EventSource(STREAM_URL)');
    const style = await running.fetch('/style.css');
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('HEAD requests on GET routes answer without a body and need no token', async () => {
    running = await startControlBus();
    const response = await running.fetch('/api/status', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('echoes a valid x-correlation-id and creates one when absent', async () => {
    running = await startControlBus();
    const echoed = await running.fetch('/api/status', {
      headers: { 'x-correlation-id': 'req-42.abc:def_1' },
    });
    expect(echoed.headers.get('x-correlation-id')).toBe('req-42.abc:def_1');
    const fresh = await running.fetch('/api/status');
    expect(fresh.headers.get('x-correlation-id')).toMatch(UUID);
    const other = await running.fetch('/api/status');
    expect(other.headers.get('x-correlation-id')).not.toBe(fresh.headers.get('x-correlation-id'));
  });
});
