import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import type { Service, ServiceContext } from './service.js';
import { Supervisor, type RestartPolicy, type RestartStrategy } from './supervisor.js';

/** A random supervision scenario: a DAG of services, policies and limits. */
interface Scenario {
  readonly deps: readonly (readonly string[])[];
  readonly optional: readonly (readonly string[])[];
  readonly policies: readonly RestartPolicy[];
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
}

interface Model {
  /** Effective run-time failures per service. */
  readonly fails: number[];
  /** Monotonic times of failures that count as restarts (non-temporary services). */
  readonly restartTimes: number[];
  escalated: boolean;
}

function setup(scenario: Scenario): Real {
  const clock = new FakeClock();
  const ctx = new Map<string, ServiceContext>();
  const sup = new Supervisor({
    clock,
    strategy: scenario.strategy,
    maxRestarts: scenario.maxRestarts,
    withinMs: scenario.withinMs,
    restartBackoffMs: scenario.backoff,
  });
  scenario.deps.forEach((deps, i) => {
    const name = `s${i}`;
    const service: Service<string> = {
      name,
      dependencies: deps,
      optionalDependencies: scenario.optional[i] ?? [],
      start: (c) => {
        ctx.set(name, c);
        return name;
      },
      stop: () => undefined,
    };
    sup.add(service, { restart: scenario.policies[i] ?? 'permanent' });
  });
  return { clock, sup, ctx, scenario };
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
  expect(status.state === 'failed').toBe(model.escalated);
  if (model.escalated) return;
  for (const s of status.services) {
    const i = Number(s.name.slice(1));
    const fails = model.fails[i] ?? 0;
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
    if (effective && !model.escalated) {
      model.fails[this.index] = (model.fails[this.index] ?? 0) + 1;
      if (target.restartPolicy !== 'temporary') {
        model.restartTimes.push(real.clock.monotonic());
        model.escalated = exceeds(model.restartTimes, real.scenario.maxRestarts, real.scenario.withinMs);
      }
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

/** After enough quiet time, everything runs except failed temporaries and what requires them. */
async function checkRecovers(real: Real): Promise<void> {
  await real.clock.advanceAsync(real.scenario.backoff.max * 2 + 1);
  await real.sup.settled();
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
  it('property: random failures and time keep the invariants; escalation iff > maxRestarts in a window', async () => {
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
        await real.sup.start();
        const model: Model = { fails: scenario.deps.map(() => 0), restartTimes: [], escalated: false };
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
        await real.sup.start();
        const model: Model = { fails: [], restartTimes: [], escalated: false };
        await fc.asyncModelRun(() => ({ model, real }), commands);
        await checkRecovers(real);
      }),
      { numRuns: 100 },
    );
  });
});
