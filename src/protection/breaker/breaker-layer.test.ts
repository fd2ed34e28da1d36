import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { onTelemetry, type TelemetryMessage } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { rejection } from '../errors.js';
import { pipeline } from '../pipeline.js';
import { createBreakerLayer, type BreakerLayer, type BreakerStateChange } from './breaker-layer.js';
import type { BreakerOptions } from './breaker-options.js';

function setup(options: BreakerOptions, name = 'payments') {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock);
  const breaker = createBreakerLayer(options, { clock, policy: name });
  const policy = pipeline(name, [breaker], { clock, timer });
  const changes: BreakerStateChange[] = [];
  breaker.onStateChange((change) => changes.push(change));
  return { clock, breaker, policy, changes };
}

const boom = (): Promise<never> => Promise.reject(new Error('boom'));
const one = (): Promise<number> => Promise.resolve(1);

async function fail(policy: ReturnType<typeof setup>['policy'], times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await expect(policy.execute(boom)).rejects.toThrow('boom');
}

async function refusal(promise: Promise<unknown>): Promise<FoundationError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FoundationError);
  return error as FoundationError;
}

describe('createBreakerLayer', () => {
  it('validates its options, naming the bad one', () => {
    const cases: [unknown, string][] = [
      [{ policy: 'consecutive', threshold: 0 }, 'threshold'],
      [{ policy: 'count', size: 10, threshold: 1.5 }, 'threshold'],
      [{ policy: 'count', size: 10, threshold: 0.5, minimumCalls: 11 }, 'minimumCalls'],
      [{ policy: 'sampling', windowMs: 1000, threshold: 0.5, minimumRps: -1 }, 'minimumRps'],
      [{ policy: 'sampling', windowMs: 1000, threshold: 0.5, minimumRps: 1, buckets: 0 }, 'buckets'],
      [{ policy: 'consecutive', threshold: 1, openMs: 100, maxOpenMs: 50 }, 'maxOpenMs'],
      [{ policy: 'consecutive', threshold: 1, halfOpen: { probes: 0 } }, 'halfOpen.probes'],
      [{ policy: 'consecutive', threshold: 1, slowCallMs: -5 }, 'slowCallMs'],
      [{ policy: 'bogus' }, 'policy'],
    ];
    for (const [options, option] of cases) {
      let caught: unknown;
      try {
        createBreakerLayer(options as BreakerOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FoundationError);
      expect((caught as FoundationError).code).toBe('FND_PROTECT_INVALID_POLICY');
      expect((caught as FoundationError).context).toMatchObject({ option });
    }
  });

  it('passes values through while closed, opens at the threshold and refuses with retryAfterMs', async () => {
    const { clock, breaker, policy, changes } = setup({ policy: 'consecutive', threshold: 3, openMs: 1000 });
    await expect(policy.execute(one)).resolves.toBe(1);
    await fail(policy, 3);
    expect(breaker.state()).toBe('open');
    clock.advance(400);
    const error = await refusal(policy.execute(one));
    expect(error.code).toBe('FND_PROTECT_CIRCUIT_OPEN');
    expect(error.context).toMatchObject({
      layer: 'breaker',
      policy: 'payments',
      retryAfterMs: 600,
      state: 'open',
    });
    expect(changes.map(({ from, to }) => `${from}>${to}`)).toEqual(['closed>open']);
    expect(changes[0]).toMatchObject({
      policy: 'payments',
      openMs: 1000,
      cause: 'call',
      at: clock.now() - 400,
    });
  });

  it('never calls the function while open', async () => {
    const { policy } = setup({ policy: 'consecutive', threshold: 1, openMs: 1000 });
    await fail(policy, 1);
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls += 1;
        return 1;
      }),
    ).rejects.toThrow(/open/);
    expect(calls).toBe(0);
  });

  it('half-opens after openMs, admits `probes` calls at a time, closes after successThreshold successes', async () => {
    const { clock, breaker, policy, changes } = setup({
      policy: 'consecutive',
      threshold: 1,
      openMs: 100,
      halfOpen: { probes: 2, successThreshold: 2 },
    });
    await fail(policy, 1);
    clock.advance(100);
    const gates: (() => void)[] = [];
    const slow = (): Promise<number> =>
      new Promise((resolve) => {
        gates.push(() => {
          resolve(2);
        });
      });
    const first = policy.execute(slow);
    const second = policy.execute(slow);
    expect(breaker.state()).toBe('half_open');
    const third = await refusal(policy.execute(one));
    expect(third.code).toBe('FND_PROTECT_CIRCUIT_OPEN');
    expect(third.message).toMatch(/half-open/);
    expect(third.context.retryAfterMs).toBeUndefined();
    for (const open of gates) open();
    await expect(Promise.all([first, second])).resolves.toEqual([2, 2]);
    expect(breaker.state()).toBe('closed');
    expect(changes.map(({ from, to }) => `${from}>${to}`)).toEqual([
      'closed>open',
      'open>half_open',
      'half_open>closed',
    ]);
  });

  it('escalates the open duration on failed probes and resets it after a successful close', async () => {
    const { clock, breaker, policy, changes } = setup({
      policy: 'consecutive',
      threshold: 1,
      openMs: 100,
      maxOpenMs: 300,
    });
    await fail(policy, 1);
    for (const wait of [100, 200, 300]) {
      clock.advance(wait - 1);
      expect((await refusal(policy.execute(one))).context.retryAfterMs).toBe(1);
      clock.advance(1);
      await fail(policy, 1); // the probe fails
    }
    expect(changes.filter((change) => change.to === 'open').map((change) => change.openMs)).toEqual([
      100, 200, 300, 300,
    ]);
    clock.advance(300);
    await expect(policy.execute(one)).resolves.toBe(1);
    expect(breaker.state()).toBe('closed');
    await fail(policy, 1);
    expect(changes.at(-1)).toMatchObject({ to: 'open', openMs: 100 });
  });

  it('counts slow successes as failures', async () => {
    const { clock, breaker, policy } = setup({ policy: 'consecutive', threshold: 2, slowCallMs: 50 });
    const slow = (): Promise<number> =>
      new Promise((resolve) => {
        clock.setTimeout(() => {
          resolve(7);
        }, 80);
      });
    const run = async (): Promise<void> => {
      const pending = policy.execute(slow);
      await clock.advanceAsync(80);
      await expect(pending).resolves.toBe(7); // the caller still gets the value
    };
    await run();
    expect(breaker.state()).toBe('closed');
    await run();
    expect(breaker.state()).toBe('open');
  });

  it('judges errors and results with the failure predicate', async () => {
    const { breaker, policy } = setup({
      policy: 'consecutive',
      threshold: 2,
      failures: {
        error: (error) => !(error instanceof Error && error.message === 'not found'),
        result: (value) => (value as { status: number }).status >= 500,
      },
    });
    const notFound = (): Promise<never> => Promise.reject(new Error('not found'));
    for (let i = 0; i < 5; i += 1) await expect(policy.execute(notFound)).rejects.toThrow('not found');
    expect(breaker.state()).toBe('closed');
    await expect(policy.execute(() => ({ status: 503 }))).resolves.toEqual({ status: 503 });
    await expect(policy.execute(() => ({ status: 200 }))).resolves.toEqual({ status: 200 });
    await expect(policy.execute(() => ({ status: 503 }))).resolves.toEqual({ status: 503 });
    expect(breaker.state()).toBe('closed');
    await expect(policy.execute(() => ({ status: 500 }))).resolves.toEqual({ status: 500 });
    expect(breaker.state()).toBe('open');
  });

  it('does not count the caller’s cancellation; a cancelled probe frees its slot', async () => {
    const { clock, breaker, policy } = setup({ policy: 'consecutive', threshold: 1, openMs: 10 });
    const cancelled = rejection('FND_PROTECT_CANCELLED', 'cancelled', {
      layer: 'fallback',
      policy: 'payments',
    });
    await expect(policy.execute(() => Promise.reject(cancelled))).rejects.toBe(cancelled);
    expect(breaker.state()).toBe('closed');
    await fail(policy, 1);
    clock.advance(10);
    await expect(policy.execute(() => Promise.reject(cancelled))).rejects.toBe(cancelled);
    expect(breaker.state()).toBe('half_open');
    await expect(policy.execute(one)).resolves.toBe(1);
    expect(breaker.state()).toBe('closed');
  });

  it('a sync throw counts as a failure', async () => {
    const { breaker, policy } = setup({ policy: 'consecutive', threshold: 1 });
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.state()).toBe('open');
  });

  it('turns a synchronous throw of an inner layer into a counted rejection', async () => {
    const clock = new FakeClock();
    const breaker = createBreakerLayer({ policy: 'consecutive', threshold: 1 }, { clock });
    const throwing = {
      kind: 'timeout' as const,
      run(): Promise<never> {
        throw new Error('inner layer');
      },
      status: () => ({ kind: 'timeout' as const }),
    };
    const policy = pipeline('sync', [breaker, throwing], { clock, timer: new CoarseTimer(clock) });
    await expect(policy.execute(one)).rejects.toThrow('inner layer');
    expect(breaker.state()).toBe('open');
  });

  it('isolates and resets by hand', async () => {
    const { breaker, policy, changes } = setup({ policy: 'consecutive', threshold: 1 });
    breaker.isolate();
    const error = await refusal(policy.execute(one));
    expect(error.code).toBe('FND_PROTECT_CIRCUIT_OPEN');
    expect(error.message).toMatch(/isolated/);
    expect(error.context.retryAfterMs).toBeUndefined();
    breaker.reset();
    await expect(policy.execute(one)).resolves.toBe(1);
    expect(changes.map(({ from, to, cause }) => `${from}>${to}:${cause}`)).toEqual([
      'closed>isolated:isolate',
      'isolated>closed:reset',
    ]);
  });

  it('keeps its state and counts when configured, applying new thresholds', async () => {
    const { breaker, policy } = setup({ policy: 'consecutive', threshold: 5, openMs: 100 });
    await fail(policy, 3);
    breaker.configure({ policy: 'consecutive', threshold: 4, openMs: 100 });
    expect(breaker.state()).toBe('closed');
    await fail(policy, 1);
    expect(breaker.state()).toBe('open');
    breaker.configure({ policy: 'count', size: 10, threshold: 0.5, openMs: 5 });
    expect(breaker.state()).toBe('open');
    expect(() => {
      breaker.configure({ policy: 'count', size: 0, threshold: 0.5 });
    }).toThrow(/size/);
  });

  it('exports its state and another breaker restores it', async () => {
    const first = setup({ policy: 'count', size: 4, threshold: 0.5, minimumCalls: 2, openMs: 1000 });
    await fail(first.policy, 2);
    first.clock.advance(250);
    const snapshot: unknown = JSON.parse(JSON.stringify(first.breaker.exportState()));
    // Another process: same wall time, another monotonic origin.
    const second = setup({ policy: 'count', size: 4, threshold: 0.5, minimumCalls: 2, openMs: 1000 });
    second.clock.setWallTime(first.clock.now());
    second.breaker.restore(snapshot);
    expect(second.breaker.state()).toBe('open');
    expect(second.changes).toMatchObject([{ from: 'closed', to: 'open', cause: 'restore' }]);
    expect((await refusal(second.policy.execute(one))).context.retryAfterMs).toBe(750);
    expect(() => {
      second.breaker.restore({ version: 2 });
    }).toThrow(/version/);
  });

  it('reports its state in status()', async () => {
    const { clock, breaker, policy } = setup({
      policy: 'count',
      size: 10,
      threshold: 0.5,
      minimumCalls: 4,
      openMs: 100,
    });
    await policy.execute(one);
    await fail(policy, 1);
    expect(breaker.status()).toMatchObject({
      kind: 'breaker',
      state: 'closed',
      policy: 'count',
      calls: 2,
      failures: 1,
    });
    await fail(policy, 2);
    expect(breaker.status()).toMatchObject({
      state: 'open',
      retryAfterMs: 100,
      openUntil: clock.now() + 100,
    });
    clock.advance(100);
    expect(breaker.status()).toMatchObject({ state: 'half_open', probesInFlight: 0 });
  });

  it('publishes protection:breaker_state and protection:rejected', async () => {
    const messages: TelemetryMessage[] = [];
    const offState = onTelemetry('protection:breaker_state', (message) => messages.push(message));
    const offRejected = onTelemetry('protection:rejected', (message) => messages.push(message));
    try {
      const { policy } = setup({ policy: 'consecutive', threshold: 1 }, 'telemetry-test');
      await fail(policy, 1);
      await expect(policy.execute(one)).rejects.toThrow();
      expect(messages.map(({ name, measurements, metadata }) => ({ name, measurements, metadata }))).toEqual([
        {
          name: 'protection:breaker_state',
          measurements: {},
          metadata: { policy: 'telemetry-test', from: 'closed', to: 'open' },
        },
        {
          name: 'protection:rejected',
          measurements: { count: 1 },
          metadata: { policy: 'telemetry-test', layer: 'breaker', code: 'FND_PROTECT_CIRCUIT_OPEN' },
        },
      ]);
    } finally {
      offState();
      offRejected();
    }
  });

  it('ignores a throwing listener and stops calling an unsubscribed one', async () => {
    const { breaker, policy } = setup({ policy: 'consecutive', threshold: 1 });
    let calls = 0;
    const off = breaker.onStateChange(() => {
      calls += 1;
      throw new Error('listener');
    });
    await fail(policy, 1);
    expect(calls).toBe(1);
    off();
    breaker.reset();
    expect(calls).toBe(1);
  });

  it('takes the policy name and clock from its pipeline when not bound', async () => {
    const clock = new FakeClock();
    const breaker: BreakerLayer = createBreakerLayer({ policy: 'consecutive', threshold: 1, openMs: 50 });
    const policy = pipeline('unbound', [breaker], { clock, timer: new CoarseTimer(clock) });
    const seen: string[] = [];
    breaker.onStateChange((change) => seen.push(change.policy));
    await fail(policy, 1);
    clock.advance(50);
    expect(breaker.state()).toBe('half_open');
    expect(seen).toEqual(['unbound', 'unbound']);
  });
});
