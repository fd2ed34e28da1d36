import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { pipeline } from '../pipeline.js';
import { createAdaptiveLayer } from './adaptive-layer.js';
import type { AdaptiveOptions } from './adaptive-options.js';

/**
 * A dependency with `capacity` workers: a call that finds at most `capacity` calls in progress (itself
 * included) takes `baseMs`; beyond, it queues and takes `baseMs × active / capacity` (Little's law).
 */
class SimulatedDependency {
  capacity: number;
  baseMs: number;
  active = 0;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock, capacity: number, baseMs: number) {
    this.#clock = clock;
    this.capacity = capacity;
    this.baseMs = baseMs;
  }

  call(): Promise<void> {
    this.active += 1;
    const latency = Math.round(this.baseMs * Math.max(1, this.active / this.capacity));
    return new Promise((resolve) => {
      this.#clock.setTimeout(() => {
        this.active -= 1;
        resolve();
      }, latency);
    });
  }
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Degradation {
  /** Capacity and base latency while degraded (healthy: 20 workers, 10 ms). */
  readonly capacity: number;
  readonly baseMs: number;
}

/**
 * Runs a closed loop of 80 clients (each calls again as soon as its call ends, or 2 ms after a refusal) through
 * an adaptive layer for three phases of 6 s of fake time: healthy (capacity 20, 10 ms), degraded, recovered.
 * Returns the median limit over the second half of each phase (the first half is for converging).
 */
async function scenario(options: AdaptiveOptions, degraded: Degradation): Promise<number[]> {
  const clock = new FakeClock();
  const layer = createAdaptiveLayer(options);
  const policy = pipeline('scenario', [layer], { clock, timer: new CoarseTimer(clock) });
  const dependency = new SimulatedDependency(clock, 20, 10);
  let running = true;
  let overLimit = 0;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      clock.setTimeout(resolve, ms);
    });
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        await policy.execute(() => {
          if (layer.inflight > layer.limit) overLimit += 1;
          return dependency.call();
        });
      } catch {
        await pause(2);
      }
    }
  };
  const workers = Array.from({ length: 80 }, () => worker());
  const medians: number[] = [];
  const run = async (ms: number): Promise<void> => {
    const limits: number[] = [];
    for (let t = 0; t < ms; t += 1) {
      clock.advance(1);
      await flush();
      if (t >= ms / 2) limits.push(layer.limit);
    }
    limits.sort((a, b) => a - b);
    medians.push(limits[Math.floor(limits.length / 2)] ?? 0);
  };
  await run(6_000);
  dependency.capacity = degraded.capacity;
  dependency.baseMs = degraded.baseMs;
  await run(6_000);
  dependency.capacity = 20;
  dependency.baseMs = 10;
  await run(6_000);
  running = false;
  clock.advance(1_000);
  await flush();
  await Promise.all(workers);
  expect(overLimit).toBe(0);
  return medians;
}

describe('adaptive limit follows a dependency that degrades and recovers (closed loop, fake clock)', () => {
  it('vegas (the default) converges near the capacity, follows it down and back up', async () => {
    // Degraded: two fifths of the capacity at twice the base latency (the probe re-measures the no-load RTT).
    const [healthy, degraded, recovered] = await scenario({ random: () => 0.5 }, { capacity: 8, baseMs: 20 });
    // Vegas keeps a small queue (alpha..beta × log10(limit)) above the capacity.
    expect(healthy).toBeGreaterThanOrEqual(20);
    expect(healthy).toBeLessThanOrEqual(32);
    expect(degraded).toBeGreaterThanOrEqual(8);
    expect(degraded).toBeLessThanOrEqual(16);
    expect(recovered).toBeGreaterThanOrEqual(20);
    expect(recovered).toBeLessThanOrEqual(32);
  });

  it('aimd with a latency threshold near the base latency converges near the capacity, down and up', async () => {
    const [healthy, degraded, recovered] = await scenario(
      { algorithm: 'aimd', latencyThresholdMs: 13 },
      { capacity: 8, baseMs: 10 },
    );
    // Latency stays under 13 ms up to 1.3 × the capacity.
    expect(healthy).toBeGreaterThanOrEqual(18);
    expect(healthy).toBeLessThanOrEqual(27);
    expect(degraded).toBeGreaterThanOrEqual(6);
    expect(degraded).toBeLessThanOrEqual(11);
    expect(recovered).toBeGreaterThanOrEqual(18);
    expect(recovered).toBeLessThanOrEqual(27);
  });

  it('gradient2 follows the capacity down and back up, tolerating a standing queue', async () => {
    const [healthy, degraded, recovered] = (await scenario(
      { algorithm: 'gradient2' },
      { capacity: 8, baseMs: 20 },
    )) as [number, number, number];
    // Gradient2 reacts to changes of latency, not to a standing queue: its limit settles well above the
    // capacity (docs/decisions/0012-adaptive-concurrency.md), but it moves with it.
    expect(healthy).toBeGreaterThanOrEqual(20);
    expect(degraded).toBeGreaterThanOrEqual(8);
    expect(degraded).toBeLessThan(healthy * 0.6);
    expect(recovered).toBeGreaterThan(degraded * 1.5);
  });
});
