/** Less common transitions of the breaker model: reconfiguring while half-open and sparse snapshots. */
import { describe, expect, it } from 'vitest';
import { BreakerMachine, CLOSED_TICKET, type BreakerSnapshot } from './breaker-machine.js';
import { resolveBreakerOptions, type BreakerOptions } from './breaker-options.js';
import { parseBreakerSnapshot } from './breaker-snapshot.js';
import { createFailureCounter } from './failure-counter.js';

function machine(options: BreakerOptions): BreakerMachine {
  return new BreakerMachine(resolveBreakerOptions(options));
}

/** A machine that opened at 0 and is half-open at 100 with one successful probe (of two needed). */
function halfOpenWithOneSuccess(): BreakerMachine {
  const m = machine({
    policy: 'consecutive',
    threshold: 1,
    openMs: 100,
    halfOpen: { probes: 2, successThreshold: 2 },
  });
  m.settle(CLOSED_TICKET, true, 0);
  const probe = m.admit(100);
  m.settle(probe, false, 101);
  return m;
}

describe('BreakerMachine.configure', () => {
  it('closes a half-open breaker whose probe successes already meet a lowered success threshold', () => {
    const m = halfOpenWithOneSuccess();
    expect(m.state).toBe('half_open');
    expect(m.probeSuccesses).toBe(1);
    m.configure(
      resolveBreakerOptions({
        policy: 'consecutive',
        threshold: 1,
        openMs: 100,
        halfOpen: { successThreshold: 1 },
      }),
    );
    expect(m.state).toBe('closed');
  });

  it('keeps a half-open breaker half-open when the threshold is still ahead, and keeps a same-policy counter', () => {
    const m = halfOpenWithOneSuccess();
    const counter = m.counter;
    m.configure(
      resolveBreakerOptions({
        policy: 'consecutive',
        threshold: 1,
        openMs: 200,
        halfOpen: { probes: 2, successThreshold: 3 },
      }),
    );
    expect(m.state).toBe('half_open');
    expect(m.counter).toBe(counter);
    expect(m.options.openMs).toBe(200);
  });
});

describe('BreakerMachine.restore of sparse open snapshots', () => {
  const counter = createFailureCounter(
    resolveBreakerOptions({ policy: 'consecutive', threshold: 3 }).counter,
  );

  it('takes openedAt from openUntil when only openUntil is given', () => {
    const snapshot = parseBreakerSnapshot({
      version: 1,
      state: 'open',
      openUntil: 5000,
      level: 1,
      probeSuccesses: 0,
      counter: counter.snapshot(0),
    });
    const m = machine({ policy: 'consecutive', threshold: 3 });
    m.restore(snapshot, 1000);
    expect(m.state).toBe('open');
    expect(m.openUntil).toBe(4000);
    expect(m.openedAt).toBe(4000);
    expect(m.level).toBe(1);
  });

  it('opens until now (offset) when a hand-made snapshot names no times (the type allows leaving them out)', () => {
    const snapshot: BreakerSnapshot = {
      version: 1,
      state: 'open',
      level: 0,
      probeSuccesses: 0,
      counter: counter.snapshot(0),
    };
    const m = machine({ policy: 'consecutive', threshold: 3 });
    m.restore(snapshot, 1000);
    expect(m.openUntil).toBe(0);
    expect(m.openedAt).toBe(0);
    expect(m.state).toBe('open');
  });
});

describe('sampling counter restore', () => {
  it('drops buckets that fall out of the window of the newest one', () => {
    const policy = resolveBreakerOptions({
      policy: 'sampling',
      windowMs: 1000,
      threshold: 0.5,
      minimumRps: 0,
      buckets: 10,
    }).counter;
    const restored = createFailureCounter(policy);
    restored.restore(
      {
        policy: 'sampling',
        buckets: [
          { at: 0, successes: 5, failures: 5 },
          { at: 2000, successes: 1, failures: 2 },
        ],
      },
      0,
    );
    expect(restored.snapshot(0)).toEqual({
      policy: 'sampling',
      buckets: [{ at: 2000, successes: 1, failures: 2 }],
    });
  });
});
