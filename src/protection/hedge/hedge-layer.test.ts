import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { FoundationError } from '../../errors/index.js';
import { type TelemetryMessage, channelName } from '../../kernel/telemetry.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { createDeadlineLayer } from '../deadline/deadline-layer.js';
import { pipeline } from '../pipeline.js';
import type { Attempt } from '../types.js';
import { createHedgeLayer, type HedgeOptions } from './hedge-layer.js';

function setup(options: HedgeOptions) {
  const clock = new FakeClock();
  const timer = new CoarseTimer(clock, 10);
  const layer = createHedgeLayer(options);
  return { clock, timer, layer, policy: pipeline('svc', [layer], { clock, timer }) };
}

/** A dependency answering after `latencies[attempt - 1]` ms (fails when the latency is negative). */
function dependency(clock: FakeClock, latencies: number[], seen: Attempt[]) {
  return (attempt: Attempt): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      seen.push(attempt);
      const latency = latencies[attempt.attempt - 1] ?? 0;
      clock.setTimeout(() => {
        if (latency < 0) reject(new Error(`attempt ${String(attempt.attempt)} failed`));
        else resolve(`answer ${String(attempt.attempt)}`);
      }, Math.abs(latency));
    });
}

describe('hedge layer', () => {
  it('slow then fast: the hedge answers first, the slow attempt is aborted', async () => {
    const hedged: TelemetryMessage[] = [];
    const listener = (m: unknown): void => {
      hedged.push(m as TelemetryMessage);
    };
    diagnosticsChannel.subscribe(channelName('protection:hedged'), listener);
    try {
      const { clock, layer, policy } = setup({ delayMs: 100 });
      const seen: Attempt[] = [];
      const result = policy.execute(dependency(clock, [1000, 50], seen));
      await clock.advanceAsync(99);
      expect(seen).toHaveLength(1);
      const firstSignal = seen[0]?.signal;
      await clock.advanceAsync(70);
      await expect(result).resolves.toBe('answer 2');
      expect(seen.map((a) => a.attempt)).toEqual([1, 2]);
      expect(firstSignal?.aborted).toBe(true);
      expect((firstSignal?.reason as FoundationError).context).toMatchObject({
        layer: 'hedge',
        policy: 'svc',
      });
      expect(seen[1]?.signal.aborted).toBe(false);
      expect(hedged).toHaveLength(1);
      expect(hedged[0]?.metadata).toEqual({ policy: 'svc' });
      expect(layer.status()).toEqual({ kind: 'hedge', delayMs: 100, maxHedges: 1, hedges: 1 });
    } finally {
      diagnosticsChannel.unsubscribe(channelName('protection:hedged'), listener);
    }
  });

  it('a fast first answer starts no hedge and leaves no timer', async () => {
    const { clock, timer, policy } = setup({ delayMs: 100, maxHedges: 2 });
    const seen: Attempt[] = [];
    const result = policy.execute(dependency(clock, [20], seen));
    await clock.advanceAsync(30);
    await expect(result).resolves.toBe('answer 1');
    expect(timer.pending).toBe(0);
    await clock.advanceAsync(500);
    expect(seen).toHaveLength(1);
  });

  it('the first attempt still wins when it answers before the hedge', async () => {
    const { clock, policy } = setup({ delayMs: 100 });
    const seen: Attempt[] = [];
    const result = policy.execute(dependency(clock, [150, 500], seen));
    await clock.advanceAsync(160);
    await expect(result).resolves.toBe('answer 1');
    expect(seen[1]?.signal.aborted).toBe(true);
  });

  it('a failure starts the next hedge at once; when all fail, the last error', async () => {
    const { clock, policy } = setup({ delayMs: 100, maxHedges: 2 });
    const seen: Attempt[] = [];
    const at: number[] = [];
    const result = policy
      .execute((attempt) => {
        at.push(clock.monotonic());
        return dependency(clock, [-10, -300, -20], seen)(attempt);
      })
      .catch((e: unknown) => e);
    await clock.advanceAsync(1000);
    expect(((await result) as Error).message).toBe('attempt 2 failed');
    // 1 fails at 10 → 2 starts at once; 3 starts 100 ms later and fails at 130; 2 fails last, at 310.
    expect(at).toEqual([0, 10, 110]);
  });

  it('stops hedging once the call is aborted by its deadline', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const policy = pipeline('svc', [createDeadlineLayer({ ms: 50 }), createHedgeLayer({ delayMs: 100 })], {
      clock,
      timer,
    });
    const seen: Attempt[] = [];
    const result = policy.execute(dependency(clock, [1000, 1000], seen)).catch((e: unknown) => e);
    await clock.advanceAsync(200);
    expect(((await result) as FoundationError).code).toBe('FND_PROTECT_TIMEOUT');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.signal.aborted).toBe(true);
  });

  it('maxHedges 0 passes straight through; configure validates', async () => {
    const { clock, layer, policy } = setup({ delayMs: 10, maxHedges: 0 });
    const seen: Attempt[] = [];
    const result = policy.execute(dependency(clock, [100], seen));
    await clock.advanceAsync(200);
    await expect(result).resolves.toBe('answer 1');
    expect(seen).toHaveLength(1);
    expect(() => {
      layer.configure({ delayMs: -1 });
    }).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY', context: { option: 'hedge.delayMs' } }),
    );
  });
});

describe('attempt numbers with a retry around a hedge', () => {
  it('are unique and increasing across both layers (1, 2 for the first try and its hedge, then 3, 4)', async () => {
    const clock = new FakeClock();
    const timer = new CoarseTimer(clock, 10);
    const { createRetryLayer } = await import('../retry/retry-layer.js');
    const policy = pipeline(
      'svc',
      [
        createRetryLayer({ maxAttempts: 2, backoff: { kind: 'constant', delayMs: 0 } }),
        createHedgeLayer({ delayMs: 100, maxHedges: 1 }),
      ],
      { clock, timer },
    );
    const attempts: number[] = [];
    const result = policy.execute(({ attempt }) => {
      attempts.push(attempt);
      return Promise.reject(new Error(`attempt ${String(attempt)} failed`));
    });
    await expect(result).rejects.toThrow(/failed/);
    expect(attempts).toEqual([1, 2, 3, 4]);
  });
});
