import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from './budget.js';

describe('RetryBudget', () => {
  it('allows ratio × calls retries in the window (no reserve)', () => {
    const budget = new RetryBudget({ ratio: 0.1, windowMs: 10_000, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i += 1) budget.recordCall(i);
    let allowed = 0;
    while (budget.tryRetry(100)) allowed += 1;
    expect(allowed).toBe(10);
    expect(budget.tryRetry(100)).toBe(false);
  });

  it('keeps a reserve of minRetriesPerSecond × window seconds', () => {
    const budget = new RetryBudget({ ratio: 0, windowMs: 2000, minRetriesPerSecond: 1 });
    expect(budget.tryRetry(0)).toBe(true);
    expect(budget.tryRetry(0)).toBe(true);
    expect(budget.tryRetry(0)).toBe(false);
  });

  it('forgets calls and retries that slid out of the window', () => {
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 1000, minRetriesPerSecond: 0 });
    budget.recordCall(0);
    budget.recordCall(0);
    expect(budget.tryRetry(0)).toBe(true);
    expect(budget.tryRetry(50)).toBe(false);
    // 1 s later the window holds nothing: no calls, no retries.
    expect(budget.available(1100)).toBe(0);
    budget.recordCall(1100);
    budget.recordCall(1100);
    expect(budget.tryRetry(1150)).toBe(true);
  });

  it('configure keeps the counts when the window is unchanged, resets them otherwise', () => {
    const budget = new RetryBudget({ ratio: 0.1, windowMs: 1000, minRetriesPerSecond: 0 });
    for (let i = 0; i < 20; i += 1) budget.recordCall(0);
    budget.configure({ ratio: 0.5, windowMs: 1000, minRetriesPerSecond: 0 });
    expect(budget.available(0)).toBe(10);
    budget.configure({ ratio: 0.5, windowMs: 2000, minRetriesPerSecond: 0 });
    expect(budget.available(0)).toBe(0);
  });

  it('property: retries granted in any window never exceed reserve + ratio × calls', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 200 }),
        (ratio, minRetriesPerSecond, steps) => {
          const windowMs = 1000;
          const budget = new RetryBudget({ ratio, windowMs, minRetriesPerSecond });
          let now = 0;
          const calls: number[] = [];
          const retries: number[] = [];
          for (const [isCall, dt] of steps) {
            now += dt;
            if (isCall) {
              budget.recordCall(now);
              calls.push(now);
            } else if (budget.tryRetry(now)) {
              retries.push(now);
            }
            // Everything the model counts lies within the last window plus one bucket.
            const since = now - windowMs - windowMs / 10;
            const recentCalls = calls.filter((t) => t > since).length;
            const recentRetries = retries.filter((t) => t > now - windowMs + windowMs / 10).length;
            expect(recentRetries).toBeLessThanOrEqual(minRetriesPerSecond + ratio * recentCalls + 1e-9);
          }
        },
      ),
    );
  });
});
