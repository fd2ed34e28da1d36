import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { pipeline } from '../pipeline.js';
import { createTimeoutLayer, type TimeoutOptions } from './timeout-layer.js';

let created = 0;
const Original = globalThis.AbortController;
beforeEach(() => {
  created = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      created += 1;
    }
  };
});
afterEach(() => {
  globalThis.AbortController = Original;
});

function setup(options: TimeoutOptions) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock, 10);
  const layer = createTimeoutLayer(options);
  return { clock, timer, layer, policy: pipeline('svc', [layer], { clock, timer }) };
}

describe('timeout layer', () => {
  it('arms no clock timer per call: many calls share one, none left when idle', async () => {
    const { clock, timer, policy } = setup({ ms: 1000 });
    const calls = Array.from({ length: 50 }, () =>
      policy.execute(() => new Promise<number>(() => undefined)),
    );
    expect(clock.pending()).toBe(1);
    expect(timer.pending).toBe(50);
    const outcomes = Promise.allSettled(calls);
    await clock.advanceAsync(1000);
    for (const outcome of await outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'FND_PROTECT_TIMEOUT' } });
    }
    expect(clock.pending()).toBe(0);
    await policy.execute(() => 1);
    expect(timer.pending).toBe(0);
    expect(created).toBe(0);
  });

  it('aggressive: rejects at once with FND_PROTECT_TIMEOUT even when the function ignores its signal', async () => {
    const { clock, layer, policy } = setup({ ms: 100 });
    let signal: AbortSignal | undefined;
    const result = policy.execute(
      (attempt) =>
        new Promise<string>((resolve) => {
          signal = attempt.signal;
          clock.setTimeout(() => {
            resolve('late');
          }, 500);
        }),
    );
    const settled = result.catch((e: unknown) => e);
    await clock.advanceAsync(110);
    const error = (await settled) as FoundationError;
    expect(error.code).toBe('FND_PROTECT_TIMEOUT');
    expect(error.context).toMatchObject({ layer: 'timeout', policy: 'svc', timeoutMs: 100 });
    expect(signal?.aborted).toBe(true);
    await clock.advanceAsync(500);
    expect(layer.status()).toEqual({ kind: 'timeout', ms: 100, mode: 'aggressive', timeouts: 1 });
  });

  it('cooperative: aborts the signal and waits for the function; its error becomes the cause', async () => {
    const { clock, policy } = setup({ ms: 100, mode: 'cooperative' });
    const result = policy.execute(
      (attempt) =>
        new Promise<string>((_resolve, reject) => {
          attempt.signal.addEventListener('abort', () => {
            clock.setTimeout(() => {
              reject(new Error('cleaned up'));
            }, 50);
          });
        }),
    );
    let done = false;
    const settled = result.catch((e: unknown) => e).finally(() => (done = true));
    await clock.advanceAsync(110);
    expect(done).toBe(false);
    await clock.advanceAsync(60);
    const error = (await settled) as FoundationError;
    expect(error.code).toBe('FND_PROTECT_TIMEOUT');
    expect((error.cause as Error).message).toBe('cleaned up');
  });

  it('cooperative: a value the function still returns is the answer; its signal reason passes unchanged', async () => {
    const { clock, policy } = setup({ ms: 100, mode: 'cooperative' });
    const partial = policy.execute(
      (attempt) =>
        new Promise<string>((resolve) => {
          attempt.signal.addEventListener('abort', () => {
            resolve('partial');
          });
        }),
    );
    await clock.advanceAsync(110);
    await expect(partial).resolves.toBe('partial');
    const rethrown = policy.execute(
      (attempt) =>
        new Promise<string>((_resolve, reject) => {
          attempt.signal.addEventListener('abort', () => {
            reject(attempt.signal.reason as Error);
          });
        }),
    );
    const settled = rethrown.catch((e: unknown) => e);
    await clock.advanceAsync(110);
    const error = (await settled) as FoundationError;
    expect(error.code).toBe('FND_PROTECT_TIMEOUT');
    expect(error.cause).toBeUndefined();
  });

  it('passes values and errors of fast functions and cancels their deadlines', async () => {
    const { clock, timer, policy } = setup({ ms: 100 });
    await expect(policy.execute(() => Promise.resolve(3))).resolves.toBe(3);
    await expect(policy.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(timer.pending).toBe(0);
    await clock.advanceAsync(200);
  });

  it('configure during a call: the running attempt keeps its limit, the next one gets the new limit', async () => {
    const { clock, layer, policy } = setup({ ms: 100 });
    const running = policy.execute(() => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    layer.configure({ ms: 1000 });
    const later = policy.execute(() => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    await clock.advanceAsync(110);
    expect(((await running) as FoundationError).context).toMatchObject({ timeoutMs: 100 });
    let laterDone = false;
    void later.then(() => (laterDone = true));
    await clock.advanceAsync(0);
    expect(laterDone).toBe(false);
    await clock.advanceAsync(1000);
    expect(((await later) as FoundationError).context).toMatchObject({ timeoutMs: 1000 });
  });

  it('configure applies to new attempts and validates', () => {
    const { layer } = setup({ ms: 100 });
    layer.configure({ ms: 5, mode: 'cooperative' });
    expect(layer.status()).toMatchObject({ ms: 5, mode: 'cooperative' });
    expect(() => {
      layer.configure({ ms: 0 });
    }).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY', context: { option: 'timeout.ms' } }),
    );
    expect(() => {
      layer.configure({ ms: 1, mode: 'x' as never });
    }).toThrow(expect.objectContaining({ context: { option: 'timeout.mode' } }));
  });
});
