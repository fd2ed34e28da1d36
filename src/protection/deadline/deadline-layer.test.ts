import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { pipeline } from '../pipeline.js';
import { createRetryLayer } from '../retry/retry-layer.js';
import { createTimeoutLayer } from '../timeout/timeout-layer.js';
import { createDeadlineLayer } from './deadline-layer.js';

describe('deadline layer', () => {
  it('sets the deadline seen by every attempt and keeps an earlier one', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const policy = pipeline('svc', [createDeadlineLayer({ ms: 500 }), createDeadlineLayer({ ms: 900 })], {
      clock,
      timer,
    });
    await expect(policy.execute((attempt) => attempt.deadline)).resolves.toBe(clock.now() + 500);
  });

  it('across retries: aborts the running attempt and rejects FND_PROTECT_TIMEOUT (layer deadline) — a dependency hanging past the deadline', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const deadline = createDeadlineLayer({ ms: 1000 });
    const policy = pipeline(
      'svc',
      [
        deadline,
        createRetryLayer({ maxAttempts: 10, backoff: { kind: 'constant', delayMs: 50 } }),
        createTimeoutLayer({ ms: 300 }),
      ],
      { clock, timer },
    );
    const signals: AbortSignal[] = [];
    const result = policy.execute(
      (attempt) =>
        new Promise<never>(() => {
          signals.push(attempt.signal);
        }),
    );
    const settled = result.catch((e: unknown) => e);
    await clock.advanceAsync(1000);
    const error = (await settled) as FoundationError;
    expect(error.code).toBe('FND_PROTECT_TIMEOUT');
    expect(error.context).toMatchObject({ layer: 'deadline', policy: 'svc', deadlineMs: 1000 });
    // 0–300, 350–650, 700–1000 (the third was cut by the deadline, not retried).
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect((signals[2]?.reason as FoundationError).context.layer).toBe('deadline');
    await clock.advanceAsync(5000);
    expect(signals).toHaveLength(3);
    expect(clock.pending()).toBe(0);
    expect(deadline.status()).toEqual({ kind: 'deadline', ms: 1000, expired: 1 });
  });

  it('passes results and errors through and validates', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const layer = createDeadlineLayer({ ms: 100 });
    const policy = pipeline('svc', [layer], { clock, timer });
    await expect(policy.execute(() => 'ok')).resolves.toBe('ok');
    await expect(policy.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(timer.pending).toBe(0);
    expect(() => {
      layer.configure({ ms: -1 });
    }).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY', context: { option: 'deadline.ms' } }),
    );
  });
});
