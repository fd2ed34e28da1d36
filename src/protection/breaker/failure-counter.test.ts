import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConsecutiveCounter, CountWindow, SamplingWindow, createFailureCounter } from './failure-counter.js';

describe('ConsecutiveCounter', () => {
  it('opens at the threshold of failures in a row; a success starts over', () => {
    const counter = new ConsecutiveCounter(3);
    expect(counter.record(true)).toBe(false);
    expect(counter.record(true)).toBe(false);
    expect(counter.record(false)).toBe(false);
    expect(counter.record(true)).toBe(false);
    expect(counter.record(true)).toBe(false);
    expect(counter.record(true)).toBe(true);
    expect(counter.counts()).toEqual({ calls: 3, failures: 3 });
    counter.reset();
    expect(counter.counts()).toEqual({ calls: 0, failures: 0 });
  });

  it('round-trips its snapshot', () => {
    const counter = new ConsecutiveCounter(5);
    counter.record(true);
    counter.record(true);
    const copy = new ConsecutiveCounter(5);
    copy.restore(JSON.parse(JSON.stringify(counter.snapshot())) as ReturnType<typeof counter.snapshot>);
    expect(copy.counts()).toEqual({ calls: 2, failures: 2 });
  });
});

describe('CountWindow', () => {
  it('judges the ratio only once minimumCalls were seen', () => {
    const window = new CountWindow({ size: 10, threshold: 0.5, minimumCalls: 4 });
    expect(window.record(true)).toBe(false);
    expect(window.record(true)).toBe(false);
    expect(window.record(false)).toBe(false);
    // 4 calls, 2 failures: 0.5 ≥ 0.5
    expect(window.record(false)).toBe(true);
  });

  it('slides: old samples leave the window', () => {
    const window = new CountWindow({ size: 3, threshold: 1, minimumCalls: 3 });
    window.record(true);
    window.record(false);
    window.record(true);
    expect(window.counts()).toEqual({ calls: 3, failures: 2 });
    window.record(true); // the first failure leaves, a failure enters
    expect(window.counts()).toEqual({ calls: 3, failures: 2 });
    expect(window.record(true)).toBe(true); // the success leaves: 3 of 3 failed
    expect(window.counts()).toEqual({ calls: 3, failures: 3 });
  });

  it('matches a reference model (the last `size` outcomes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        (size, threshold, outcomes, minimum) => {
          const minimumCalls = Math.min(minimum, size);
          const window = new CountWindow({ size, threshold, minimumCalls });
          const seen: boolean[] = [];
          for (const failure of outcomes) {
            const opens = window.record(failure);
            seen.push(failure);
            const last = seen.slice(-size);
            const failures = last.filter(Boolean).length;
            expect(window.counts()).toEqual({ calls: last.length, failures });
            expect(opens).toBe(last.length >= minimumCalls && failures / last.length >= threshold);
          }
          const copy = new CountWindow({ size, threshold, minimumCalls });
          copy.restore(window.snapshot());
          expect(copy.counts()).toEqual(window.counts());
          expect(copy.snapshot()).toEqual(window.snapshot());
        },
      ),
    );
  });

  it('keeps the newest samples when restored into a smaller window', () => {
    const window = new CountWindow({ size: 5, threshold: 0.5, minimumCalls: 1 });
    for (const failure of [true, true, false, false, true]) window.record(failure);
    const smaller = new CountWindow({ size: 2, threshold: 0.5, minimumCalls: 1 });
    smaller.restore(window.snapshot());
    expect(smaller.snapshot()).toEqual({ policy: 'count', samples: [false, true] });
  });
});

describe('SamplingWindow', () => {
  const options = { windowMs: 1000, buckets: 10, threshold: 0.5, minimumRps: 4 };

  it('needs minimumRps × window calls before judging', () => {
    const window = new SamplingWindow(options);
    expect(window.record(true, 0)).toBe(false);
    expect(window.record(true, 10)).toBe(false);
    expect(window.record(true, 20)).toBe(false);
    expect(window.record(true, 30)).toBe(true);
  });

  it('forgets buckets older than the window, also after a long gap', () => {
    const window = new SamplingWindow(options);
    window.record(true, 0);
    window.record(false, 450);
    expect(window.counts(950)).toEqual({ calls: 2, failures: 1 });
    expect(window.counts(1000)).toEqual({ calls: 1, failures: 0 });
    expect(window.counts(1500)).toEqual({ calls: 0, failures: 0 });
    window.record(true, 1_000_000);
    expect(window.counts(1_000_000)).toEqual({ calls: 1, failures: 1 });
  });

  it('matches a reference model (outcomes of the last `buckets` buckets)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 10, max: 1000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.boolean()), { maxLength: 60 }),
        (buckets, windowMs, steps) => {
          const window = new SamplingWindow({ windowMs, buckets, threshold: 0.5, minimumRps: 0 });
          const width = windowMs / buckets;
          const seen: { key: number; failure: boolean }[] = [];
          let now = 0;
          for (const [delta, failure] of steps) {
            now += delta;
            const opens = window.record(failure, now);
            const key = Math.floor(now / width);
            seen.push({ key, failure });
            const live = seen.filter((sample) => sample.key > key - buckets);
            const failures = live.filter((sample) => sample.failure).length;
            expect(window.counts(now)).toEqual({ calls: live.length, failures });
            expect(opens).toBe(failures / live.length >= 0.5);
          }
          const offset = 1_700_000_000_000 - 12.5;
          const copy = new SamplingWindow({ windowMs, buckets, threshold: 0.5, minimumRps: 0 });
          copy.restore(
            JSON.parse(JSON.stringify(window.snapshot(offset))) as ReturnType<typeof window.snapshot>,
            offset,
          );
          expect(copy.counts(now)).toEqual(window.counts(now));
        },
      ),
    );
  });
});

describe('createFailureCounter', () => {
  it('builds the counter of each policy and ignores snapshots of another policy', () => {
    const consecutive = createFailureCounter({ policy: 'consecutive', threshold: 2 });
    const count = createFailureCounter({ policy: 'count', size: 4, threshold: 0.5, minimumCalls: 2 });
    const sampling = createFailureCounter({
      policy: 'sampling',
      windowMs: 100,
      threshold: 0.5,
      minimumRps: 0,
      buckets: 2,
    });
    expect([consecutive.policy, count.policy, sampling.policy]).toEqual(['consecutive', 'count', 'sampling']);
    consecutive.record(true, 0);
    count.restore(consecutive.snapshot(0), 0);
    sampling.restore(consecutive.snapshot(0), 0);
    expect(count.counts(0)).toEqual({ calls: 0, failures: 0 });
    expect(sampling.counts(0)).toEqual({ calls: 0, failures: 0 });
  });
});
