import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { Service, ServiceContext } from './service.js';
import {
  Supervisor,
  type AddServiceOptions,
  type SupervisorEvents,
  type SupervisorOptions,
} from './supervisor.js';
import { onTelemetry, type TelemetryMessage } from './telemetry.js';

interface Inst {
  readonly name: string;
  /** What `ctx.dependency(d)` returned at start, per declared dependency. */
  readonly seen: Readonly<Record<string, unknown>>;
}

interface Spec {
  readonly deps?: string[];
  readonly optional?: string[];
  /** The first `failStarts` calls of `start` throw `Error(<name> unreachable)`. */
  readonly failStarts?: number;
}

/** Builds services that log `start:x` / `stop:x` / `up:x<-d` / `down:x<-d`. */
class Probe {
  readonly log: string[] = [];
  readonly attempts = new Map<string, number>();
  readonly ctx = new Map<string, ServiceContext>();

  service(name: string, spec: Spec = {}): Service<Inst> {
    return {
      name,
      dependencies: spec.deps ?? [],
      optionalDependencies: spec.optional ?? [],
      start: (ctx) => {
        const attempt = (this.attempts.get(name) ?? 0) + 1;
        this.attempts.set(name, attempt);
        if (attempt <= (spec.failStarts ?? 0)) {
          this.log.push(`fail:${name}`);
          throw new Error(`${name} unreachable`);
        }
        this.ctx.set(name, ctx);
        this.log.push(`start:${name}`);
        const declared = [...(spec.deps ?? []), ...(spec.optional ?? [])];
        return { name, seen: Object.fromEntries(declared.map((d) => [d, ctx.dependency(d)])) };
      },
      stop: () => {
        this.log.push(`stop:${name}`);
      },
      onDependencyUp: (_inst, dep) => {
        this.log.push(`up:${name}<-${dep}`);
      },
      onDependencyDown: (_inst, dep) => {
        this.log.push(`down:${name}<-${dep}`);
      },
    };
  }
}

interface Harness {
  readonly clock: FakeClock;
  readonly probe: Probe;
  readonly sup: Supervisor;
  readonly failed: SupervisorEvents['service_failed'][];
  readonly escalated: SupervisorEvents['escalated'][];
  add(name: string, spec?: Spec, options?: AddServiceOptions): void;
  advance(ms: number): Promise<void>;
  states(): Record<string, string>;
}

function harness(options: SupervisorOptions = {}): Harness {
  const clock = new FakeClock();
  const sup = new Supervisor({
    clock,
    restartBackoffMs: { initial: 100, max: 1000 },
    maxRestarts: 5,
    withinMs: 10_000,
    ...options,
  });
  const probe = new Probe();
  const failed: SupervisorEvents['service_failed'][] = [];
  const escalated: SupervisorEvents['escalated'][] = [];
  sup.on('service_failed', (e) => failed.push(e));
  sup.on('escalated', (e) => escalated.push(e));
  return {
    clock,
    probe,
    sup,
    failed,
    escalated,
    add: (name, spec = {}, addOptions = {}) => {
      sup.add(probe.service(name, spec), addOptions);
    },
    advance: async (ms) => {
      await sup.settled();
      await clock.advanceAsync(ms);
      await sup.settled();
    },
    states: () => Object.fromEntries(sup.status().services.map((s) => [s.name, s.state])),
  };
}

async function rejection(promise: Promise<unknown>): Promise<FoundationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('Supervisor boot policy', () => {
  it('a background cache that fails at boot does not stop the api; api gets it when it comes up', async () => {
    const h = harness();
    h.add('cache', { failStarts: 2 }, { boot: 'background' });
    h.add('api', { optional: ['cache'] });
    const restarts: TelemetryMessage[] = [];
    const off = onTelemetry('supervisor:restart', (m) => restarts.push(m));
    try {
      await h.sup.start();
      expect(h.sup.state).toBe('running');
      expect(h.states()).toEqual({ cache: 'backoff', api: 'running' });
      expect(h.sup.instance<Inst>('api')?.seen).toEqual({ cache: undefined });
      expect(h.failed.map((f) => [f.name, f.error.code, f.willRestart])).toEqual([
        ['cache', 'FND_LIFECYCLE_START_FAILED', true],
      ]);
      expect((h.failed[0]?.error.cause as Error).message).toBe('cache unreachable');
      const health = await h.sup.health();
      expect(health.status).toBe('unhealthy');
      expect(health.services).toEqual([
        {
          name: 'cache',
          status: 'unhealthy',
          message: 'service is backoff: Service "cache" failed to start: cache unreachable',
        },
        { name: 'api', status: 'healthy' },
      ]);
      expect(h.sup.status().services.map((s) => [s.name, s.boot, s.restarts])).toEqual([
        ['cache', 'background', 0],
        ['api', 'required', 0],
      ]);

      // First retry after 100 ms fails again: backoff doubles to 200 ms.
      await h.advance(100);
      expect(h.states()).toEqual({ cache: 'backoff', api: 'running' });
      expect(h.failed).toHaveLength(2);
      await h.advance(199);
      expect(h.states().cache).toBe('backoff');
      await h.advance(1);
    } finally {
      off();
    }
    expect(h.states()).toEqual({ cache: 'running', api: 'running' });
    expect(h.probe.log).toEqual(['fail:cache', 'start:api', 'fail:cache', 'start:cache', 'up:api<-cache']);
    const cache = h.sup.status().services[0];
    expect(cache?.restarts).toBe(2);
    expect(cache?.lastError?.code).toBe('FND_LIFECYCLE_START_FAILED');
    expect(restarts.map((m) => [m.metadata.service, m.measurements.restarts])).toEqual([
      ['cache', 1],
      ['cache', 2],
    ]);
    expect(h.probe.ctx.get('api')?.dependency('cache')).toBe(h.sup.instance('cache'));
    expect((await h.sup.health()).status).toBe('healthy');
    await h.sup.stop();
    // Both go down: api is not told (it is stopping too), and it stops first.
    expect(h.probe.log.slice(-2)).toEqual(['stop:api', 'stop:cache']);
    expect(h.clock.pending()).toBe(0);
  });

  it('onDependencyUp receives the instance the background service started with', async () => {
    const clock = new FakeClock();
    const sup = new Supervisor({ clock, restartBackoffMs: { initial: 50, max: 50 } });
    let connected = false;
    const got: [string, unknown][] = [];
    sup.add(
      {
        name: 'cache',
        start: () => {
          if (!connected) throw new Error('ECONNREFUSED');
          return { client: 'redis' };
        },
        stop: () => undefined,
      },
      { boot: 'background' },
    );
    sup.add({
      name: 'api',
      optionalDependencies: ['cache'],
      start: (ctx) => ({ cache: ctx.dependency('cache') }),
      stop: () => undefined,
      onDependencyUp: (_api, name, dependency) => got.push([name, dependency]),
    });
    await sup.start();
    expect(sup.instance('api')).toEqual({ cache: undefined });
    connected = true;
    await clock.advanceAsync(50);
    await sup.settled();
    expect(got).toEqual([['cache', { client: 'redis' }]]);
    expect(got[0]?.[1]).toBe(sup.instance('cache'));
    await sup.stop();
  });

  it('services requiring a background service wait (not failures) and start after it', async () => {
    const h = harness();
    h.add('db', { failStarts: 1 }, { boot: 'background' });
    h.add('repo', { deps: ['db'] });
    h.add('web', { deps: ['repo'] });
    h.add('other');
    await h.sup.start();
    expect(h.sup.state).toBe('running');
    expect(h.states()).toEqual({ db: 'backoff', repo: 'waiting', web: 'waiting', other: 'running' });
    expect(h.failed.map((f) => f.name)).toEqual(['db']);
    const health = await h.sup.health();
    expect(health.status).toBe('unhealthy');
    expect(health.services.map((s) => [s.name, s.status])).toEqual([
      ['db', 'unhealthy'],
      ['repo', 'unhealthy'],
      ['web', 'unhealthy'],
      ['other', 'healthy'],
    ]);
    expect(health.services[1]?.message).toBe('service is waiting');
    await h.advance(100);
    expect(h.probe.log).toEqual(['fail:db', 'start:other', 'start:db', 'start:repo', 'start:web']);
    expect(h.states()).toEqual({ db: 'running', repo: 'running', web: 'running', other: 'running' });
    expect(h.sup.instance<Inst>('repo')?.seen).toEqual({ db: h.sup.instance('db') });
    expect(h.sup.status().services.map((s) => s.restarts)).toEqual([1, 0, 0, 0]);
    expect(h.failed).toHaveLength(1);
    expect((await h.sup.health()).status).toBe('healthy');
    await h.sup.stop();
  });

  it('a background service failing beyond the restart intensity escalates as usual', async () => {
    const h = harness({ maxRestarts: 2, withinMs: 10_000 });
    h.add('cache', { failStarts: 99 }, { boot: 'background' });
    h.add('api', { optional: ['cache'] });
    await h.sup.start(); // failure 1 (counted)
    await h.advance(100); // failure 2
    expect(h.escalated).toEqual([]);
    await h.advance(200); // failure 3: more than 2 within 10 s
    expect(h.escalated).toHaveLength(1);
    const status = h.sup.status();
    expect(status.state).toBe('failed');
    expect(status.escalated?.code).toBe('FND_LIFECYCLE_RESTART_INTENSITY');
    expect(status.escalated?.context).toEqual({ service: 'cache', maxRestarts: 2, withinMs: 10_000 });
    expect((status.escalated?.cause as FoundationError).code).toBe('FND_LIFECYCLE_START_FAILED');
    expect(h.states()).toEqual({ cache: 'failed', api: 'stopped' });
    expect(h.probe.log.at(-1)).toBe('stop:api');
    expect(h.clock.pending()).toBe(0);
    expect((await h.sup.health()).status).toBe('unhealthy');
  });

  it('a background failure that exceeds the intensity during start() rejects start() with the escalation', async () => {
    const h = harness({ maxRestarts: 0 });
    h.add('db');
    h.add('cache', { failStarts: 1 }, { boot: 'background' });
    h.add('api', { deps: ['db'] });
    const error = await rejection(h.sup.start());
    expect(error.code).toBe('FND_LIFECYCLE_RESTART_INTENSITY');
    expect(error).toBe(h.sup.status().escalated);
    expect(h.sup.state).toBe('failed');
    expect(h.states()).toEqual({ db: 'stopped', cache: 'failed', api: 'stopped' });
    expect(h.probe.log).toEqual(['start:db', 'fail:cache', 'stop:db']);
    expect(h.clock.pending()).toBe(0);
  });

  it('a temporary background service that fails at boot stays failed, uncounted; its dependants wait', async () => {
    const h = harness({ maxRestarts: 0 });
    h.add('cache', { failStarts: 1 }, { boot: 'background', restart: 'temporary' });
    h.add('api', { optional: ['cache'] });
    h.add('reports', { deps: ['cache'] });
    await h.sup.start();
    expect(h.sup.state).toBe('running');
    expect(h.states()).toEqual({ cache: 'failed', api: 'running', reports: 'waiting' });
    expect(h.failed.map((f) => [f.name, f.willRestart])).toEqual([['cache', false]]);
    expect(h.clock.pending()).toBe(0);
    await h.advance(10_000);
    expect(h.states()).toEqual({ cache: 'failed', api: 'running', reports: 'waiting' });
    await h.sup.stop();
  });

  it('required (the default) still rolls everything back, cancelling background retries', async () => {
    const h = harness();
    h.add('cache', { failStarts: 1 }, { boot: 'background' });
    h.add('db');
    h.add('queue', { failStarts: 1 });
    const error = await rejection(h.sup.start());
    expect(error.code).toBe('FND_LIFECYCLE_START_FAILED');
    expect(error.context).toEqual({ service: 'queue' });
    expect(h.sup.state).toBe('failed');
    expect(h.states()).toEqual({ cache: 'failed', db: 'stopped', queue: 'failed' });
    expect(h.probe.log).toEqual(['fail:cache', 'start:db', 'fail:queue', 'stop:db']);
    expect(h.clock.pending()).toBe(0);
    // A new start succeeds (every start now works) and resets the counters.
    await h.sup.start();
    expect(h.states()).toEqual({ cache: 'running', db: 'running', queue: 'running' });
    expect(h.sup.status().services.map((s) => s.restarts)).toEqual([0, 0, 0]);
    await h.sup.stop();
  });

  it('stop() during the backoff of a background service cancels its retry', async () => {
    const h = harness();
    h.add('cache', { failStarts: 5 }, { boot: 'background' });
    h.add('api', { deps: ['cache'] });
    await h.sup.start();
    expect(h.clock.pending()).toBe(1);
    await h.sup.stop();
    expect(h.sup.state).toBe('stopped');
    expect(h.clock.pending()).toBe(0);
    expect(h.states()).toEqual({ cache: 'stopped', api: 'stopped' });
    await h.advance(10_000);
    expect(h.probe.attempts.get('cache')).toBe(1);
  });

  it('a background service that exceeds startTimeoutMs goes to backoff and is retried', async () => {
    const clock = new FakeClock();
    const sup = new Supervisor({ clock, startTimeoutMs: 1000, restartBackoffMs: { initial: 10, max: 10 } });
    let attempts = 0;
    sup.add(
      {
        name: 'slow',
        start: () => (++attempts === 1 ? new Promise<string>(() => undefined) : 'ok'),
        stop: () => undefined,
      },
      { boot: 'background' },
    );
    const starting = sup.start();
    await clock.advanceAsync(1000);
    await starting;
    expect(sup.status().services[0]).toMatchObject({
      state: 'backoff',
      lastError: { code: 'FND_LIFECYCLE_START_FAILED' },
    });
    await clock.advanceAsync(10);
    await sup.settled();
    expect(sup.instance('slow')).toBe('ok');
    await sup.stop();
    expect(clock.pending()).toBe(0);
  });

  it('rest_for_one: services after a failed background service still start at boot', async () => {
    const h = harness({ strategy: 'rest_for_one' });
    h.add('a');
    h.add('cache', { failStarts: 1 }, { boot: 'background' });
    h.add('b');
    await h.sup.start();
    expect(h.states()).toEqual({ a: 'running', cache: 'backoff', b: 'running' });
    await h.advance(100);
    expect(h.states()).toEqual({ a: 'running', cache: 'running', b: 'running' });
    expect(h.probe.log).toEqual(['start:a', 'fail:cache', 'start:b', 'start:cache']);
    await h.sup.stop();
  });

  it('rejects an unknown boot policy and reports the policy in status()', () => {
    const h = harness();
    let error: unknown;
    try {
      h.sup.add(h.probe.service('x'), { boot: 'sometimes' as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FoundationError);
    expect((error as FoundationError).code).toBe('FND_LIFECYCLE_INVALID_SERVICE');
    expect((error as FoundationError).context).toEqual({ service: 'x', boot: 'sometimes' });
    expect(h.sup.status().services).toEqual([]);
    h.add('y');
    h.add('z', {}, { boot: 'background', restart: 'transient' });
    expect(h.sup.status().services.map((s) => [s.boot, s.restartPolicy])).toEqual([
      ['required', 'permanent'],
      ['background', 'transient'],
    ]);
  });
});
