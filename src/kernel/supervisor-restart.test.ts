import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import type { Service, ServiceContext } from './service.js';
import { Supervisor, type SupervisorEvents, type SupervisorOptions } from './supervisor.js';
import { onTelemetry, type TelemetryMessage } from './telemetry.js';

interface Inst {
  readonly name: string;
  readonly n: number;
}

interface Hooks {
  deps?: string[];
  optional?: string[];
  start?: (ctx: ServiceContext) => Promise<void> | void;
  up?: (inst: Inst, name: string, dep: unknown) => void;
  down?: (inst: Inst, name: string) => void;
}

/** Builds services that log `start:x` / `stop:x` and keep their latest context. */
class Probe {
  readonly log: string[] = [];
  readonly ctx = new Map<string, ServiceContext>();
  #n = 0;

  service(name: string, hooks: Hooks = {}): Service<Inst> {
    return {
      name,
      dependencies: hooks.deps ?? [],
      optionalDependencies: hooks.optional ?? [],
      start: async (ctx) => {
        this.ctx.set(name, ctx);
        await hooks.start?.(ctx);
        this.log.push(`start:${name}`);
        return { name, n: ++this.#n };
      },
      stop: () => {
        this.log.push(`stop:${name}`);
      },
      onDependencyUp: (inst, dep, value) => {
        this.log.push(`up:${name}<-${dep}`);
        hooks.up?.(inst, dep, value);
      },
      onDependencyDown: (inst, dep) => {
        this.log.push(`down:${name}<-${dep}`);
        hooks.down?.(inst, dep);
      },
    };
  }

  /** Reports a run-time failure of the current instance of `name`. */
  fail(name: string, message = `${name} crashed`): void {
    this.ctx.get(name)?.fail(new Error(message));
  }
}

interface Harness {
  readonly clock: FakeClock;
  readonly probe: Probe;
  readonly sup: Supervisor;
  readonly failed: SupervisorEvents['service_failed'][];
  readonly escalated: SupervisorEvents['escalated'][];
  /** Advances fake time and waits for the lifecycle queue. */
  advance(ms: number): Promise<void>;
}

function harness(options: SupervisorOptions = {}): Harness {
  const clock = new FakeClock();
  const sup = new Supervisor({ clock, restartBackoffMs: { initial: 10, max: 1000 }, ...options });
  const failed: SupervisorEvents['service_failed'][] = [];
  const escalated: SupervisorEvents['escalated'][] = [];
  sup.on('service_failed', (e) => failed.push(e));
  sup.on('escalated', (e) => escalated.push(e));
  return {
    clock,
    probe: new Probe(),
    sup,
    failed,
    escalated,
    advance: async (ms) => {
      await sup.settled();
      await clock.advanceAsync(ms);
      await sup.settled();
    },
  };
}

function states(sup: Supervisor): Record<string, string> {
  return Object.fromEntries(sup.status().services.map((s) => [s.name, s.state]));
}

describe('Supervisor restarts', () => {
  it('one_for_one restarts only the failed service after the backoff delay', async () => {
    const h = harness();
    for (const n of ['a', 'b', 'c']) h.sup.add(h.probe.service(n));
    await h.sup.start();
    const telemetry: TelemetryMessage[] = [];
    const off = onTelemetry('supervisor:restart', (m) => telemetry.push(m));
    try {
      h.probe.fail('b', 'disk full');
      await h.advance(0);
      expect(states(h.sup)).toEqual({ a: 'running', b: 'backoff', c: 'running' });
      expect(h.failed).toHaveLength(1);
      expect(h.failed[0]?.willRestart).toBe(true);
      expect(h.failed[0]?.error.code).toBe('FND_LIFECYCLE_SERVICE_FAILED');
      expect((h.failed[0]?.error.cause as Error).message).toBe('disk full');
      expect(h.sup.status().services[1]?.lastError).toMatchObject({
        code: 'FND_LIFECYCLE_SERVICE_FAILED',
        message: 'Service "b" failed: disk full',
        at: h.clock.now(),
      });
      await h.advance(9);
      expect(states(h.sup).b).toBe('backoff');
      await h.advance(1);
    } finally {
      off();
    }
    expect(states(h.sup)).toEqual({ a: 'running', b: 'running', c: 'running' });
    expect(h.probe.log.slice(3)).toEqual(['stop:b', 'start:b']);
    expect(h.sup.status().services.map((s) => s.restarts)).toEqual([0, 1, 0]);
    expect(telemetry.map((m) => [m.measurements.restarts, m.metadata.service])).toEqual([[1, 'b']]);
  });

  it('one_for_one takes required dependants down first and restarts them after the dependency', async () => {
    const h = harness();
    h.sup.add(h.probe.service('db'));
    h.sup.add(h.probe.service('api', { deps: ['db'] }));
    h.sup.add(h.probe.service('web', { deps: ['api'] }));
    h.sup.add(h.probe.service('other'));
    await h.sup.start();
    h.probe.log.length = 0;
    h.probe.fail('db');
    await h.advance(0);
    expect(h.probe.log).toEqual(['stop:web', 'stop:api', 'stop:db']);
    expect(states(h.sup)).toEqual({ db: 'backoff', api: 'waiting', web: 'waiting', other: 'running' });
    await h.advance(10);
    expect(h.probe.log.slice(3)).toEqual(['start:db', 'start:api', 'start:web']);
    expect(Object.values(states(h.sup))).toEqual(['running', 'running', 'running', 'running']);
  });

  it('rest_for_one also restarts every service started after the failed one', async () => {
    const h = harness({ strategy: 'rest_for_one' });
    h.sup.add(h.probe.service('a'));
    h.sup.add(h.probe.service('b'));
    h.sup.add(h.probe.service('c'));
    h.sup.add(h.probe.service('d', { deps: ['a'] }));
    await h.sup.start();
    h.probe.log.length = 0;
    h.probe.fail('b');
    await h.advance(0);
    expect(h.probe.log).toEqual(['stop:d', 'stop:c', 'stop:b']);
    expect(states(h.sup)).toEqual({ a: 'running', b: 'backoff', c: 'waiting', d: 'waiting' });
    await h.advance(10);
    expect(h.probe.log.slice(3)).toEqual(['start:b', 'start:c', 'start:d']);
    expect(h.sup.status().services.map((s) => s.restarts)).toEqual([0, 1, 0, 0]);
  });

  it('escalates on the (maxRestarts + 1)-th restart within withinMs: stops everything, unhealthy', async () => {
    const h = harness({ maxRestarts: 2, withinMs: 1000 });
    h.sup.add(h.probe.service('a'));
    h.sup.add(h.probe.service('b', { deps: ['a'] }));
    await h.sup.start();
    for (let i = 0; i < 2; i++) {
      h.probe.fail('a');
      await h.advance(100);
      expect(states(h.sup)).toEqual({ a: 'running', b: 'running' });
    }
    h.probe.fail('a');
    await h.advance(0);
    expect(h.escalated).toHaveLength(1);
    const status = h.sup.status();
    expect(status.state).toBe('failed');
    expect(status.escalated?.code).toBe('FND_LIFECYCLE_RESTART_INTENSITY');
    expect(status.escalated?.context).toEqual({ service: 'a', maxRestarts: 2, withinMs: 1000 });
    expect(h.escalated[0]?.error).toBe(status.escalated);
    expect(states(h.sup)).toEqual({ a: 'failed', b: 'stopped' });
    expect(h.clock.pending()).toBe(0);
    expect((await h.sup.health()).status).toBe('unhealthy');
    await h.sup.stop();
    expect(h.sup.status().state).toBe('failed');
    // A new start clears the escalation.
    await h.sup.start();
    expect(h.sup.status().escalated).toBeUndefined();
    expect((await h.sup.health()).status).toBe('healthy');
  });

  it('does not escalate when failures are spread beyond withinMs', async () => {
    const h = harness({ maxRestarts: 2, withinMs: 1000 });
    h.sup.add(h.probe.service('a'));
    await h.sup.start();
    for (let i = 0; i < 6; i++) {
      h.probe.fail('a');
      await h.advance(600);
    }
    expect(h.escalated).toEqual([]);
    expect(h.sup.status().services[0]).toMatchObject({ state: 'running', restarts: 6 });
  });

  it('never restarts temporary services and does not count them toward intensity', async () => {
    const h = harness({ maxRestarts: 0 });
    h.sup.add(h.probe.service('job'), { restart: 'temporary' });
    h.sup.add(h.probe.service('after', { deps: ['job'] }));
    h.sup.add(h.probe.service('other'));
    await h.sup.start();
    h.probe.fail('job');
    await h.advance(10_000);
    expect(states(h.sup)).toEqual({ job: 'failed', after: 'waiting', other: 'running' });
    expect(h.failed.map((f) => f.willRestart)).toEqual([false]);
    expect(h.escalated).toEqual([]);
    expect(h.clock.pending()).toBe(0);
  });

  it('doubles the backoff per consecutive failure, caps it, and resets after a long enough run', async () => {
    const h = harness({ maxRestarts: 100, withinMs: 60_000, restartBackoffMs: { initial: 100, max: 400 } });
    h.sup.add(h.probe.service('a'));
    await h.sup.start();
    const restartDelay = async (): Promise<number> => {
      h.probe.fail('a');
      let waited = 0;
      await h.advance(0);
      while (states(h.sup).a !== 'running') {
        await h.advance(50);
        waited += 50;
      }
      return waited;
    };
    expect([await restartDelay(), await restartDelay(), await restartDelay(), await restartDelay()]).toEqual([
      100, 200, 400, 400,
    ]);
    await h.advance(400);
    expect(await restartDelay()).toBe(100);
  });

  it('a restart whose start fails is retried with backoff and counts toward intensity', async () => {
    const h = harness({ maxRestarts: 3, withinMs: 10_000 });
    let starts = 0;
    h.sup.add(
      h.probe.service('flaky', {
        start: () => {
          starts++;
          if (starts > 1) throw new Error(`attempt ${starts} failed`);
        },
      }),
    );
    await h.sup.start();
    h.probe.fail('flaky');
    for (let i = 0; i < 5; i++) await h.advance(1000);
    expect(h.failed.map((f) => f.error.code)).toEqual([
      'FND_LIFECYCLE_SERVICE_FAILED',
      'FND_LIFECYCLE_START_FAILED',
      'FND_LIFECYCLE_START_FAILED',
      'FND_LIFECYCLE_START_FAILED',
    ]);
    expect(h.escalated).toHaveLength(1);
    expect(starts).toBe(4);
  });

  it('stop cancels pending restarts', async () => {
    const h = harness();
    h.sup.add(h.probe.service('a'));
    await h.sup.start();
    h.probe.fail('a');
    await h.advance(0);
    expect(h.clock.pending()).toBe(1);
    await h.sup.stop();
    expect(h.clock.pending()).toBe(0);
    await h.advance(10_000);
    expect(states(h.sup)).toEqual({ a: 'stopped' });
    expect(h.probe.log).toEqual(['start:a', 'stop:a']);
  });

  it('ignores fail() from a stale instance, repeated fail() and fail() after stop', async () => {
    const h = harness();
    h.sup.add(h.probe.service('a'));
    await h.sup.start();
    const first = h.probe.ctx.get('a');
    first?.fail(new Error('one'));
    first?.fail(new Error('two'));
    await h.advance(10);
    expect(h.sup.status().services[0]).toMatchObject({ state: 'running', restarts: 1 });
    first?.fail(new Error('stale'));
    await h.advance(10);
    expect(h.failed.map((f) => (f.error.cause as Error).message)).toEqual(['one']);
    expect(h.probe.log).toEqual(['start:a', 'stop:a', 'start:a']);
    await h.sup.stop();
    h.probe.fail('a');
    await h.advance(10);
    expect(h.failed).toHaveLength(1);
  });

  it('a fail() reported during start is handled once the start completes', async () => {
    const h = harness();
    let calls = 0;
    h.sup.add(
      h.probe.service('a', {
        start: (ctx) => {
          if (++calls === 1) ctx.fail(new Error('early'));
        },
      }),
    );
    await h.sup.start();
    await h.advance(10);
    expect(h.failed).toHaveLength(1);
    expect(h.probe.log).toEqual(['start:a', 'stop:a', 'start:a']);
  });
});

describe('Supervisor optional dependencies', () => {
  it('an optional dependency added after start: onDependencyUp, and ctx.dependency returns it', async () => {
    const h = harness();
    const seen: unknown[] = [];
    h.sup.add(h.probe.service('api', { optional: ['cache'], up: (_i, _n, dep) => seen.push(dep) }));
    await h.sup.start();
    expect(h.probe.ctx.get('api')?.dependency('cache')).toBeUndefined();
    h.sup.add(h.probe.service('cache'));
    await h.sup.settled();
    const cache = h.sup.instance<Inst>('cache');
    expect(cache?.name).toBe('cache');
    expect(seen).toEqual([cache]);
    expect(h.probe.ctx.get('api')?.dependency('cache')).toBe(cache);
    expect(h.probe.log).toEqual(['start:api', 'start:cache', 'up:api<-cache']);
  });

  it('an optional dependency failing: onDependencyDown, the dependant keeps running, then onDependencyUp', async () => {
    const h = harness();
    h.sup.add(h.probe.service('cache'));
    h.sup.add(h.probe.service('api', { optional: ['cache'] }));
    await h.sup.start();
    const before = h.sup.instance<Inst>('api');
    h.probe.fail('cache');
    await h.advance(0);
    expect(states(h.sup)).toEqual({ cache: 'backoff', api: 'running' });
    expect(h.probe.ctx.get('api')?.dependency('cache')).toBeUndefined();
    await h.advance(10);
    expect(h.probe.log).toEqual([
      'start:cache',
      'start:api',
      'down:api<-cache',
      'stop:cache',
      'start:cache',
      'up:api<-cache',
    ]);
    expect(h.sup.instance('api')).toBe(before);
    expect(h.probe.ctx.get('api')?.dependency<Inst>('cache')?.n).toBe(3);
  });

  it('an optional dependency that cannot start does not block its dependant', async () => {
    const h = harness({ maxRestarts: 0 });
    h.sup.add(h.probe.service('api', { optional: ['search'] }));
    await h.sup.start();
    h.sup.add(
      h.probe.service('search', {
        start: () => {
          throw new Error('index missing');
        },
      }),
      { restart: 'temporary' },
    );
    await h.sup.settled();
    expect(states(h.sup)).toEqual({ api: 'running', search: 'failed' });
    expect(h.failed.map((f) => f.error.code)).toEqual(['FND_LIFECYCLE_START_FAILED']);
  });
});
