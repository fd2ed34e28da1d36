import { afterEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import type { HealthReport } from '../kernel/service.js';
import { onTelemetry, type TelemetryMessage } from '../kernel/telemetry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ServiceRegistry } from './registry.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function setup(options: { defaultHealthTimeoutMs?: number } = {}): {
  clock: FakeClock;
  registry: ServiceRegistry;
} {
  const clock = new FakeClock();
  return { clock, registry: new ServiceRegistry({ clock, ...options }) };
}

/** A promise resolved only by calling `resolve` (an async health check the test controls). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('ServiceRegistry.checkHealth', () => {
  it('reports healthy for a service without a health check', async () => {
    const { registry } = setup();
    registry.register('app', 'db', {});
    await expect(registry.checkHealth('app', 'db')).resolves.toEqual({ status: 'healthy' });
  });

  it('passes the registered value and a signal to the check and returns its report', async () => {
    const { clock, registry } = setup();
    const pool = { connections: 3 };
    let seen: unknown;
    let signal: AbortSignal | undefined;
    registry.register('app', 'db', pool, {
      health: (value, s) => {
        seen = value;
        signal = s;
        return { status: 'degraded', message: 'one replica down', details: { replicas: 1 } };
      },
    });
    await expect(registry.checkHealth('app', 'db')).resolves.toEqual({
      status: 'degraded',
      message: 'one replica down',
      details: { replicas: 1 },
    });
    expect(seen).toBe(pool);
    expect(signal?.aborted).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('awaits an async check', async () => {
    const { registry } = setup();
    registry.register('app', 'db', 1, { health: async () => ({ status: 'healthy', message: 'ok' }) });
    await expect(registry.checkHealth('app', 'db')).resolves.toEqual({ status: 'healthy', message: 'ok' });
  });

  it('turns a throwing check into unhealthy with its message', async () => {
    const { registry } = setup();
    registry.register('app', 'sync', 1, {
      health: () => {
        throw new Error('connection refused');
      },
    });
    registry.register('app', 'async', 1, { health: () => Promise.reject(new Error('pool exhausted')) });
    await expect(registry.checkHealth('app', 'sync')).resolves.toEqual({
      status: 'unhealthy',
      message: 'connection refused',
      details: { code: 'FND_REGISTRY_HEALTH_FAILED' },
    });
    await expect(registry.checkHealth('app', 'async')).resolves.toMatchObject({
      status: 'unhealthy',
      message: 'pool exhausted',
    });
  });

  it('turns a malformed report into unhealthy', async () => {
    const { registry } = setup();
    registry.register('app', 'db', 1, { health: () => ({ status: 'fine' }) as unknown as HealthReport });
    const report = await registry.checkHealth('app', 'db');
    expect(report.status).toBe('unhealthy');
    expect(report.details).toEqual({ code: 'FND_REGISTRY_HEALTH_FAILED' });
  });

  it('times out on the clock: unhealthy with FND_REGISTRY_HEALTH_TIMEOUT, and aborts the check signal', async () => {
    const { clock, registry } = setup();
    const never = deferred<HealthReport>();
    let signal: AbortSignal | undefined;
    registry.register('app', 'db', 1, {
      health: (_value, s) => {
        signal = s;
        return never.promise;
      },
    });
    let report: HealthReport | undefined;
    void registry.checkHealth('app', 'db', { timeoutMs: 200 }).then((r) => {
      report = r;
    });
    await clock.advanceAsync(199);
    expect(report).toBeUndefined();
    expect(signal?.aborted).toBe(false);
    await clock.advanceAsync(1);
    expect(report).toEqual({
      status: 'unhealthy',
      message: 'health check timed out after 200 ms',
      details: { code: 'FND_REGISTRY_HEALTH_TIMEOUT' },
    });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ code: 'FND_REGISTRY_HEALTH_TIMEOUT' });
    never.resolve({ status: 'healthy' }); // a late answer changes nothing
    await clock.advanceAsync(0);
    expect(report?.status).toBe('unhealthy');
    expect(clock.pending()).toBe(0);
  });

  it('uses defaultHealthTimeoutMs (5000 unless configured)', async () => {
    const { clock, registry } = setup();
    const configured = new ServiceRegistry({ clock, defaultHealthTimeoutMs: 50 });
    const never = (): Promise<HealthReport> => deferred<HealthReport>().promise;
    registry.register('app', 'db', 1, { health: never });
    configured.register('app', 'db', 1, { health: never });
    const results: string[] = [];
    void registry.checkHealth('app', 'db').then((r) => results.push(`default:${r.message ?? ''}`));
    void configured.checkHealth('app', 'db').then((r) => results.push(`configured:${r.message ?? ''}`));
    await clock.advanceAsync(50);
    expect(results).toEqual(['configured:health check timed out after 50 ms']);
    await clock.advanceAsync(4_950);
    expect(results).toEqual([
      'configured:health check timed out after 50 ms',
      'default:health check timed out after 5000 ms',
    ]);
  });

  it('cancels the timeout timer when the check answers in time', async () => {
    const { clock, registry } = setup();
    const answer = deferred<HealthReport>();
    registry.register('app', 'db', 1, { health: () => answer.promise });
    const pending = registry.checkHealth('app', 'db', { timeoutMs: 100 });
    expect(clock.pending()).toBe(1);
    answer.resolve({ status: 'healthy' });
    await expect(pending).resolves.toEqual({ status: 'healthy' });
    expect(clock.pending()).toBe(0);
  });

  it('rejects FND_REGISTRY_NOT_FOUND for a service that is not registered', async () => {
    const { registry } = setup();
    const error = await registry.checkHealth('app', 'ghost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoundationError);
    expect(error).toMatchObject({
      code: 'FND_REGISTRY_NOT_FOUND',
      context: { namespace: 'app', name: 'ghost' },
    });
  });

  it('rejects FND_SYSTEM_ABORTED when the caller aborts, aborting the check too', async () => {
    const { clock, registry } = setup();
    let signal: AbortSignal | undefined;
    registry.register('app', 'db', 1, {
      health: (_v, s) => {
        signal = s;
        return deferred<HealthReport>().promise;
      },
    });
    const controller = new AbortController();
    const pending = registry.checkHealth('app', 'db', { signal: controller.signal });
    controller.abort(new Error('request closed'));
    await expect(pending).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED' });
    expect(signal?.aborted).toBe(true);
    expect(clock.pending()).toBe(0);
    await expect(registry.checkHealth('app', 'db', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'FND_SYSTEM_ABORTED',
    });
  });

  it('emits registry:health_checked with the duration on the clock and the status', async () => {
    const { clock, registry } = setup();
    const messages: TelemetryMessage[] = [];
    cleanups.push(onTelemetry('registry:health_checked', (m) => messages.push(m)));
    const answer = deferred<HealthReport>();
    registry.register('app', 'db', 1, { health: () => answer.promise });
    const pending = registry.checkHealth('app', 'db');
    await clock.advanceAsync(120);
    answer.resolve({ status: 'degraded' });
    await pending;
    expect(messages.map((m) => [m.measurements, m.metadata])).toEqual([
      [{ duration: 120 }, { namespace: 'app', name: 'db', status: 'degraded' }],
    ]);
  });
});

describe('ServiceRegistry.checkAll', () => {
  it('checks every service in parallel and returns sorted entries with their health', async () => {
    const { clock, registry } = setup();
    const started: string[] = [];
    const slow = deferred<HealthReport>();
    registry.register('b', 'slow', 1, {
      health: () => {
        started.push('slow');
        return slow.promise;
      },
    });
    registry.register('a', 'plain', 2);
    registry.register('b', 'broken', 3, {
      health: () => {
        started.push('broken');
        throw new Error('down');
      },
    });
    registry.register('b', 'stuck', 4, {
      health: () => {
        started.push('stuck');
        return deferred<HealthReport>().promise;
      },
    });
    const all = registry.checkAll({ timeoutMs: 100 });
    expect(started.sort()).toEqual(['broken', 'slow', 'stuck']); // all started before any settled
    await clock.advanceAsync(50);
    slow.resolve({ status: 'degraded' });
    await clock.advanceAsync(50);
    const results = await all;
    expect(results.map((r) => [r.namespace, r.name, r.health.status, r.uptimeMs])).toEqual([
      ['a', 'plain', 'healthy', 0],
      ['b', 'broken', 'unhealthy', 0],
      ['b', 'slow', 'degraded', 0],
      ['b', 'stuck', 'unhealthy', 0],
    ]);
    expect(results[3]?.health.details).toEqual({ code: 'FND_REGISTRY_HEALTH_TIMEOUT' });
    expect(results[0]?.hasHealthCheck).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('returns an empty array for an empty registry', async () => {
    const { registry } = setup();
    await expect(registry.checkAll()).resolves.toEqual([]);
  });
});
