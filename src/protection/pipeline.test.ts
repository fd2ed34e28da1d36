import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { CallState } from './call-state.js';
import { CoarseTimer } from './coarse-timer.js';
import { pipeline } from './pipeline.js';
import { createTimeoutLayer } from './timeout/timeout-layer.js';
import type { Layer } from './types.js';

/** Counts AbortControllers created while a test runs. */
let created = 0;
const Original = globalThis.AbortController;
beforeEach(() => {
  created = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      created += 1;
    }
  };
});
afterEach(() => {
  globalThis.AbortController = Original;
});

function recorder(kind: Layer['kind'], log: string[]): Layer {
  return {
    kind,
    async run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      log.push(`in:${kind}`);
      const value = await next(call);
      log.push(`out:${kind}`);
      return value;
    },
    status: () => ({ kind }),
  };
}

function setup() {
  const clock = new FakeClock();
  return { clock, timer: new CoarseTimer(clock) };
}

describe('pipeline', () => {
  it('runs the layers outermost first and reports their status in order', async () => {
    const log: string[] = [];
    const policy = pipeline('p', [recorder('fallback', log), recorder('retry', log)], setup());
    await expect(policy.execute(() => 7)).resolves.toBe(7);
    expect(log).toEqual(['in:fallback', 'in:retry', 'out:retry', 'out:fallback']);
    expect(policy.status()).toEqual([{ kind: 'fallback' }, { kind: 'retry' }]);
    expect(policy.name).toBe('p');
  });

  it('turns a sync throw into a rejection and passes values and promises through', async () => {
    const policy = pipeline('p', [], setup());
    const boom = new Error('boom');
    await expect(
      policy.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(policy.execute(() => Promise.resolve('x'))).resolves.toBe('x');
  });

  it('creates no AbortController when the function never reads its signal, even with a timeout', async () => {
    const policy = pipeline('p', [createTimeoutLayer({ ms: 100 })], setup());
    for (let i = 0; i < 10; i += 1) await policy.execute((attempt) => attempt.attempt);
    expect(created).toBe(0);
  });

  it('passes attempt 1, no deadline, and a lazily created signal', async () => {
    const policy = pipeline('p', [], setup());
    const seen = await policy.execute((attempt) => ({
      attempt: attempt.attempt,
      deadline: attempt.deadline,
      aborted: attempt.signal.aborted,
    }));
    expect(seen).toEqual({ attempt: 1, deadline: undefined, aborted: false });
    expect(created).toBe(1);
  });

  it('a timeout abort reaches the signal the function read', async () => {
    const { clock, timer } = setup();
    const policy = pipeline('p', [createTimeoutLayer({ ms: 50 })], { clock, timer });
    let signal: AbortSignal | undefined;
    const result = policy.execute(
      (attempt) =>
        new Promise<never>(() => {
          signal = attempt.signal;
        }),
    );
    const settled = expect(result).rejects.toMatchObject({ code: 'FND_PROTECT_TIMEOUT' });
    await clock.advanceAsync(60);
    await settled;
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as FoundationError).code).toBe('FND_PROTECT_TIMEOUT');
  });

  it("rejects at once with FND_PROTECT_CANCELLED when the caller aborts, and aborts the function's signal", async () => {
    const policy = pipeline('p', [], setup());
    const caller = new AbortController();
    let signal: AbortSignal | undefined;
    const result = policy.execute(
      (attempt) =>
        new Promise<never>(() => {
          signal = attempt.signal;
        }),
      caller.signal,
    );
    caller.abort();
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoundationError);
    expect((error as FoundationError).code).toBe('FND_PROTECT_CANCELLED');
    expect((error as FoundationError).context).toMatchObject({ policy: 'p' });
    expect(signal?.aborted).toBe(true);
  });

  it('rejects without running the function when the caller signal is already aborted', async () => {
    const policy = pipeline('p', [], setup());
    let ran = false;
    const error = await policy
      .execute(() => {
        ran = true;
      }, AbortSignal.abort())
      .catch((e: unknown) => e);
    expect((error as FoundationError).code).toBe('FND_PROTECT_CANCELLED');
    // The pipeline runs nothing for an aborted caller.
    expect(ran).toBe(false);
  });

  it('passes values and errors through when a caller signal is given but never aborts', async () => {
    const policy = pipeline('p', [], setup());
    const caller = new AbortController();
    await expect(policy.execute(() => 3, caller.signal)).resolves.toBe(3);
    await expect(policy.execute(() => Promise.reject(new Error('x')), caller.signal)).rejects.toThrow('x');
  });
});

describe('admission telemetry', () => {
  it('publishes protection:admitted for every attempt that reaches the function, not for refused ones', async () => {
    const { onTelemetry } = await import('../kernel/telemetry.js');
    const seen: Array<[number | undefined, unknown]> = [];
    const off = onTelemetry('protection:admitted', (message) => {
      seen.push([message.measurements.attempt, message.metadata.policy]);
    });
    try {
      const clock = new FakeClock();
      const refusing: Layer = {
        kind: 'bulkhead',
        run: () => Promise.reject(new FoundationError('FND_PROTECT_BULKHEAD_FULL', { message: 'full' })),
        status: () => ({ kind: 'bulkhead' }),
      };
      const open = pipeline('open', [], { clock, timer: new CoarseTimer(clock) });
      const closed = pipeline('closed', [refusing], { clock, timer: new CoarseTimer(clock) });
      expect(await open.execute(() => 1)).toBe(1);
      await expect(closed.execute(() => 1)).rejects.toMatchObject({ code: 'FND_PROTECT_BULKHEAD_FULL' });
      expect(seen).toEqual([[1, 'open']]);
    } finally {
      off();
    }
  });
});
