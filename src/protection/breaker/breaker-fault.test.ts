import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { pipeline } from '../pipeline.js';
import { createBreakerLayer, type BreakerStateChange } from './breaker-layer.js';
import type { BreakerOptions } from './breaker-options.js';

/**
 * A dependency that answers in `latencyMs` (fake time) and fails while `down`; it counts the calls that reach
 * it, and the timeline replays an outage: healthy, down for a while, healthy again.
 */
class Dependency {
  down = false;
  calls = 0;
  readonly #clock: FakeClock;
  readonly #latencyMs: number;

  constructor(clock: FakeClock, latencyMs: number) {
    this.#clock = clock;
    this.#latencyMs = latencyMs;
  }

  readonly call = (): Promise<string> => {
    this.calls += 1;
    const down = this.down;
    return new Promise((resolve, reject) => {
      this.#clock.setTimeout(() => {
        if (down) reject(new Error('503 from dependency'));
        else resolve('ok');
      }, this.#latencyMs);
    });
  };
}

interface Tally {
  ok: number;
  failed: number;
  refused: number;
}

async function drive(
  options: BreakerOptions,
  timeline: readonly { readonly untilMs: number; readonly down: boolean }[],
  everyMs: number,
): Promise<{
  tallies: Tally[];
  changes: BreakerStateChange[];
  dependency: Dependency;
  reachedWhileOpen: number;
}> {
  const clock = new FakeClock();
  const breaker = createBreakerLayer(options, { clock, policy: 'dependency' });
  const policy = pipeline('dependency', [breaker], { clock, timer: new CoarseTimer(clock) });
  const dependency = new Dependency(clock, 5);
  const changes: BreakerStateChange[] = [];
  breaker.onStateChange((change) => changes.push(change));
  const tallies: Tally[] = [];
  let reachedWhileOpen = 0;
  let elapsed = 0;
  for (const phase of timeline) {
    const tally: Tally = { ok: 0, failed: 0, refused: 0 };
    tallies.push(tally);
    dependency.down = phase.down;
    const pending: Promise<void>[] = [];
    for (; elapsed < phase.untilMs; elapsed += everyMs) {
      const open = breaker.state() === 'open';
      const before = dependency.calls;
      pending.push(
        policy.execute(dependency.call).then(
          () => {
            tally.ok += 1;
          },
          (error: unknown) => {
            if (error instanceof FoundationError && error.code === 'FND_PROTECT_CIRCUIT_OPEN')
              tally.refused += 1;
            else tally.failed += 1;
          },
        ),
      );
      if (open && dependency.calls > before) reachedWhileOpen += 1;
      await clock.advanceAsync(everyMs);
    }
    await clock.advanceAsync(10);
    await Promise.all(pending);
  }
  return { tallies, changes, dependency, reachedWhileOpen };
}

describe('breaker fault scenarios (a dependency fails, then recovers)', () => {
  it('consecutive: sheds load during the outage, probes with escalating waits, closes when it recovers', async () => {
    const { tallies, changes, reachedWhileOpen } = await drive(
      { policy: 'consecutive', threshold: 5, openMs: 200, maxOpenMs: 800 },
      [
        { untilMs: 1000, down: false },
        { untilMs: 3000, down: true },
        { untilMs: 6000, down: false },
      ],
      10,
    );
    const [healthy, outage, recovered] = tallies as [Tally, Tally, Tally];
    expect(healthy).toEqual({ ok: 100, failed: 0, refused: 0 });
    // During the outage almost every call is refused without reaching the dependency.
    expect(outage.failed).toBeLessThan(15);
    expect(outage.refused).toBeGreaterThan(180);
    expect(reachedWhileOpen).toBe(0);
    const opens = changes.filter((change) => change.to === 'open').map((change) => change.openMs);
    expect(opens.slice(0, 4)).toEqual([200, 400, 800, 800]);
    expect(changes.every((change) => !(change.from === 'closed' && change.to === 'half_open'))).toBe(true);
    // After recovery the next probe closes it and the rest of the traffic flows.
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'closed' });
    expect(recovered.failed).toBe(0);
    expect(recovered.ok).toBeGreaterThan(200);
  });

  it('sampling: opens on the failure rate of the time window, recovers with several probes', async () => {
    const { tallies, changes } = await drive(
      {
        policy: 'sampling',
        windowMs: 1000,
        buckets: 10,
        threshold: 0.5,
        minimumRps: 20,
        openMs: 300,
        halfOpen: { probes: 2, successThreshold: 3 },
      },
      [
        { untilMs: 2000, down: false },
        { untilMs: 4000, down: true },
        { untilMs: 8000, down: false },
      ],
      20,
    );
    const [healthy, outage, recovered] = tallies as [Tally, Tally, Tally];
    expect(healthy.refused + healthy.failed).toBe(0);
    expect(outage.refused).toBeGreaterThan(outage.failed);
    expect(changes.map((change) => `${change.from}>${change.to}`)).toContain('closed>open');
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'closed' });
    expect(recovered.ok).toBeGreaterThan(150);
  });
});
