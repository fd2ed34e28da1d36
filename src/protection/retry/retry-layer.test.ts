import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { type TelemetryMessage, channelName } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { createDeadlineLayer } from '../deadline/deadline-layer.js';
import { pipeline } from '../pipeline.js';
import { createTimeoutLayer } from '../timeout/timeout-layer.js';
import type { Layer } from '../types.js';
import { createRetryLayer, isFinal, retryAfterHint } from './retry-layer.js';

function setup(layers: Layer[]) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock, 1);
  return { clock, timer, policy: pipeline('svc', layers, { clock, timer }) };
}

const unsubscribers: (() => void)[] = [];
afterEach(() => {
  for (const off of unsubscribers.splice(0)) off();
});
function listen(name: string): TelemetryMessage[] {
  const seen: TelemetryMessage[] = [];
  const listener = (message: unknown): void => {
    seen.push(message as TelemetryMessage);
  };
  diagnosticsChannel.subscribe(channelName(name), listener);
  unsubscribers.push(() => diagnosticsChannel.unsubscribe(channelName(name), listener));
  return seen;
}

describe('retry layer', () => {
  it('retries a failing dependency with the backoff until it recovers, numbering the attempts', async () => {
    const retries = listen('protection:retry');
    const retry = createRetryLayer({
      maxAttempts: 4,
      backoff: { kind: 'exponential', initialMs: 100, maxMs: 1000 },
    });
    const { clock, policy } = setup([retry]);
    const calls: { attempt: number; at: number }[] = [];
    const result = policy.execute((attempt) => {
      calls.push({ attempt: attempt.attempt, at: clock.monotonic() });
      if (attempt.attempt < 3) throw new Error(`fail ${String(attempt.attempt)}`);
      return 'ok';
    });
    await clock.advanceAsync(1000);
    await expect(result).resolves.toBe('ok');
    expect(calls).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 100 },
      { attempt: 3, at: 300 },
    ]);
    expect(retries.map((m) => m.measurements)).toEqual([
      { attempt: 2, delayMs: 100 },
      { attempt: 3, delayMs: 200 },
    ]);
    expect(retries[0]?.metadata).toEqual({ policy: 'svc' });
    expect(retry.status()).toMatchObject({
      kind: 'retry',
      retries: 2,
      maxAttempts: 4,
      backoff: 'exponential',
    });
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { clock, policy } = setup([
      createRetryLayer({ maxAttempts: 3, backoff: { kind: 'constant', delayMs: 10 } }),
    ]);
    let n = 0;
    const result = policy.execute(() => {
      n += 1;
      throw new Error(`e${String(n)}`);
    });
    const settled = expect(result).rejects.toThrow('e3');
    await clock.advanceAsync(100);
    await settled;
    expect(n).toBe(3);
  });

  it('honours a retry-after hint (error field or context), capped by maxMs', async () => {
    expect(retryAfterHint(new FoundationError('FND_PROTECT_CIRCUIT_OPEN', { retryAfterMs: 5 }))).toBe(5);
    // The catalog's default delay of a FoundationError is no hint.
    expect(retryAfterHint(new FoundationError('FND_PROTECT_TIMEOUT'))).toBeUndefined();
    expect(retryAfterHint({ context: { retryAfterMs: 7 } })).toBe(7);
    expect(retryAfterHint({ context: { retryAfterMs: -1 } })).toBeUndefined();
    expect(retryAfterHint('x')).toBeUndefined();
    const { clock, policy } = setup([
      createRetryLayer({ maxAttempts: 3, backoff: { kind: 'exponential', initialMs: 10, maxMs: 500 } }),
    ]);
    const at: number[] = [];
    const result = policy.execute((attempt) => {
      at.push(clock.monotonic());
      if (attempt.attempt === 1) throw Object.assign(new Error('busy'), { retryAfterMs: 250 });
      if (attempt.attempt === 2)
        throw new FoundationError('FND_PROTECT_BULKHEAD_FULL', { context: { retryAfterMs: 9999 } });
      return 'done';
    });
    await clock.advanceAsync(2000);
    await expect(result).resolves.toBe('done');
    expect(at).toEqual([0, 250, 750]);
  });

  it('never retries a cancellation or the deadline, nor errors the predicate does not count', async () => {
    expect(isFinal(new FoundationError('FND_PROTECT_CANCELLED'))).toBe(true);
    expect(isFinal(new FoundationError('FND_PROTECT_TIMEOUT', { context: { layer: 'deadline' } }))).toBe(
      true,
    );
    expect(isFinal(new FoundationError('FND_PROTECT_TIMEOUT', { context: { layer: 'timeout' } }))).toBe(
      false,
    );
    const retry = createRetryLayer({
      maxAttempts: 5,
      backoff: { kind: 'constant', delayMs: 1 },
      failures: { error: (e) => !(e instanceof TypeError) },
    });
    const { clock, policy } = setup([retry]);
    let n = 0;
    const cancelled = policy.execute(() => {
      n += 1;
      throw new FoundationError('FND_PROTECT_CANCELLED');
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'FND_PROTECT_CANCELLED' });
    const typed = policy.execute(() => {
      n += 1;
      throw new TypeError('bad input');
    });
    await expect(typed).rejects.toBeInstanceOf(TypeError);
    await clock.advanceAsync(10);
    expect(n).toBe(2);
  });

  it('retries a result counted as a failure and returns the last one when attempts run out', async () => {
    const { clock, policy } = setup([
      createRetryLayer({
        maxAttempts: 3,
        backoff: { kind: 'constant', delayMs: 5 },
        failures: { result: (value) => value === 'busy' },
      }),
    ]);
    let n = 0;
    const recovering = policy.execute(() => (++n < 2 ? 'busy' : 'ok'));
    await clock.advanceAsync(20);
    await expect(recovering).resolves.toBe('ok');
    const stuck = policy.execute(() => 'busy');
    await clock.advanceAsync(20);
    await expect(stuck).resolves.toBe('busy');
  });

  it('does not start a wait that would pass the deadline: the last error comes back at once', async () => {
    const { clock, policy } = setup([
      createDeadlineLayer({ ms: 150 }),
      createRetryLayer({ maxAttempts: 10, backoff: { kind: 'constant', delayMs: 100 } }),
    ]);
    let n = 0;
    const result = policy.execute(() => {
      n += 1;
      throw new Error(`e${String(n)}`);
    });
    const settled = expect(result).rejects.toThrow('e2');
    await clock.advanceAsync(120);
    await settled;
    expect(n).toBe(2);
  });

  it('a spent budget rejects with FND_PROTECT_BUDGET_EXHAUSTED, the last error as cause', async () => {
    const rejected = listen('protection:rejected');
    const retry = createRetryLayer({
      maxAttempts: 3,
      backoff: { kind: 'constant', delayMs: 0 },
      budget: { ratio: 0.5, windowMs: 1000, minRetriesPerSecond: 0 },
    });
    const { policy } = setup([retry]);
    const errors: unknown[] = [];
    const boom = new Error('down');
    for (let i = 0; i < 4; i += 1) await policy.execute(() => 'ok');
    for (let i = 0; i < 2; i += 1) {
      errors.push(
        await policy
          .execute(() => {
            throw boom;
          })
          .catch((e: unknown) => e),
      );
    }
    // 5 calls → 2.5 retries: the first failing call takes 2; at 6 calls one more is allowed, then none.
    expect(errors[0]).toBe(boom);
    const exhausted = errors.at(-1) as FoundationError;
    expect(exhausted.code).toBe('FND_PROTECT_BUDGET_EXHAUSTED');
    expect(exhausted.cause).toBe(boom);
    expect(exhausted.context).toMatchObject({ layer: 'retry', policy: 'svc' });
    expect(retry.status().budgetExhausted).toBeGreaterThan(0);
    expect(rejected.some((m) => m.metadata.code === 'FND_PROTECT_BUDGET_EXHAUSTED')).toBe(true);
  });

  it('a caller cancellation during the wait stops the retries at once', async () => {
    const { clock, timer, policy } = setup([
      createRetryLayer({ maxAttempts: 5, backoff: { kind: 'constant', delayMs: 1000 } }),
    ]);
    const caller = new AbortController();
    let n = 0;
    const result = policy.execute(() => {
      n += 1;
      throw new Error('down');
    }, caller.signal);
    await clock.advanceAsync(10);
    expect(timer.pending).toBe(1);
    caller.abort();
    await expect(result).rejects.toMatchObject({ code: 'FND_PROTECT_CANCELLED' });
    await clock.advanceAsync(0);
    expect(timer.pending).toBe(0);
    await clock.advanceAsync(5000);
    expect(n).toBe(1);
  });

  it('retries per-attempt timeouts in fresh attempts (a slow dependency that recovers)', async () => {
    const { clock, policy } = setup([
      createRetryLayer({ maxAttempts: 3, backoff: { kind: 'constant', delayMs: 10 } }),
      createTimeoutLayer({ ms: 100 }),
    ]);
    const signals: AbortSignal[] = [];
    const result = policy.execute((attempt) => {
      signals.push(attempt.signal);
      return attempt.attempt === 1 ? new Promise<string>(() => undefined) : Promise.resolve('fast');
    });
    await clock.advanceAsync(200);
    await expect(result).resolves.toBe('fast');
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
  });

  it('configure changes attempts for new calls and validates', () => {
    const retry = createRetryLayer({ maxAttempts: 2, backoff: { kind: 'constant', delayMs: 1 } });
    retry.configure({ maxAttempts: 5, backoff: { kind: 'constant', delayMs: 1 }, budget: { ratio: 0.2 } });
    expect(retry.status().maxAttempts).toBe(5);
    expect(() => {
      retry.configure({ maxAttempts: 0, backoff: { kind: 'constant', delayMs: 1 } });
    }).toThrow(
      expect.objectContaining({
        code: 'FND_PROTECT_INVALID_POLICY',
        context: { option: 'retry.maxAttempts' },
      }),
    );
    expect(retry.status().maxAttempts).toBe(5);
  });
});
