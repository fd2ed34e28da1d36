import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BreakerMachine, CLOSED_TICKET, REFUSED, type BreakerState } from './breaker-machine.js';
import { resolveBreakerOptions, type BreakerOptions } from './breaker-options.js';
import { parseBreakerSnapshot } from './breaker-snapshot.js';

function machine(options: BreakerOptions): BreakerMachine {
  return new BreakerMachine(resolveBreakerOptions(options));
}

describe('BreakerMachine', () => {
  it('opens after the threshold, refuses while open, probes when the duration passed, closes on success', () => {
    const m = machine({ policy: 'consecutive', threshold: 2, openMs: 100 });
    expect(m.admit(0)).toBe(CLOSED_TICKET);
    m.settle(CLOSED_TICKET, true, 0);
    m.settle(CLOSED_TICKET, true, 5);
    expect(m.state).toBe('open');
    expect(m.openUntil).toBe(105);
    expect(m.admit(104)).toBe(REFUSED);
    expect(m.retryAfter(104)).toBe(1);
    const probe = m.admit(105);
    expect(m.state).toBe('half_open');
    expect(probe).toBeGreaterThanOrEqual(0);
    expect(m.admit(105)).toBe(REFUSED); // one probe at a time
    m.settle(probe, false, 110);
    expect(m.state).toBe('closed');
  });

  it('doubles the open duration on each failed probe up to maxOpenMs, and starts over after a close', () => {
    const m = machine({ policy: 'consecutive', threshold: 1, openMs: 100, maxOpenMs: 350 });
    m.settle(CLOSED_TICKET, true, 0);
    const durations: number[] = [m.openUntil - m.openedAt];
    for (let i = 0; i < 4; i += 1) {
      const probe = m.admit(m.openUntil);
      m.settle(probe, true, m.openedAt + durations.reduce((a, b) => a + b, 0));
      durations.push(m.openUntil - m.openedAt);
    }
    expect(durations).toEqual([100, 200, 350, 350, 350]);
    m.settle(m.admit(m.openUntil), false, m.openUntil);
    expect(m.state).toBe('closed');
    expect(m.level).toBe(0);
    m.settle(CLOSED_TICKET, true, 10_000);
    expect(m.openUntil - m.openedAt).toBe(100);
  });

  it('needs successThreshold successful probes, admits `probes` at a time, ignores stale probes', () => {
    const m = machine({
      policy: 'consecutive',
      threshold: 1,
      openMs: 10,
      halfOpen: { probes: 2, successThreshold: 3 },
    });
    m.settle(CLOSED_TICKET, true, 0);
    const a = m.admit(10);
    const b = m.admit(10);
    expect(m.admit(10)).toBe(REFUSED);
    m.settle(a, false, 11);
    m.settle(b, false, 11);
    expect(m.state).toBe('half_open');
    const c = m.admit(12);
    m.release(c); // cancelled: frees the slot, counts nothing
    expect(m.probesInFlight).toBe(0);
    const d = m.admit(12);
    m.settle(d, false, 13);
    expect(m.state).toBe('closed');
    m.settle(c, true, 14); // stale
    expect(m.state).toBe('closed');
  });

  it('isolates until reset; reset clears counters and escalation', () => {
    const m = machine({ policy: 'consecutive', threshold: 2, openMs: 10 });
    m.settle(CLOSED_TICKET, true, 0);
    m.isolate();
    expect(m.admit(1_000_000)).toBe(REFUSED);
    expect(m.retryAfter(0)).toBeUndefined();
    m.settle(CLOSED_TICKET, true, 1);
    expect(m.state).toBe('isolated');
    m.reset();
    expect(m.state).toBe('closed');
    m.settle(CLOSED_TICKET, true, 2);
    expect(m.state).toBe('closed');
  });

  it('keeps its state when configured; a new policy of the same kind takes over the counts', () => {
    const m = machine({ policy: 'count', size: 10, threshold: 0.5, minimumCalls: 10 });
    for (let i = 0; i < 4; i += 1) m.settle(CLOSED_TICKET, true, 0);
    m.configure(resolveBreakerOptions({ policy: 'count', size: 10, threshold: 0.5, minimumCalls: 5 }));
    expect(m.counter.counts(0)).toEqual({ calls: 4, failures: 4 });
    m.settle(CLOSED_TICKET, true, 0);
    expect(m.state).toBe('open');
    const openUntil = m.openUntil;
    m.configure(resolveBreakerOptions({ policy: 'consecutive', threshold: 3, openMs: 1 }));
    expect(m.state).toBe('open');
    expect(m.openUntil).toBe(openUntil);
  });

  it('exports and restores across clocks (wall times in the snapshot)', () => {
    const m = machine({ policy: 'consecutive', threshold: 1, openMs: 1000 });
    m.settle(CLOSED_TICKET, true, 500); // open until monotonic 1500
    const snapshot = parseBreakerSnapshot(JSON.parse(JSON.stringify(m.snapshot(10_000))));
    expect(snapshot).toMatchObject({ state: 'open', openUntil: 11_500, openedAt: 10_500, level: 0 });
    const other = machine({ policy: 'consecutive', threshold: 1, openMs: 1000 });
    other.restore(snapshot, 11_000); // this process' monotonic = wall − 11 000
    expect(other.state).toBe('open');
    expect(other.admit(499)).toBe(REFUSED);
    expect(other.admit(500)).not.toBe(REFUSED);
  });

  it('refuses malformed snapshots naming the field', () => {
    expect(() => parseBreakerSnapshot({ version: 1, state: 'ajar' })).toThrow(/"state"/);
    expect(() =>
      parseBreakerSnapshot({
        version: 1,
        state: 'open',
        level: 0,
        probeSuccesses: 0,
        counter: { policy: 'x' },
      }),
    ).toThrow(/counter.policy/);
    expect(() =>
      parseBreakerSnapshot({
        version: 1,
        state: 'open',
        level: 0,
        probeSuccesses: 0,
        counter: { policy: 'consecutive', failures: 0 },
      }),
    ).toThrow(/openUntil/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Model-based properties: random sequences of admissions, outcomes, time steps, isolate and reset, checked
// against a reference model written separately and against the invariants of the state machine.

type Command =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'admit' }
  | { readonly kind: 'settle'; readonly index: number; readonly failure: boolean }
  | { readonly kind: 'release'; readonly index: number }
  | { readonly kind: 'isolate' }
  | { readonly kind: 'reset' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  },
  { weight: 5, arbitrary: fc.constant({ kind: 'admit' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), failure: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'isolate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

/** The reference: a plain list of closed outcomes, probes tracked by generation. */
class Reference {
  state: BreakerState = 'closed';
  openUntil = 0;
  level = 0;
  generation = 0;
  probes = 0;
  successes = 0;
  outcomes: boolean[] = [];
  readonly threshold: number;
  readonly size: number | undefined;
  readonly minimumCalls: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly maxProbes: number;
  readonly successThreshold: number;
  constructor(
    threshold: number,
    size: number | undefined,
    minimumCalls: number,
    openMs: number,
    maxOpenMs: number,
    maxProbes: number,
    successThreshold: number,
  ) {
    this.threshold = threshold;
    this.size = size;
    this.minimumCalls = minimumCalls;
    this.openMs = openMs;
    this.maxOpenMs = maxOpenMs;
    this.maxProbes = maxProbes;
    this.successThreshold = successThreshold;
  }

  #enter(state: BreakerState): void {
    this.state = state;
    this.generation += 1;
    this.probes = 0;
    this.successes = 0;
  }

  #trips(): boolean {
    if (this.size === undefined) {
      let run = 0;
      for (let i = this.outcomes.length - 1; i >= 0 && this.outcomes[i] === true; i -= 1) run += 1;
      return run >= this.threshold;
    }
    const last = this.outcomes.slice(-this.size);
    const failures = last.filter(Boolean).length;
    return last.length >= this.minimumCalls && failures / last.length >= this.threshold;
  }

  #open(now: number): void {
    this.#enter('open');
    this.openUntil = now + Math.min(this.openMs * 2 ** this.level, this.maxOpenMs);
  }

  #close(): void {
    this.#enter('closed');
    this.level = 0;
    this.outcomes = [];
  }

  admit(now: number): 'closed' | number | undefined {
    if (this.state === 'closed') return 'closed';
    if (this.state === 'open' && now >= this.openUntil) this.#enter('half_open');
    if (this.state !== 'half_open' || this.probes >= this.maxProbes) return undefined;
    this.probes += 1;
    return this.generation;
  }

  settle(ticket: 'closed' | number, failure: boolean, now: number): void {
    if (ticket === 'closed') {
      if (this.state !== 'closed') return;
      this.outcomes.push(failure);
      if (this.#trips()) this.#open(now);
      return;
    }
    if (ticket !== this.generation || this.state !== 'half_open') return;
    this.probes -= 1;
    if (failure) {
      if (Math.min(this.openMs * 2 ** this.level, this.maxOpenMs) < this.maxOpenMs) this.level += 1;
      this.#open(now);
    } else if (++this.successes >= this.successThreshold) {
      this.#close();
    }
  }

  release(ticket: 'closed' | number): void {
    if (ticket === this.generation && this.state === 'half_open') this.probes -= 1;
  }

  isolate(): void {
    if (this.state !== 'isolated') this.#enter('isolated');
  }

  reset(): void {
    this.#close();
  }
}

const config = fc.record({
  counting: fc.boolean(),
  threshold: fc.integer({ min: 1, max: 4 }),
  ratio: fc.constantFrom(0.25, 0.5, 0.75, 1),
  size: fc.integer({ min: 1, max: 8 }),
  minimumCalls: fc.integer({ min: 1, max: 8 }),
  openMs: fc.integer({ min: 1, max: 200 }),
  escalation: fc.integer({ min: 1, max: 10 }),
  probes: fc.integer({ min: 1, max: 3 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
});

describe('BreakerMachine properties', () => {
  it('agrees with the reference model and keeps its invariants over any sequence', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(
        config,
        fc.array(command, { minLength: 20, maxLength: 150, size: 'max' }),
        (c, commands) => {
          const maxOpenMs = c.openMs * c.escalation;
          const options: BreakerOptions = c.counting
            ? {
                policy: 'count',
                size: c.size,
                threshold: c.ratio,
                minimumCalls: Math.min(c.minimumCalls, c.size),
                openMs: c.openMs,
                maxOpenMs,
                halfOpen: { probes: c.probes, successThreshold: c.successThreshold },
              }
            : {
                policy: 'consecutive',
                threshold: c.threshold,
                openMs: c.openMs,
                maxOpenMs,
                halfOpen: { probes: c.probes, successThreshold: c.successThreshold },
              };
          const m = machine(options);
          const ref = new Reference(
            c.counting ? c.ratio : c.threshold,
            c.counting ? c.size : undefined,
            Math.min(c.minimumCalls, c.size),
            c.openMs,
            maxOpenMs,
            c.probes,
            c.successThreshold,
          );
          const inFlight: { ours: number; theirs: 'closed' | number }[] = [];
          let now = 0;
          let openedAt = 0;
          let openFor = 0;
          for (const step of commands) {
            const before = m.state;
            switch (step.kind) {
              case 'advance':
                now += step.ms;
                break;
              case 'admit': {
                const ours = m.admit(now);
                const theirs = ref.admit(now);
                expect(ours === REFUSED).toBe(theirs === undefined);
                // An open breaker refuses every call until its duration passed.
                if (before === 'open') expect(ours === REFUSED).toBe(now < openedAt + openFor);
                if (theirs !== undefined) inFlight.push({ ours, theirs });
                break;
              }
              case 'settle':
              case 'release': {
                if (inFlight.length === 0) break;
                const [call] = inFlight.splice(step.index % inFlight.length, 1);
                if (call === undefined) break;
                if (step.kind === 'release') {
                  m.release(call.ours);
                  ref.release(call.theirs);
                } else {
                  m.settle(call.ours, step.failure, now);
                  ref.settle(call.theirs, step.failure, now);
                }
                break;
              }
              case 'isolate':
                m.isolate();
                ref.isolate();
                break;
              case 'reset':
                m.reset();
                ref.reset();
                break;
            }
            const after = m.state;
            reached.add(`${before}>${after}`);
            if (m.probesInFlight === c.probes && c.probes > 1) reached.add('probes full');
            if (m.level > 1) reached.add('escalated');
            // Never closed → half-open directly; half-open only ever comes from open (after its duration).
            if (after === 'half_open' && before !== 'half_open') {
              expect(before).toBe('open');
              expect(now).toBeGreaterThanOrEqual(openedAt + openFor);
            }
            if (after === 'open' && before !== 'open') {
              openedAt = m.openedAt;
              openFor = m.openUntil - m.openedAt;
              expect(openedAt).toBe(now);
              expect(openFor).toBe(Math.min(c.openMs * 2 ** m.level, maxOpenMs));
              expect(['closed', 'half_open']).toContain(before);
            }
            expect(m.probesInFlight).toBeLessThanOrEqual(c.probes);
            expect(m.probesInFlight).toBeGreaterThanOrEqual(0);
            expect(after).toBe(ref.state);
            expect(m.level).toBe(ref.level);
            expect(m.probesInFlight).toBe(ref.probes);
            if (after === 'open') expect(m.openUntil).toBe(ref.openUntil);
            if (after === 'closed' && c.counting) {
              const last = ref.outcomes.slice(-c.size);
              expect(m.counter.counts(now)).toEqual({
                calls: last.length,
                failures: last.filter(Boolean).length,
              });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // The sequences do reach every transition (else the property proves little).
    for (const seen of [
      'closed>open',
      'open>half_open',
      'half_open>open',
      'half_open>closed',
      'probes full',
      'escalated',
    ]) {
      expect(reached).toContain(seen);
    }
  });

  it('survives a JSON round trip of its snapshot in any state', () => {
    fc.assert(
      fc.property(
        config,
        fc.array(command, { minLength: 10, maxLength: 80, size: 'max' }),
        fc.integer({ min: -1e6, max: 1e6 }),
        (c, commands, shift) => {
          const options: BreakerOptions = {
            policy: 'count',
            size: c.size,
            threshold: c.ratio,
            minimumCalls: Math.min(c.minimumCalls, c.size),
            openMs: c.openMs,
            halfOpen: { probes: c.probes, successThreshold: c.successThreshold },
          };
          const m = machine(options);
          const tickets: number[] = [];
          let now = 0;
          for (const step of commands) {
            if (step.kind === 'advance') now += step.ms;
            else if (step.kind === 'admit') tickets.push(m.admit(now));
            else if (step.kind === 'settle' && tickets.length > 0)
              m.settle(tickets.pop() as number, step.failure, now);
            else if (step.kind === 'isolate') m.isolate();
          }
          const snapshot = parseBreakerSnapshot(JSON.parse(JSON.stringify(m.snapshot(1_000_000))));
          const copy = machine(options);
          copy.restore(snapshot, 1_000_000 + shift);
          expect(copy.state).toBe(m.state);
          expect(copy.level).toBe(m.level);
          expect(copy.counter.counts(now)).toEqual(m.counter.counts(now));
          if (m.state === 'open') expect(copy.openUntil + shift).toBe(m.openUntil);
          expect(copy.snapshot(1_000_000 + shift)).toEqual(
            snapshot.state === 'half_open' ? { ...snapshot } : snapshot,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
