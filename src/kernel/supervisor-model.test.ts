import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import type { Service, ServiceContext } from './service.js';
import { Supervisor, type BootPolicy, type RestartPolicy, type RestartStrategy } from './supervisor.js';

/** A random supervision scenario: a DAG of services, policies and limits. */
interface Scenario {
  readonly deps: readonly (readonly string[])[];
  readonly optional: readonly (readonly string[])[];
  readonly policies: readonly RestartPolicy[];
  readonly boot: readonly BootPolicy[];
  /** How many first start attempts throw (only for `background` services). */
  readonly startFailures: readonly number[];
  readonly strategy: RestartStrategy;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff: { readonly initial: number; readonly max: number };
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 6 }).chain((n) => {
  const names = Array.from({ length: n }, (_, i) => `s${i}`);
  return fc.record({
    deps: fc.tuple(...names.map((_, i) => fc.subarray(names.slice(0, i)))),
    optional: fc.tuple(...names.map((name) => fc.subarray(names.filter((x) => x !== name)))),
    policies: fc.tuple(
      ...names.map(() => fc.constantFrom<RestartPolicy>('permanent', 'permanent', 'temporary')),
    ),
    boot: fc.tuple(...names.map(() => fc.constantFrom<BootPolicy>('required', 'required', 'background'))),
    startFailures: fc.tuple(...names.map(() => fc.integer({ min: 0, max: 2 }))),
    strategy: fc.constantFrom<RestartStrategy>('one_for_one', 'rest_for_one'),
    maxRestarts: fc.integer({ min: 0, max: 4 }),
    withinMs: fc.integer({ min: 50, max: 2000 }),
    backoff: fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 800 }))
      .map(([initial, extra]) => ({ initial, max: initial + extra })),
  });
});

interface Real {
  readonly clock: FakeClock;
  readonly sup: Supervisor;
  readonly ctx: Map<string, ServiceContext>;
  readonly scenario: Scenario;
  /** Every `start` that threw, as seen by the service: which one and when (monotonic). */
  readonly thrown: { readonly index: number; readonly at: number }[];
}

interface Model {
  /** Effective run-time failures (`ctx.fail`) per service. */
  readonly fails: number[];
  /** Monotonic times of those failures that count as restarts (non-temporary services). */
  readonly restartTimes: number[];
}

/** Number of `background` start failures that apply to service `i`. */
function startFailuresOf(scenario: Scenario, i: number): number {
  return scenario.boot[i] === 'background' ? (scenario.startFailures[i] ?? 0) : 0;
}

/** Failures per service: `ctx.fail` ones plus thrown starts (every thrown start is a supervised failure). */
function failuresOf(model: Model, real: Real, i: number): number {
  return (model.fails[i] ?? 0) + real.thrown.filter((t) => t.index === i).length;
}

/** Whether the failures so far exceed the restart intensity (the supervisor must have escalated). */
function expectEscalated(model: Model, real: Real): boolean {
  const { scenario } = real;
  const thrown = real.thrown.filter((t) => scenario.policies[t.index] !== 'temporary').map((t) => t.at);
  const times = [...model.restartTimes, ...thrown].sort((a, b) => a - b);
  return exceeds(times, scenario.maxRestarts, scenario.withinMs);
}

function setup(scenario: Scenario): Real {
  const clock = new FakeClock();
  const ctx = new Map<string, ServiceContext>();
  const thrown: { index: number; at: number }[] = [];
  const sup = new Supervisor({
    clock,
    strategy: scenario.strategy,
    maxRestarts: scenario.maxRestarts,
    withinMs: scenario.withinMs,
    restartBackoffMs: scenario.backoff,
  });
  scenario.deps.forEach((deps, i) => {
    const name = `s${i}`;
    let attempts = 0;
    const service: Service<string> = {
      name,
      dependencies: deps,
      optionalDependencies: scenario.optional[i] ?? [],
      start: (c) => {
        if (++attempts <= startFailuresOf(scenario, i)) {
          thrown.push({ index: i, at: clock.monotonic() });
          throw new Error('unreachable');
        }
        ctx.set(name, c);
        return name;
      },
      stop: () => undefined,
    };
    sup.add(service, { restart: scenario.policies[i] ?? 'permanent', boot: scenario.boot[i] ?? 'required' });
  });
  return { clock, sup, ctx, scenario, thrown };
}

/** Whether some `maxRestarts + 1` restarts fall within one `withinMs` window. */
function exceeds(times: readonly number[], maxRestarts: number, withinMs: number): boolean {
  return times.some((t, k) => k >= maxRestarts && t - (times[k - maxRestarts] as number) < withinMs);
}

function checkStructure(real: Real): void {
  const status = real.sup.status();
  const byName = new Map(status.services.map((s) => [s.name, s]));
  for (const s of status.services) {
    expect(['starting', 'stopping']).not.toContain(s.state);
    if (s.state !== 'running') continue;
    for (const d of s.dependencies) expect(byName.get(d)?.state).toBe('running');
  }
  if (status.state === 'failed') {
    expect(status.escalated?.code).toBe('FND_LIFECYCLE_RESTART_INTENSITY');
    expect(status.services.some((s) => s.state === 'running')).toBe(false);
    expect(real.clock.pending()).toBe(0);
  } else {
    expect(status.state).toBe('running');
  }
}

function checkModel(model: Model, real: Real): void {
  checkStructure(real);
  const status = real.sup.status();
  const escalated = expectEscalated(model, real);
  expect(status.state === 'failed').toBe(escalated);
  if (escalated) return;
  for (const s of status.services) {
    const i = Number(s.name.slice(1));
    const fails = failuresOf(model, real, i);
    if (s.restartPolicy === 'temporary') {
      expect(s.restarts).toBe(0);
      expect(fails).toBeLessThanOrEqual(1);
    } else {
      // Each effective failure was restarted, or its restart is still waiting out the backoff.
      expect(s.restarts + (s.state === 'backoff' ? 1 : 0)).toBe(fails);
    }
  }
}

class FailCommand implements fc.AsyncCommand<Model, Real> {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const name = `s${this.index}`;
    const before = real.sup.status();
    const target = before.services.find((s) => s.name === name);
    const effective = before.state === 'running' && target?.state === 'running';
    real.ctx.get(name)?.fail(new Error('boom'));
    await real.sup.settled();
    if (effective) {
      model.fails[this.index] = (model.fails[this.index] ?? 0) + 1;
      if (target.restartPolicy !== 'temporary') model.restartTimes.push(real.clock.monotonic());
    }
    checkModel(model, real);
  }
  toString(): string {
    return `fail(s${this.index})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  readonly ms: number;
  readonly exact: boolean;
  /** @param exact check against the model (single failures) or only the structure. */
  constructor(ms: number, exact: boolean) {
    this.ms = ms;
    this.exact = exact;
  }
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.clock.advanceAsync(this.ms);
    await real.sup.settled();
    if (this.exact) checkModel(model, real);
    else checkStructure(real);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** Fails several services in the same tick (exercises the serial queue); only structure is checked. */
class FailManyCommand implements fc.AsyncCommand<Model, Real> {
  readonly indices: readonly number[];
  constructor(indices: readonly number[]) {
    this.indices = indices;
  }
  check(): boolean {
    return true;
  }
  async run(_model: Model, real: Real): Promise<void> {
    for (const i of this.indices) real.ctx.get(`s${i}`)?.fail(new Error('boom'));
    await real.sup.settled();
    checkStructure(real);
  }
  toString(): string {
    return `failMany(${this.indices.join(',')})`;
  }
}

/**
 * Starts the supervisor: it resolves unless the `background` start failures alone exceed the restart
 * intensity, in which case it rejects with the escalation.
 */
async function boot(real: Real): Promise<void> {
  let error: unknown;
  await real.sup.start().catch((e: unknown) => {
    error = e;
  });
  const status = real.sup.status();
  if (error === undefined) {
    expect(status.state).toBe('running');
  } else {
    expect(error).toBe(status.escalated);
    expect(status.state).toBe('failed');
  }
  checkModel({ fails: [], restartTimes: [] }, real);
}

/** After enough quiet time, everything runs except failed temporaries and what requires them. */
async function checkRecovers(real: Real): Promise<void> {
  await real.clock.advanceAsync(real.scenario.backoff.max * 2 + 1);
  await real.sup.settled();
  // Start failures may still be retried (each waits out at most `backoff.max`).
  for (let i = 0; i < 40 && real.clock.pending() > 0; i++) {
    await real.clock.advanceAsync(real.scenario.backoff.max + 1);
    await real.sup.settled();
  }
  const status = real.sup.status();
  if (status.state === 'failed') return;
  const byName = new Map(status.services.map((s) => [s.name, s]));
  const blocked = (name: string): boolean => {
    const s = byName.get(name);
    return s === undefined || s.state === 'failed' || s.dependencies.some(blocked);
  };
  for (const s of status.services) {
    if (blocked(s.name)) expect(['failed', 'waiting']).toContain(s.state);
    else expect(s.state).toBe('running');
  }
  expect(real.clock.pending()).toBe(0);
}

describe('Supervisor model', () => {
  it('property: random failures, background boot failures and time keep the invariants; escalation iff > maxRestarts in a window', async () => {
    const arb = scenarioArb.chain((scenario) =>
      fc.tuple(
        fc.constant(scenario),
        fc.commands(
          [
            fc.integer({ min: 0, max: scenario.deps.length - 1 }).map((i) => new FailCommand(i)),
            fc.integer({ min: 0, max: 700 }).map((ms) => new AdvanceCommand(ms, true)),
          ],
          { maxCommands: 40 },
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([scenario, commands]) => {
        const real = setup(scenario);
        await boot(real);
        const model: Model = { fails: scenario.deps.map(() => 0), restartTimes: [] };
        await fc.asyncModelRun(() => ({ model, real }), commands);
        await checkRecovers(real);
        await real.sup.stop();
        expect(real.clock.pending()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('property: simultaneous failures keep the structural invariants and recover', async () => {
    const arb = scenarioArb.chain((scenario) =>
      fc.tuple(
        fc.constant(scenario),
        fc.commands(
          [
            fc
              .array(fc.integer({ min: 0, max: scenario.deps.length - 1 }), { minLength: 1, maxLength: 4 })
              .map((indices) => new FailManyCommand(indices)),
            fc.integer({ min: 0, max: 700 }).map((ms) => new AdvanceCommand(ms, false)),
          ],
          { maxCommands: 30 },
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([scenario, commands]) => {
        const real = setup(scenario);
        await boot(real);
        const model: Model = { fails: [], restartTimes: [] };
        await fc.asyncModelRun(() => ({ model, real }), commands);
        await checkRecovers(real);
      }),
      { numRuns: 100 },
    );
  });
});
