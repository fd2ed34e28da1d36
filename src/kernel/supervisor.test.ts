import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { HealthReport, Service, ServiceContext } from './service.js';
import { Supervisor } from './supervisor.js';
import { onTelemetry, type TelemetryMessage } from './telemetry.js';

interface Inst {
  readonly name: string;
  readonly n: number;
  readonly ctx: ServiceContext;
}

interface Hooks {
  deps?: string[];
  optional?: string[];
  start?: (ctx: ServiceContext) => Promise<void> | void;
  stop?: () => Promise<void> | void;
  health?: (signal: AbortSignal) => Promise<HealthReport> | HealthReport;
}

/** Builds services that log `start:x` / `stop:x` and keep their latest context. */
class Probe {
  readonly log: string[] = [];
  readonly ctx = new Map<string, ServiceContext>();
  #n = 0;

  service(name: string, hooks: Hooks = {}): Service<Inst> {
    const svc: Service<Inst> = {
      name,
      dependencies: hooks.deps ?? [],
      optionalDependencies: hooks.optional ?? [],
      start: async (ctx) => {
        this.ctx.set(name, ctx);
        await hooks.start?.(ctx);
        this.log.push(`start:${name}`);
        return { name, n: ++this.#n, ctx };
      },
      stop: async () => {
        this.log.push(`stop:${name}`);
        await hooks.stop?.();
      },
    };
    const health = hooks.health;
    return health === undefined ? svc : { ...svc, health: (_i, signal) => health(signal) };
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

async function rejection(promise: Promise<unknown>): Promise<FoundationError> {
  try {
    await promise;
  } catch (error) {
    return error as FoundationError;
  }
  throw new Error('expected a rejection');
}

describe('Supervisor start and stop', () => {
  it('starts in dependency order, stops in reverse, and reports status', async () => {
    const clock = new FakeClock();
    const probe = new Probe();
    const sup = new Supervisor({ clock });
    sup.add(probe.service('http', { deps: ['db', 'cache'] }));
    sup.add(probe.service('db'));
    sup.add(probe.service('cache', { deps: ['db'] }));
    expect(sup.status().state).toBe('idle');
    await sup.start();
    expect(probe.log).toEqual(['start:db', 'start:cache', 'start:http']);
    await clock.advanceAsync(250);
    const status = sup.status();
    expect(status.state).toBe('running');
    expect(status.services.map((s) => [s.name, s.state, s.uptimeMs])).toEqual([
      ['db', 'running', 250],
      ['cache', 'running', 250],
      ['http', 'running', 250],
    ]);
    expect(status.services[2]?.dependencies).toEqual(['db', 'cache']);
    expect(status.services[0]?.restartPolicy).toBe('permanent');
    expect(sup.instance<Inst>('db')?.name).toBe('db');
    await sup.start(); // already running: no-op
    await sup.stop();
    expect(probe.log.slice(3)).toEqual(['stop:http', 'stop:cache', 'stop:db']);
    expect(sup.status().services.every((s) => s.state === 'stopped' && s.uptimeMs === 0)).toBe(true);
    expect(sup.instance('db')).toBeUndefined();
    await sup.stop(); // idempotent
    expect(probe.log).toHaveLength(6);
    expect(sup.status().state).toBe('stopped');
  });

  it('property: on random DAGs each service starts after its required deps and stops before them', async () => {
    const dag = fc
      .integer({ min: 1, max: 8 })
      .chain((n) =>
        fc.tuple(
          ...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`))),
        ),
      );
    await fc.assert(
      fc.asyncProperty(dag, fc.boolean(), async (deps, reverseInsert) => {
        const probe = new Probe();
        const sup = new Supervisor({ clock: new FakeClock() });
        const indices = deps.map((_, i) => i);
        for (const i of reverseInsert ? indices.reverse() : indices) {
          sup.add(probe.service(`s${i}`, { deps: deps[i] ?? [] }));
        }
        await sup.start();
        await sup.stop();
        const at = (entry: string): number => probe.log.indexOf(entry);
        expect(probe.log).toHaveLength(deps.length * 2);
        deps.forEach((required, i) => {
          for (const d of required) {
            expect(at(`start:${d}`)).toBeLessThan(at(`start:s${i}`));
            expect(at(`stop:${d}`)).toBeGreaterThan(at(`stop:s${i}`));
          }
        });
      }),
    );
  });

  it('a dependency cycle or a missing dependency rejects start and starts nothing', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    sup.add(probe.service('a', { deps: ['b'] }));
    sup.add(probe.service('b', { deps: ['a'] }));
    sup.add(probe.service('c'));
    const cycle = await rejection(sup.start());
    expect(cycle.code).toBe('FND_LIFECYCLE_DEPENDENCY_CYCLE');
    expect(cycle.context).toEqual({ cycle: ['a', 'b', 'a'] });
    await sup.remove('b');
    const missing = await rejection(sup.start());
    expect(missing.code).toBe('FND_LIFECYCLE_MISSING_DEPENDENCY');
    expect(missing.context).toEqual({ service: 'a', dependency: 'b' });
    expect(probe.log).toEqual([]);
    expect(sup.status().state).toBe('idle');
  });

  it('a failing start rolls back the started services in reverse order', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    const boom = new Error('no connection');
    sup.add(probe.service('a'));
    sup.add(probe.service('b', { deps: ['a'] }));
    sup.add(
      probe.service('c', {
        deps: ['b'],
        start: () => {
          throw boom;
        },
      }),
    );
    sup.add(probe.service('d', { deps: ['c'] }));
    const error = await rejection(sup.start());
    expect(error.code).toBe('FND_LIFECYCLE_START_FAILED');
    expect(error.context).toEqual({ service: 'c' });
    expect(error.cause).toBe(boom);
    expect(probe.log).toEqual(['start:a', 'start:b', 'stop:b', 'stop:a']);
    const status = sup.status();
    expect(status.state).toBe('failed');
    expect(status.services.map((s) => s.state)).toEqual(['stopped', 'stopped', 'failed', 'pending']);
    expect(status.services[2]?.lastError?.code).toBe('FND_LIFECYCLE_START_FAILED');
    // A failed supervisor can be started again once the cause is gone.
    await sup.remove('d');
    await sup.remove('c');
    await sup.start();
    expect(sup.status().state).toBe('running');
  });

  it('a start exceeding startTimeoutMs rolls back and aborts its signal', async () => {
    const clock = new FakeClock();
    const probe = new Probe();
    const sup = new Supervisor({ clock, startTimeoutMs: 1000 });
    let entered!: () => void;
    const inStart = new Promise<void>((resolve) => (entered = resolve));
    let signal: AbortSignal | undefined;
    sup.add(probe.service('a'));
    sup.add(
      probe.service('slow', {
        start: (ctx) => {
          signal = ctx.signal;
          entered();
          return never();
        },
      }),
    );
    const started = rejection(sup.start());
    await inStart;
    await clock.advanceAsync(999);
    expect(sup.status().state).toBe('starting');
    await clock.advanceAsync(1);
    const error = await started;
    expect(error.code).toBe('FND_LIFECYCLE_START_FAILED');
    expect(error.context).toEqual({ service: 'slow', timeoutMs: 1000 });
    expect(signal?.aborted).toBe(true);
    expect(probe.log).toEqual(['start:a', 'stop:a']);
  });

  it('a hanging stop times out without blocking the other stops; a throwing stop is recorded', async () => {
    const clock = new FakeClock();
    const probe = new Probe();
    const sup = new Supervisor({ clock, stopTimeoutMs: 500 });
    sup.add(probe.service('a'));
    sup.add(probe.service('hang', { deps: ['a'], stop: () => never() }));
    sup.add(
      probe.service('throws', {
        deps: ['hang'],
        stop: () => {
          throw new Error('socket busy');
        },
      }),
    );
    await sup.start();
    const signals = ['a', 'hang', 'throws'].map((n) => probe.ctx.get(n)?.signal);
    const stopped = sup.stop();
    await clock.advanceAsync(500);
    await stopped;
    expect(probe.log.slice(3)).toEqual(['stop:throws', 'stop:hang', 'stop:a']);
    const byName = new Map(sup.status().services.map((s) => [s.name, s]));
    expect(byName.get('hang')?.lastError?.code).toBe('FND_LIFECYCLE_STOP_TIMEOUT');
    expect(byName.get('throws')?.lastError).toMatchObject({
      code: 'FND_LIFECYCLE_STOP_FAILED',
      message: 'Service "throws" failed to stop: socket busy',
    });
    expect(byName.get('a')?.lastError).toBeUndefined();
    expect(signals.map((s) => s?.aborted)).toEqual([true, true, true]);
    expect(sup.status().state).toBe('stopped');
  });

  it('stop during start stops what started and rejects the start', async () => {
    const clock = new FakeClock();
    const probe = new Probe();
    const sup = new Supervisor({ clock });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inStart = new Promise<void>((resolve) => (entered = resolve));
    sup.add(
      probe.service('a', {
        start: () => {
          entered();
          return gate;
        },
      }),
    );
    sup.add(probe.service('b'));
    const started = rejection(sup.start());
    await inStart;
    const stopped = sup.stop();
    expect(sup.status().state).toBe('stopping');
    release();
    const error = await started;
    await stopped;
    expect(error.code).toBe('FND_LIFECYCLE_INVALID_STATE');
    expect(probe.log).toEqual(['start:a', 'stop:a']);
    expect(sup.status().state).toBe('stopped');
  });

  it('stop right after start (before any service started) starts nothing', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    sup.add(probe.service('a'));
    const started = rejection(sup.start());
    await sup.stop();
    expect((await started).code).toBe('FND_LIFECYCLE_INVALID_STATE');
    expect(probe.log).toEqual([]);
    expect(sup.status().services.map((s) => s.state)).toEqual(['stopped']);
  });

  it('adding while running starts the service and checks its required dependencies', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    sup.add(probe.service('db'));
    await sup.start();
    expect(() => {
      sup.add(probe.service('api', { deps: ['nope'] }));
    }).toThrow(expect.objectContaining({ code: 'FND_LIFECYCLE_MISSING_DEPENDENCY' }) as Error);
    sup.add(probe.service('api', { deps: ['db'] }));
    await sup.settled();
    expect(probe.log).toEqual(['start:db', 'start:api']);
    expect(probe.ctx.get('api')?.dependency<Inst>('db')?.name).toBe('db');
    expect(probe.ctx.get('api')?.dependency('undeclared')).toBeUndefined();
  });

  it('remove stops required dependants first, keeps them waiting, and forgets the service', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    sup.add(probe.service('db'));
    sup.add(probe.service('api', { deps: ['db'] }));
    sup.add(probe.service('other'));
    await sup.start();
    await sup.remove('db');
    await sup.remove('unknown');
    expect(probe.log.slice(3)).toEqual(['stop:api', 'stop:db']);
    expect(sup.status().services.map((s) => [s.name, s.state])).toEqual([
      ['api', 'waiting'],
      ['other', 'running'],
    ]);
    sup.add(probe.service('db'));
    await sup.settled();
    expect(probe.log.slice(5)).toEqual(['start:db', 'start:api']);
    expect(sup.status().services.every((s) => s.state === 'running')).toBe(true);
  });

  it('Symbol.asyncDispose stops the supervisor', async () => {
    const probe = new Probe();
    {
      await using sup = new Supervisor({ clock: new FakeClock() });
      sup.add(probe.service('a'));
      await sup.start();
    }
    expect(probe.log).toEqual(['start:a', 'stop:a']);
  });

  it('emits events and telemetry', async () => {
    const probe = new Probe();
    const sup = new Supervisor({ clock: new FakeClock() });
    const events: string[] = [];
    sup.on('service_starting', ({ name }) => events.push(`starting:${name}`));
    const off = sup.on('service_started', ({ name, restarts }) => events.push(`started:${name}:${restarts}`));
    sup.on('service_stopped', ({ name }) => events.push(`stopped:${name}`));
    const telemetry: TelemetryMessage[] = [];
    const unsubscribe = [
      onTelemetry('supervisor:service_started', (m) => telemetry.push(m)),
      onTelemetry('supervisor:service_stopped', (m) => telemetry.push(m)),
    ];
    try {
      sup.add(probe.service('a'));
      await sup.start();
      off();
      await sup.stop();
    } finally {
      for (const u of unsubscribe) u();
    }
    expect(events).toEqual(['starting:a', 'started:a:0', 'stopped:a']);
    expect(telemetry.map((m) => [m.name, m.metadata.service])).toEqual([
      ['supervisor:service_started', 'a'],
      ['supervisor:service_stopped', 'a'],
    ]);
    expect(typeof telemetry[0]?.measurements.duration).toBe('number');
  });
});

describe('Supervisor health', () => {
  it('aggregates service health: missing fn, degraded, throwing, never resolving, not running', async () => {
    const clock = new FakeClock();
    const probe = new Probe();
    const sup = new Supervisor({ clock });
    let hangSignal: AbortSignal | undefined;
    sup.add(probe.service('plain'));
    sup.add(probe.service('tired', { health: () => ({ status: 'degraded', message: 'slow disk' }) }));
    expect((await sup.health()).status).toBe('unhealthy'); // not started yet
    await sup.start();
    expect(await sup.health()).toEqual({
      status: 'degraded',
      services: [
        { name: 'plain', status: 'healthy' },
        { name: 'tired', status: 'degraded', message: 'slow disk' },
      ],
    });
    sup.add(
      probe.service('broken', {
        health: () => {
          throw new Error('db unreachable');
        },
      }),
    );
    sup.add(
      probe.service('hang', {
        health: (signal) => {
          hangSignal = signal;
          return never();
        },
      }),
    );
    await sup.settled();
    const pending = sup.health({ timeoutMs: 200 });
    await clock.advanceAsync(200);
    const report = await pending;
    expect(report.status).toBe('unhealthy');
    expect(report.services.slice(2)).toEqual([
      { name: 'broken', status: 'unhealthy', message: 'health check failed: db unreachable' },
      { name: 'hang', status: 'unhealthy', message: 'health check timed out after 200 ms' },
    ]);
    expect(hangSignal?.aborted).toBe(true);
    await sup.stop();
    const stopped = await sup.health();
    expect(stopped.services.map((s) => s.message)).toEqual([
      'service is stopped',
      'service is stopped',
      'service is stopped',
      'service is stopped',
    ]);
  });

  it('an empty running supervisor is healthy', async () => {
    const sup = new Supervisor({ clock: new FakeClock() });
    await sup.start();
    expect(await sup.health()).toEqual({ status: 'healthy', services: [] });
  });
});
