import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { rejection } from '../errors.js';
import { pipeline, type Policy } from '../pipeline.js';
import { createAdaptiveLayer, type AdaptiveLayer } from './adaptive-layer.js';
import type { AdaptiveOptions } from './adaptive-options.js';

interface Setup {
  readonly clock: FakeClock;
  readonly layer: AdaptiveLayer;
  readonly policy: Policy;
}

function setup(options: AdaptiveOptions): Setup {
  const clock = new FakeClock();
  const layer = createAdaptiveLayer(options);
  return { clock, layer, policy: pipeline('svc', [layer], { clock, timer: new CoarseTimer(clock) }) };
}

interface Deferred {
  readonly promise: Promise<string>;
  resolve(value: string): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (value: string) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof FoundationError ? [error.code, error.context.layer] : error;
  }
}

describe('createAdaptiveLayer', () => {
  it('admits calls while in flight < limit and refuses beyond with FND_PROTECT_LIMIT_EXCEEDED', async () => {
    const { layer, policy } = setup({ algorithm: 'aimd', initialLimit: 2 });
    const a = deferred();
    const b = deferred();
    const first = policy.execute(() => a.promise);
    const second = policy.execute(() => b.promise);
    expect(layer.inflight).toBe(2);
    expect(await codeOf(policy.execute(() => 'x'))).toEqual(['FND_PROTECT_LIMIT_EXCEEDED', 'adaptive']);
    a.resolve('a');
    b.resolve('b');
    expect(await first).toBe('a');
    expect(await second).toBe('b');
    expect(layer.inflight).toBe(0);
    expect(layer.status()).toMatchObject({ kind: 'adaptive', algorithm: 'aimd', inflight: 0, queued: 0 });
  });

  it('queues up to maxQueue calls, FIFO, and admits them as slots free up', async () => {
    const { layer, policy } = setup({ algorithm: 'aimd', initialLimit: 1, maxQueue: 2 });
    const a = deferred();
    const order: string[] = [];
    const first = policy.execute(() => a.promise);
    const second = policy.execute(() => {
      order.push('second');
      return 'b';
    });
    const third = policy.execute(() => {
      order.push('third');
      return 'c';
    });
    expect(layer.queued).toBe(2);
    expect(await codeOf(policy.execute(() => 'x'))).toEqual(['FND_PROTECT_LIMIT_EXCEEDED', 'adaptive']);
    a.resolve('a');
    expect(await Promise.all([first, second, third])).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['second', 'third']);
    expect(layer.queued).toBe(0);
  });

  it('a queued call aborted by its caller leaves the queue', async () => {
    const { layer, policy } = setup({ algorithm: 'aimd', initialLimit: 1, maxQueue: 1 });
    const a = deferred();
    const first = policy.execute(() => a.promise);
    const controller = new AbortController();
    let ran = false;
    const queued = policy.execute(() => {
      ran = true;
      return 'q';
    }, controller.signal);
    expect(layer.queued).toBe(1);
    controller.abort();
    expect(await codeOf(queued)).toEqual(['FND_PROTECT_CANCELLED', 'fallback']);
    expect(layer.queued).toBe(0);
    a.resolve('a');
    await first;
    expect(ran).toBe(false);
  });

  it('measures latency on the clock: a call over the AIMD threshold lowers the limit', async () => {
    const { clock, layer, policy } = setup({
      algorithm: 'aimd',
      initialLimit: 10,
      latencyThresholdMs: 100,
      backoffRatio: 0.5,
      windowSamples: 1,
    });
    const a = deferred();
    const call = policy.execute(() => a.promise);
    clock.advance(150);
    a.resolve('slow');
    await call;
    expect(layer.limit).toBe(5);
  });

  it('a rejection by an inner layer is a drop; an application error or a cancellation gives no sample', async () => {
    const { layer, policy } = setup({
      algorithm: 'aimd',
      initialLimit: 10,
      backoffRatio: 0.5,
      windowSamples: 1,
    });
    await codeOf(policy.execute(() => Promise.reject(new Error('app'))));
    expect(layer.limit).toBe(10);
    await codeOf(
      policy.execute(() =>
        Promise.reject(rejection('FND_PROTECT_CANCELLED', 'c', { layer: 'fallback', policy: 'svc' })),
      ),
    );
    expect(layer.limit).toBe(10);
    await codeOf(
      policy.execute(() =>
        Promise.reject(rejection('FND_PROTECT_TIMEOUT', 't', { layer: 'timeout', policy: 'svc' })),
      ),
    );
    expect(layer.limit).toBe(5);
  });

  it('isDrop decides which errors are drops', async () => {
    const { layer, policy } = setup({
      algorithm: 'aimd',
      initialLimit: 10,
      backoffRatio: 0.5,
      windowSamples: 1,
      isDrop: (error) => error instanceof Error && error.message === 'overloaded',
    });
    await codeOf(policy.execute(() => Promise.reject(new Error('overloaded'))));
    expect(layer.limit).toBe(5);
  });

  it('publishes protection:limit_changed with the policy', async () => {
    const { policy } = setup({ algorithm: 'aimd', initialLimit: 10, backoffRatio: 0.5, windowSamples: 1 });
    const seen: unknown[] = [];
    const listener = (message: unknown): void => {
      seen.push(message);
    };
    diagnosticsChannel.subscribe('foundation:protection:limit_changed', listener);
    try {
      await codeOf(
        policy.execute(() =>
          Promise.reject(rejection('FND_PROTECT_TIMEOUT', 't', { layer: 'timeout', policy: 'svc' })),
        ),
      );
    } finally {
      diagnosticsChannel.unsubscribe('foundation:protection:limit_changed', listener);
    }
    expect(seen).toMatchObject([{ measurements: { limit: 5 }, metadata: { policy: 'svc' } }]);
  });

  it('configure keeps in-flight calls and the learnt limit (clamped), across a change of algorithm', async () => {
    const { layer, policy } = setup({ algorithm: 'aimd', initialLimit: 50, maxQueue: 5 });
    const a = deferred();
    const call = policy.execute(() => a.promise);
    layer.configure({ algorithm: 'vegas', initialLimit: 5, maxLimit: 30, maxQueue: 5 });
    expect(layer.limit).toBe(30);
    expect(layer.inflight).toBe(1);
    expect(layer.status()).toMatchObject({ algorithm: 'vegas', maxLimit: 30 });
    a.resolve('a');
    expect(await call).toBe('a');
  });

  it('configure to a higher limit admits queued calls', async () => {
    const { layer, policy } = setup({ algorithm: 'aimd', initialLimit: 1, maxQueue: 1 });
    const a = deferred();
    const first = policy.execute(() => a.promise);
    const queued = policy.execute(() => 'q');
    layer.configure({ algorithm: 'aimd', initialLimit: 2, minLimit: 2, maxQueue: 1 });
    expect(await queued).toBe('q');
    a.resolve('a');
    await first;
  });

  it('refuses invalid options with FND_PROTECT_INVALID_POLICY naming the option', () => {
    const bad: [AdaptiveOptions, string][] = [
      [{ algorithm: 'nope' } as unknown as AdaptiveOptions, 'algorithm'],
      [{ minLimit: 0 }, 'minLimit'],
      [{ minLimit: 10, maxLimit: 5 }, 'maxLimit'],
      [{ initialLimit: 500 }, 'initialLimit'],
      [{ maxQueue: -1 }, 'maxQueue'],
      [{ algorithm: 'aimd', backoffRatio: 1 }, 'backoffRatio'],
      [{ algorithm: 'aimd', tolerance: 2 } as unknown as AdaptiveOptions, 'tolerance'],
      [{ algorithm: 'vegas', alpha: 5, beta: 4 }, 'beta'],
      [{ algorithm: 'gradient2', tolerance: 0.5 }, 'tolerance'],
      [{ algorithm: 'gradient2', longWindow: 1.5 }, 'longWindow'],
      [{ windowSamples: 0 }, 'windowSamples'],
    ];
    for (const [options, option] of bad) {
      let error: unknown;
      try {
        createAdaptiveLayer(options);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FoundationError);
      expect(error).toMatchObject({ code: 'FND_PROTECT_INVALID_POLICY', context: { option } });
    }
    const layer = createAdaptiveLayer();
    expect(() => {
      layer.configure({ maxLimit: 0 });
    }).toThrow(FoundationError);
    expect(layer.status()).toMatchObject({ algorithm: 'vegas', limit: 20, minLimit: 1, maxLimit: 200 });
  });
});
