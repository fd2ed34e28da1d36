import { describe, expect, it } from 'vitest';
import { AimdLimit } from './aimd-limit.js';
import { Gradient2Limit } from './gradient2-limit.js';
import { VegasLimit, type VegasSettings } from './vegas-limit.js';

const bounds = { minLimit: 1, maxLimit: 100 };

describe('AimdLimit', () => {
  const make = (initialLimit = 10): AimdLimit =>
    new AimdLimit({ ...bounds, initialLimit, latencyThresholdMs: 50, backoffRatio: 0.9 });

  it('adds one on a fast call while at least half the limit is in flight', () => {
    const aimd = make();
    expect(aimd.update({ rttMs: 10, inflight: 5, dropped: false })).toBe(11);
    expect(aimd.update({ rttMs: 10, inflight: 4, dropped: false })).toBe(11); // app-limited: unchanged
  });

  it('multiplies by backoffRatio on a drop or a call over the latency threshold', () => {
    const aimd = make(20);
    expect(aimd.update({ rttMs: 10, inflight: 20, dropped: true })).toBe(18);
    expect(aimd.update({ rttMs: 51, inflight: 1, dropped: false })).toBe(16);
  });

  it('stays within the bounds', () => {
    const aimd = make(1);
    expect(aimd.update({ rttMs: 10, inflight: 1, dropped: true })).toBe(1);
    const top = make(100);
    expect(top.update({ rttMs: 10, inflight: 100, dropped: false })).toBe(100);
  });

  it('configure keeps the limit, clamped into new bounds', () => {
    const aimd = make(50);
    aimd.configure({ minLimit: 1, maxLimit: 30, initialLimit: 5, latencyThresholdMs: 50, backoffRatio: 0.5 });
    expect(aimd.limit).toBe(30);
    expect(aimd.update({ rttMs: 10, inflight: 30, dropped: true })).toBe(15);
  });
});

describe('VegasLimit', () => {
  const settings: VegasSettings = {
    ...bounds,
    initialLimit: 20,
    alpha: 3,
    beta: 6,
    threshold: 1,
    smoothing: 1,
    probeMultiplier: 1000,
    probeLimit: 3,
    random: () => 0.5,
  };

  it('takes the lowest RTT as the no-load RTT', () => {
    const vegas = new VegasLimit(settings);
    expect(vegas.update({ rttMs: 10, inflight: 20, dropped: false })).toBe(20);
    expect(vegas.rttNoLoad).toBe(10);
    vegas.update({ rttMs: 8, inflight: 20, dropped: false });
    expect(vegas.rttNoLoad).toBe(8);
  });

  it('grows fast with no queue, slowly with a small one, holds between alpha and beta, shrinks above beta', () => {
    const vegas = new VegasLimit(settings);
    vegas.update({ rttMs: 10, inflight: 20, dropped: false });
    const step = Math.log10(20);
    // queue = ceil(20 × (1 − 10/10.1)) = 1 ≤ threshold × log10(20): + beta × log10(20)
    expect(vegas.update({ rttMs: 10.1, inflight: 20, dropped: false })).toBe(Math.floor(20 + 6 * step));
    const l1 = vegas.limit; // 27
    const e1 = 20 + 6 * step;
    // queue = ceil(e1 × (1 − 10/11)) = 3 < alpha × log10: + log10
    expect(vegas.update({ rttMs: 11, inflight: l1, dropped: false })).toBe(Math.floor(e1 + Math.log10(e1)));
    const e2 = e1 + Math.log10(e1);
    // queue = ceil(e2 × (1 − 10/12.5)) = 6, between alpha (4.4) and beta (8.8): hold
    expect(vegas.update({ rttMs: 12.5, inflight: 28, dropped: false })).toBe(Math.floor(e2));
    // queue = ceil(e2 × 0.5) = 15 > beta: − log10
    expect(vegas.update({ rttMs: 20, inflight: 28, dropped: false })).toBe(Math.floor(e2 - Math.log10(e2)));
  });

  it('shrinks on a drop and does not grow a limit nobody uses', () => {
    const vegas = new VegasLimit(settings);
    vegas.update({ rttMs: 10, inflight: 20, dropped: false });
    expect(vegas.update({ rttMs: 10.1, inflight: 9, dropped: false })).toBe(20);
    expect(vegas.update({ rttMs: 10, inflight: 20, dropped: true })).toBe(18);
  });

  it('probes the no-load RTT at probeLimit, then returns to its limit', () => {
    const vegas = new VegasLimit({ ...settings, probeMultiplier: 1 }); // a probe every 20 × 0.75 = 15 calls
    vegas.update({ rttMs: 50, inflight: 20, dropped: false, calls: 1 });
    expect(vegas.update({ rttMs: 100, inflight: 20, dropped: false, calls: 14 })).toBe(3);
    expect(vegas.probing).toBe(true);
    // A call admitted before the probe (20 in flight) measures nothing.
    expect(vegas.update({ rttMs: 100, inflight: 20, dropped: false })).toBe(3);
    expect(vegas.update({ rttMs: 30, inflight: 3, dropped: false })).toBe(20);
    expect(vegas.probing).toBe(false);
    expect(vegas.rttNoLoad).toBe(30);
  });

  it('keeps small limits moving (thresholds scale with log10(limit), at least 1)', () => {
    const vegas = new VegasLimit({ ...settings, initialLimit: 1 });
    vegas.update({ rttMs: 10, inflight: 1, dropped: false });
    expect(vegas.update({ rttMs: 10, inflight: 1, dropped: false })).toBe(7);
  });
});

describe('Gradient2Limit', () => {
  const make = (initialLimit = 20): Gradient2Limit =>
    new Gradient2Limit({
      ...bounds,
      initialLimit,
      tolerance: 1.5,
      smoothing: 1,
      longWindow: 600,
      queueSize: 4,
    });

  it('grows by queueSize while the RTT stays within tolerance of the long-term RTT', () => {
    const g = make();
    expect(g.update({ rttMs: 10, inflight: 20, dropped: false })).toBe(24);
    expect(g.update({ rttMs: 14, inflight: 24, dropped: false })).toBe(28);
    expect(g.longRtt).toBe(12);
  });

  it('shrinks by the gradient when the RTT exceeds tolerance × long-term, at most by half', () => {
    const g = make(40);
    for (let i = 0; i < 10; i += 1) g.update({ rttMs: 10, inflight: 1, dropped: false }); // warm up, app-limited
    expect(g.longRtt).toBe(10);
    // long ≈ (10×600·… ) stays ≈ 10.03; gradient = 1.5 × 10.03 / 30 ≈ 0.50 → 40 × 0.5 + 4
    expect(g.update({ rttMs: 30, inflight: 40, dropped: false })).toBe(24);
    // much slower: clamped at 0.5
    expect(g.update({ rttMs: 1000, inflight: 40, dropped: false })).toBe(16);
  });

  it('counts a drop as the steepest gradient and leaves an unused limit alone', () => {
    const g = make(40);
    expect(g.update({ rttMs: 10, inflight: 5, dropped: false })).toBe(40);
    expect(g.update({ rttMs: 10, inflight: 5, dropped: true })).toBe(24);
  });

  it('pulls the long-term RTT down when it is over twice the latest (recovery)', () => {
    const g = make();
    for (let i = 0; i < 10; i += 1) g.update({ rttMs: 100, inflight: 1, dropped: false });
    const before = g.longRtt;
    g.update({ rttMs: 10, inflight: 1, dropped: false });
    expect(g.longRtt).toBeLessThan(before * 0.96);
  });

  it('smoothing weighs the new limit against the old', () => {
    const g = new Gradient2Limit({
      ...bounds,
      initialLimit: 20,
      tolerance: 1.5,
      smoothing: 0.5,
      longWindow: 600,
      queueSize: 4,
    });
    expect(g.update({ rttMs: 10, inflight: 20, dropped: false })).toBe(22);
  });
});
