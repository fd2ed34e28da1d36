import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { CallState } from './call-state.js';
import { DEFAULT_LAYER_FACTORIES, type ConfigurableLayer, type LayerFactories } from './layer-factories.js';
import { protectionConfigSchema, type ProtectionSettings } from './policy-config.js';
import { ProtectionRegistry } from './protect.js';
import { LAYER_ORDER, type LayerKind } from './types.js';

/** A layer that records the order it ran in and the options it was given. */
interface Probe extends ConfigurableLayer {
  options: Readonly<Record<string, unknown>>;
  configured: number;
}

function probes(trace: string[], created: Probe[]): LayerFactories {
  const make =
    (kind: LayerKind) =>
    (options: Readonly<Record<string, unknown>>): Probe => {
      if (options.bad === true) {
        throw new FoundationError('FND_PROTECT_INVALID_POLICY', {
          message: `bad ${kind}`,
          context: { layer: kind, option: 'bad' },
        });
      }
      const probe: Probe = {
        kind,
        options,
        configured: 0,
        configure(next: Readonly<Record<string, unknown>>) {
          probe.options = next;
          probe.configured += 1;
        },
        run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
          trace.push(kind);
          return next(call);
        },
        status: () => ({ kind, ...probe.options }),
      };
      created.push(probe);
      return probe;
    };
  return Object.fromEntries(LAYER_ORDER.map((kind) => [kind, make(kind)])) as unknown as LayerFactories;
}

function setup(initial: unknown) {
  let settings: ProtectionSettings = protectionConfigSchema.parse(initial);
  const trace: string[] = [];
  const created: Probe[] = [];
  const registry = new ProtectionRegistry({
    clock: new FakeClock(),
    settings: () => settings,
    factories: probes(trace, created),
  });
  return {
    registry,
    trace,
    created,
    set: (next: unknown) => {
      settings = protectionConfigSchema.parse(next);
      return registry.reconfigure();
    },
  };
}

describe('ProtectionRegistry', () => {
  it('builds a policy from its entry in the documented order and passes attempt and deadline', async () => {
    const { registry, trace } = setup({
      api: {
        timeout: { ms: 50 },
        retry: {},
        breaker: {},
        deadline: {},
        bulkhead: {},
        hedge: {},
        adaptive: {},
      },
    });
    const policy = registry.policy('api');
    expect(registry.policy('api')).toBe(policy);
    const seen = await policy.execute(({ attempt, deadline }) => ({ attempt, deadline }));
    expect(seen).toEqual({ attempt: 1, deadline: undefined });
    expect(trace).toEqual(['deadline', 'retry', 'breaker', 'adaptive', 'bulkhead', 'hedge', 'timeout']);
  });

  it('follows an entry’s order and puts a code fallback where the order says (else outermost)', async () => {
    const { registry, trace } = setup({
      a: { timeout: {}, retry: {}, order: ['timeout', 'fallback', 'retry'] },
      b: { timeout: {}, retry: {}, order: ['timeout', 'retry'] },
    });
    await registry.policy('a', { fallback: { value: 1 } }).execute(() => 1);
    expect(trace.splice(0)).toEqual(['timeout', 'fallback', 'retry']);
    await registry.policy('b', { fallback: { value: 1 } }).execute(() => 1);
    expect(trace).toEqual(['fallback', 'timeout', 'retry']);
  });

  it('passes failures to the breaker and retry only', () => {
    const { registry, created } = setup({ a: { breaker: {}, retry: {}, timeout: {} } });
    const failures = { error: () => true };
    registry.policy('a', { failures });
    const byKind = new Map(created.map((probe) => [probe.kind, probe]));
    expect(byKind.get('breaker')?.options.failures).toBe(failures);
    expect(byKind.get('retry')?.options.failures).toBe(failures);
    expect(byKind.get('timeout')?.options.failures).toBeUndefined();
  });

  it('refuses an unknown name, listing the configured ones', () => {
    const { registry } = setup({ beta: {}, alpha: {} });
    expect(() => registry.policy('gamma')).toThrow(
      expect.objectContaining({
        code: 'FND_PROTECT_INVALID_POLICY',
        message: expect.stringContaining('configured: alpha, beta') as unknown,
        context: { policy: 'gamma', configured: ['alpha', 'beta'] },
      }),
    );
  });

  it('refuses other overrides once some are set, and accepts the same ones again', () => {
    const { registry } = setup({ a: { retry: {} } });
    const overrides = { fallback: { value: 1 } };
    const policy = registry.policy('a');
    expect(registry.policy('a', overrides)).toBe(policy);
    expect(registry.policy('a', overrides)).toBe(policy);
    expect(() => registry.policy('a', { fallback: { value: 2 } })).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }),
    );
  });

  it('reconfigures kept layers in place and rebuilds for added or removed ones', async () => {
    const { registry, created, trace, set } = setup({ a: { breaker: { threshold: 5 }, timeout: {} } });
    const policy = registry.policy('a');
    const breaker = created.find((probe) => probe.kind === 'breaker');
    // One call in flight on the first pipeline.
    let release: (value: number) => void = () => undefined;
    const inFlight = policy.execute(() => new Promise<number>((resolve) => (release = resolve)));
    expect(set({ a: { breaker: { threshold: 2 }, timeout: {} } }).reconfigured).toEqual(['a']);
    expect(breaker?.configured).toBe(1);
    expect(breaker?.options.threshold).toBe(2);
    expect(registry.breaker('a')).toBe(breaker);

    set({ a: { breaker: { threshold: 2 }, retry: {} } });
    trace.splice(0);
    await policy.execute(() => 1);
    expect(trace).toEqual(['retry', 'breaker']);
    expect(registry.breaker('a')).toBe(breaker);
    release(7);
    await expect(inFlight).resolves.toBe(7);
    expect(registry.list()).toEqual([
      {
        name: 'a',
        configured: true,
        layers: [expect.objectContaining({ kind: 'retry' }), expect.objectContaining({ kind: 'breaker' })],
      },
    ]);
  });

  it('keeps a policy’s layers when a layer refuses the new options, and reports it', () => {
    const { registry, created, set } = setup({ a: { breaker: { threshold: 5 } } });
    registry.policy('a');
    expect(set({ a: { breaker: { threshold: 3 }, timeout: {} } }).failed).toEqual([]);
    const before = created.filter((probe) => probe.kind === 'breaker');
    // A layer refusing its options (the stub refuses `bad`) leaves everything as it was.
    const refused = { a: { breaker: { threshold: 1 }, timeout: { ms: 1, bad: true } } } as never;
    expect(() => {
      registry.validate(refused);
    }).toThrow(
      expect.objectContaining({
        code: 'FND_PROTECT_INVALID_POLICY',
        context: expect.objectContaining({ policy: 'a' }) as unknown,
      }),
    );
    const result = registry.reconfigure(refused);
    expect(result.failed.map(({ policy, error }) => [policy, error.code])).toEqual([
      ['a', 'FND_PROTECT_INVALID_POLICY'],
    ]);
    expect(before[0]?.options.threshold).toBe(3);
    const [listing] = registry.list();
    expect(listing?.layers.map((layer) => layer.kind)).toEqual(['breaker', 'timeout']);
    expect(listing?.lastError?.code).toBe('FND_PROTECT_INVALID_POLICY');
  });

  it('keeps the last layers of a policy whose entry was removed, and lists it as not configured', async () => {
    const { registry, set, trace } = setup({ a: { retry: {} }, b: {} });
    const policy = registry.policy('a');
    set({ b: {} });
    await policy.execute(() => 1);
    expect(trace).toEqual(['retry']);
    expect(registry.list().map(({ name, configured }) => ({ name, configured }))).toEqual([
      { name: 'a', configured: false },
      { name: 'b', configured: true },
    ]);
  });

  it('says which layer is missing from the build', () => {
    const registry = new ProtectionRegistry({
      clock: new FakeClock(),
      settings: () => protectionConfigSchema.parse({ a: { hedge: {} } }),
      factories: { ...DEFAULT_LAYER_FACTORIES, hedge: DEFAULT_LAYER_FACTORIES.hedge },
    });
    expect(() => registry.breaker('a')).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }),
    );
  });
});

describe('policy config schema', () => {
  it('fills in the documented defaults', () => {
    expect(
      protectionConfigSchema.parse({
        p: { breaker: {}, retry: {}, timeout: {}, deadline: {}, bulkhead: {}, hedge: {}, adaptive: {} },
      }),
    ).toEqual({
      p: {
        breaker: { policy: 'consecutive', threshold: 5, openMs: 30_000 },
        retry: { maxAttempts: 3, backoff: { kind: 'exponential', initialMs: 100, maxMs: 10_000, factor: 2 } },
        timeout: { ms: 1000 },
        deadline: { ms: 5000 },
        bulkhead: { maxConcurrent: 10, maxQueue: 0 },
        hedge: { delayMs: 100, maxHedges: 1 },
        adaptive: { algorithm: 'vegas', initialLimit: 20, minLimit: 1, maxLimit: 200, maxQueue: 0 },
      },
    });
  });

  it.each([
    ['a bad name', { 'Bad Name': {} }],
    ['an unknown layer', { p: { circuit: {} } }],
    ['an unknown option', { p: { breaker: { treshold: 3 } } }],
    ['a negative threshold', { p: { breaker: { threshold: -1 } } }],
    ['a ratio above 1', { p: { breaker: { policy: 'count', threshold: 2 } } }],
    ['maxOpenMs below openMs', { p: { breaker: { openMs: 1000, maxOpenMs: 10 } } }],
    ['minimumCalls above size', { p: { breaker: { policy: 'count', size: 10, minimumCalls: 20 } } }],
    ['an unknown backoff', { p: { retry: { backoff: { kind: 'linear' } } } }],
    ['a limit outside its bounds', { p: { adaptive: { minLimit: 10, initialLimit: 5 } } }],
    ['a duplicate in order', { p: { retry: {}, order: ['retry', 'retry'] } }],
    ['an order missing a configured layer', { p: { retry: {}, timeout: {}, order: ['retry'] } }],
    ['a string for a number', { p: { timeout: { ms: '100' } } }],
  ])('refuses %s', (_label, value) => {
    expect(protectionConfigSchema.safeParse(value).success).toBe(false);
  });
});
