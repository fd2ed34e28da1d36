/**
 * Fault tests of the composed layers through `pipeline(...)` (fallback › deadline › retry › bulkhead › hedge ›
 * timeout, the documented order) against a simulated dependency that fails, is slow, recovers, or hangs past
 * the deadline — all on a fake clock.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { type TelemetryMessage, channelName } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { createBulkheadLayer } from '../bulkhead/bulkhead-layer.js';
import { CoarseTimer } from '../coarse-timer.js';
import { createDeadlineLayer } from '../deadline/deadline-layer.js';
import { createFallbackLayer } from '../fallback/fallback-layer.js';
import { createHedgeLayer } from '../hedge/hedge-layer.js';
import { pipeline } from '../pipeline.js';
import { createTimeoutLayer } from '../timeout/timeout-layer.js';
import type { Attempt, Layer } from '../types.js';
import { createRetryLayer } from './retry-layer.js';

type Mode = 'ok' | 'fail' | 'slow' | 'hang';

/** A dependency whose behaviour the test switches; `slow` answers after 400 ms, `hang` never. */
class Dependency {
  mode: Mode = 'ok';
  calls = 0;
  readonly signals: AbortSignal[] = [];
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  readonly fn = (attempt: Attempt): Promise<string> => {
    this.calls += 1;
    this.signals.push(attempt.signal);
    const mode = this.mode;
    return new Promise<string>((resolve, reject) => {
      if (mode === 'ok') resolve('ok');
      else if (mode === 'fail') reject(new Error('dependency failed'));
      else if (mode === 'slow')
        this.clock.setTimeout(() => {
          resolve('slow ok');
        }, 400);
    });
  };
}

function build(withFallback: boolean) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock, 10);
  const layers: Layer[] = [
    createDeadlineLayer({ ms: 2000 }),
    createRetryLayer({ maxAttempts: 3, backoff: { kind: 'exponential', initialMs: 100, maxMs: 400 } }),
    createBulkheadLayer({ maxConcurrent: 4, maxQueue: 4 }),
    createHedgeLayer({ delayMs: 200 }),
    createTimeoutLayer({ ms: 300 }),
  ];
  if (withFallback) layers.unshift(createFallbackLayer({ value: 'fallback' }));
  const dependency = new Dependency(clock);
  return { clock, timer, dependency, policy: pipeline('svc', layers, { clock, timer }) };
}

async function settle<T>(clock: FakeClock, promise: Promise<T>, ms = 3000): Promise<T | FoundationError> {
  const outcome = promise.catch((e: unknown) => e as FoundationError);
  await clock.advanceAsync(ms);
  return outcome;
}

describe('composed layers under faults', () => {
  it('a failing dependency: retried, then the last error (or the fallback)', async () => {
    const { clock, dependency, policy } = build(false);
    dependency.mode = 'fail';
    const error = (await settle(clock, policy.execute(dependency.fn))) as Error;
    expect(error.message).toBe('dependency failed');
    // 3 attempts, each hedged once at once after its failure.
    expect(dependency.calls).toBe(6);
    const withFallback = build(true);
    withFallback.dependency.mode = 'fail';
    await expect(
      settle(withFallback.clock, withFallback.policy.execute(withFallback.dependency.fn)),
    ).resolves.toBe('fallback');
  });

  it('a slow dependency: the hedge and per-attempt timeout keep it under the deadline; attempts are aborted', async () => {
    const { clock, timer, dependency, policy } = build(false);
    dependency.mode = 'slow';
    const answer = await settle(clock, policy.execute(dependency.fn));
    // Every attempt times out at 300 ms (the slow answer takes 400): the deadline or the retries end it.
    expect((answer as FoundationError).code).toBe('FND_PROTECT_TIMEOUT');
    expect(dependency.signals.every((s) => s.aborted)).toBe(true);
    expect(timer.pending).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('a recovering dependency: failures then success within the retries', async () => {
    const { clock, dependency, policy } = build(false);
    dependency.mode = 'fail';
    const result = policy.execute(dependency.fn);
    await clock.advanceAsync(50);
    dependency.mode = 'ok';
    await expect(settle(clock, result)).resolves.toBe('ok');
    expect(dependency.calls).toBe(3);
  });

  it('a dependency hanging past the deadline: FND_PROTECT_TIMEOUT (layer deadline) at 2 s, everything aborted, nothing left armed', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const dependency = new Dependency(clock);
    dependency.mode = 'hang';
    const policy = pipeline(
      'svc',
      [
        createDeadlineLayer({ ms: 2000 }),
        createRetryLayer({ maxAttempts: 100, backoff: { kind: 'constant', delayMs: 10 } }),
        createTimeoutLayer({ ms: 700 }),
      ],
      { clock, timer },
    );
    const rejected: TelemetryMessage[] = [];
    const listener = (m: unknown): void => {
      rejected.push(m as TelemetryMessage);
    };
    diagnosticsChannel.subscribe(channelName('protection:rejected'), listener);
    let settledAt = -1;
    const outcome = policy
      .execute(dependency.fn)
      .catch((e: unknown) => e as FoundationError)
      .finally(() => {
        settledAt = clock.monotonic();
      });
    await clock.advanceAsync(5000);
    diagnosticsChannel.unsubscribe(channelName('protection:rejected'), listener);
    const error = await outcome;
    // Two per-attempt timeouts (700, 1410) and the deadline; the third attempt's timer, firing after the
    // deadline ended the call, is no refusal of its own.
    expect(rejected.map((m) => m.metadata.layer)).toEqual(['timeout', 'timeout', 'deadline']);
    expect(error).toMatchObject({
      code: 'FND_PROTECT_TIMEOUT',
      context: { layer: 'deadline', policy: 'svc' },
    });
    expect(settledAt).toBeGreaterThanOrEqual(2000);
    expect(settledAt).toBeLessThanOrEqual(2010);
    expect(dependency.calls).toBe(3);
    expect(dependency.signals.every((s) => s.aborted)).toBe(true);
    expect(timer.pending).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
