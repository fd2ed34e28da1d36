import { describe, expect, it } from 'vitest';
import { createFoundation, FoundationError } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/** A promise whose settlement the test controls. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flaky = (failures: number) => {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls <= failures) throw new Error(`failure ${String(calls)}`);
    return calls;
  };
};

describe('foundation.protect()', () => {
  it('assembles each layer from the config entry, in the documented order', async () => {
    const clock = new FakeClock();
    await using foundation = createFoundation({
      store: 'memory:',
      clock,
      config: {
        arguments: {
          foundation: {
            protection: {
              api: {
                retry: { maxAttempts: 3, backoff: { kind: 'constant', delayMs: 0 } },
                timeout: { ms: 1000 },
                deadline: { ms: 5000 },
                bulkhead: { maxConcurrent: 2, maxQueue: 0 },
                adaptive: { algorithm: 'aimd', initialLimit: 10 },
              },
              all: {
                retry: {},
                timeout: {},
                deadline: {},
                bulkhead: {},
                hedge: {},
                adaptive: {},
                order: ['timeout', 'hedge', 'bulkhead', 'adaptive', 'retry', 'deadline'],
              },
            },
          },
        },
      },
    });
    await foundation.start();
    const policy = foundation.protect('api');
    expect(foundation.protect('api')).toBe(policy);
    expect(policy.status().map((layer) => layer.kind)).toEqual([
      'deadline',
      'retry',
      'adaptive',
      'bulkhead',
      'timeout',
    ]);
    // An entry's own order (outermost first).
    expect(
      foundation
        .protect('all')
        .status()
        .map((layer) => layer.kind),
    ).toEqual(['timeout', 'hedge', 'bulkhead', 'adaptive', 'retry', 'deadline']);
    // Retry: two failures then a value; attempt numbers and the deadline reach the function.
    const seen: Array<{ attempt: number; deadline: number | undefined }> = [];
    const fn = flaky(2);
    const value = await policy.execute(({ attempt, deadline }) => {
      seen.push({ attempt, deadline });
      return fn();
    });
    expect(value).toBe(3);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(seen.every((s) => s.deadline === clock.now() + 5000)).toBe(true);
    // Bulkhead: a third concurrent call is refused with its code and layer.
    const gates = [deferred<number>(), deferred<number>()];
    const running = gates.map((gate) => policy.execute(() => gate.promise));
    await expect(policy.execute(() => 1)).rejects.toMatchObject({
      code: 'FND_PROTECT_BULKHEAD_FULL',
      context: { layer: 'bulkhead', policy: 'api' },
    });
    for (const [i, gate] of gates.entries()) gate.resolve(i);
    await expect(Promise.all(running)).resolves.toEqual([0, 1]);
  });

  it('times out and falls back with the code-only fallback', async () => {
    const clock = new FakeClock();
    await using foundation = createFoundation({
      store: 'memory:',
      clock,
      config: { arguments: { foundation: { protection: { slow: { timeout: { ms: 50 } } } } } },
    });
    await foundation.start();
    const plain = foundation.protection.policy('slow');
    const hanging = plain.execute(() => new Promise<number>(() => undefined));
    const outcome = hanging.catch((error: unknown) => error);
    await clock.advanceAsync(100);
    expect(await outcome).toMatchObject({ code: 'FND_PROTECT_TIMEOUT', context: { layer: 'timeout' } });
    const withFallback = foundation.protect('slow', { fallback: { value: 'cached' } });
    expect(withFallback).toBe(plain);
    expect(withFallback.status().map((layer) => layer.kind)).toEqual(['fallback', 'timeout']);
    const answer = withFallback.execute(() => new Promise<string>(() => undefined));
    await clock.advanceAsync(100);
    await expect(answer).resolves.toBe('cached');
  });

  it('refuses a name without a config entry, listing the configured names', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: { arguments: { foundation: { protection: { payments: {}, search: {} } } } },
    });
    expect(() => foundation.protect('orders')).toThrow(
      expect.objectContaining({
        code: 'FND_PROTECT_INVALID_POLICY',
        message: expect.stringContaining('configured: payments, search') as unknown,
      }),
    );
  });

  it('refuses an entry a layer refuses at creation', () => {
    expect(() =>
      createFoundation({
        store: 'memory:',
        config: {
          arguments: {
            foundation: { protection: { p: { adaptive: { algorithm: 'vegas', alpha: 5, beta: 2 } } } },
          },
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }));
  });

  it.each([
    ['a bad name', 'foundation.protection.Bad', {}, 'FND_CONFIG_INVALID_VALUE'],
    ['an unknown option', 'foundation.protection.api.timeout.mss', 1, undefined],
    ['a negative time', 'foundation.protection.api.timeout.ms', -1, undefined],
    ['a wrong type', 'foundation.protection.api.bulkhead', { maxConcurrent: 'ten' }, undefined],
    ['a bad order', 'foundation.protection.api.order', ['timeout'], undefined],
    [
      'options a layer refuses',
      'foundation.protection.api.adaptive',
      { alpha: 5, beta: 2 },
      'FND_CONFIG_UPDATE_VETOED',
    ],
  ])('refuses %s and leaves the config and the policy unchanged', async (_label, path, value, code) => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: { protection: { api: { timeout: { ms: 100 }, bulkhead: { maxConcurrent: 3 } } } },
        },
      },
    });
    await foundation.start();
    const policy = foundation.protect('api');
    const before = foundation.config.snapshot();
    const version = foundation.config.version;
    const refused = await foundation.config.update(path, value).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FoundationError);
    if (code !== undefined) expect((refused as FoundationError).code).toBe(code);
    expect(foundation.config.version).toBe(version);
    expect(foundation.config.snapshot()).toEqual(before);
    expect(policy.status()).toEqual([
      expect.objectContaining({ kind: 'bulkhead', maxConcurrent: 3 }),
      expect.objectContaining({ kind: 'timeout', ms: 100 }),
    ]);
  });

  it('hot-reloads the bulkhead under load: calls in flight finish, new calls see the new limit', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: { arguments: { foundation: { protection: { db: { bulkhead: { maxConcurrent: 50 } } } } } },
    });
    await foundation.start();
    const policy = foundation.protect('db');
    const gates = Array.from({ length: 40 }, () => deferred<number>());
    const inFlight = gates.map((gate) => policy.execute(() => gate.promise));
    await foundation.config.update('foundation.protection.db.bulkhead.maxConcurrent', 5);
    // The 40 running calls keep their slots; new calls are refused until fewer than 5 run.
    await expect(policy.execute(() => 0)).rejects.toMatchObject({ code: 'FND_PROTECT_BULKHEAD_FULL' });
    for (const [i, gate] of gates.entries()) gate.resolve(i);
    const values = await Promise.all(inFlight);
    expect(values).toEqual(gates.map((_gate, i) => i));
    const more = Array.from({ length: 5 }, () => deferred<number>());
    const admitted = more.map((gate) => policy.execute(() => gate.promise));
    await expect(policy.execute(() => 0)).rejects.toMatchObject({ code: 'FND_PROTECT_BULKHEAD_FULL' });
    for (const gate of more) gate.resolve(1);
    await Promise.all(admitted);
    expect(foundation.protection.list()).toEqual([
      {
        name: 'db',
        configured: true,
        layers: [expect.objectContaining({ kind: 'bulkhead', maxConcurrent: 5 })],
      },
    ]);
  });

  it('adds and removes layers on a config change: calls in flight finish on the pipeline they started on', async () => {
    const clock = new FakeClock();
    await using foundation = createFoundation({
      store: 'memory:',
      clock,
      config: { arguments: { foundation: { protection: { x: { bulkhead: { maxConcurrent: 10 } } } } } },
    });
    await foundation.start();
    const policy = foundation.protect('x');
    const first = deferred<string>();
    const onBulkheadOnly = policy.execute(() => first.promise);
    await foundation.config.update('foundation.protection.x.timeout', { ms: 50 });
    expect(policy.status().map((layer) => layer.kind)).toEqual(['bulkhead', 'timeout']);
    // A new call gets the timeout; the call in flight (bulkhead only) does not.
    const timed = policy.execute(() => new Promise<string>(() => undefined)).catch((error: unknown) => error);
    const second = deferred<string>();
    const withTimeout = policy
      .execute(({ signal }) => {
        signal.addEventListener('abort', () => {
          second.resolve('aborted');
        });
        return second.promise;
      })
      .catch((error: unknown) => error);
    await foundation.config.updateBatch([{ path: 'foundation.protection.x.timeout', unset: true }]);
    expect(policy.status().map((layer) => layer.kind)).toEqual(['bulkhead']);
    await clock.advanceAsync(100);
    expect(await timed).toMatchObject({ code: 'FND_PROTECT_TIMEOUT' });
    // The call started with the timeout still had it after the layer was removed for new calls.
    expect(await withTimeout).toMatchObject({ code: 'FND_PROTECT_TIMEOUT' });
    const late = policy.execute(
      () =>
        new Promise<string>((resolve) =>
          clock.setTimeout(() => {
            resolve('late');
          }, 500),
        ),
    );
    await clock.advanceAsync(600);
    await expect(late).resolves.toBe('late');
    first.resolve('done');
    await expect(onBulkheadOnly).resolves.toBe('done');
  });

  it('hot-reloads a breaker threshold under load: no call dropped or double-counted, new threshold for new calls', async () => {
    await using foundation = createFoundation({
      store: 'memory:',
      config: {
        arguments: {
          foundation: {
            protection: {
              x: { breaker: { policy: 'count', size: 1000, threshold: 0.9, minimumCalls: 1000 } },
            },
          },
        },
      },
    });
    await foundation.start();
    const policy = foundation.protect('x');
    const gates: Array<ReturnType<typeof deferred<number>>> = [];
    const calls: Array<Promise<unknown>> = [];
    let invoked = 0;
    const start = (): void => {
      const gate = deferred<number>();
      gates.push(gate);
      calls.push(
        policy.execute(() => {
          invoked += 1;
          return gate.promise;
        }),
      );
    };
    // A load loop: 200 calls in flight while the threshold changes (twice, interleaved with more calls).
    for (let i = 0; i < 100; i += 1) start();
    const updating = foundation.config.update('foundation.protection.x.breaker.threshold', 0.5);
    for (let i = 0; i < 100; i += 1) start();
    await updating;
    await foundation.config.update('foundation.protection.x.breaker.minimumCalls', 10);
    expect(invoked).toBe(200);
    // Settle them: every other one fails; each settles exactly once.
    for (const [i, gate] of gates.entries()) {
      if (i % 2 === 0) gate.resolve(i);
      else gate.reject(new Error(`failure ${String(i)}`));
    }
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(100);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(100);
    const status = policy.status()[0] as Record<string, unknown>;
    // The breaker counted every call once (100 failures out of 200 ≥ 0.5 with minimumCalls 10: open now).
    expect(status).toMatchObject({ kind: 'breaker', state: 'open' });
    expect(foundation.protection.breaker('x').state()).toBe('open');
    await expect(policy.execute(() => 1)).rejects.toMatchObject({
      code: 'FND_PROTECT_CIRCUIT_OPEN',
      context: { layer: 'breaker', policy: 'x' },
    });
  });

  it('records breaker state changes as events in the event store, and isolate/reset through the registry', async () => {
    const clock = new FakeClock();
    await using foundation = createFoundation({
      store: 'memory:',
      clock,
      config: {
        arguments: { foundation: { protection: { pay: { breaker: { threshold: 2, openMs: 1000 } } } } },
      },
    });
    await foundation.start();
    const policy = foundation.protect('pay');
    for (let i = 0; i < 2; i += 1) {
      await expect(
        policy.execute(() => {
          throw new Error('down');
        }),
      ).rejects.toThrow('down');
    }
    const open = await policy.execute(() => 1).catch((error: unknown) => error);
    expect(open).toMatchObject({ code: 'FND_PROTECT_CIRCUIT_OPEN', context: { retryAfterMs: 1000 } });
    await clock.advanceAsync(1000);
    await expect(policy.execute(() => 'ok')).resolves.toBe('ok');
    foundation.protection.breaker('pay').isolate();
    await expect(policy.execute(() => 1)).rejects.toMatchObject({ code: 'FND_PROTECT_CIRCUIT_OPEN' });
    foundation.protection.breaker('pay').reset();
    await expect(policy.execute(() => 2)).resolves.toBe(2);
    await expect
      .poll(async () => {
        const page = await foundation.events.query({ types: ['protection.*'] });
        return page.events.map((event) => [event.type, event.data]);
      })
      .toEqual([
        [
          'protection.breaker_opened',
          expect.objectContaining({ policy: 'pay', from: 'closed', to: 'open', retryAfterMs: 1000 }),
        ],
        [
          'protection.breaker_half_opened',
          expect.objectContaining({ policy: 'pay', from: 'open', to: 'half_open' }),
        ],
        [
          'protection.breaker_closed',
          expect.objectContaining({ policy: 'pay', from: 'half_open', to: 'closed' }),
        ],
        [
          'protection.breaker_isolated',
          expect.objectContaining({ policy: 'pay', from: 'closed', to: 'isolated' }),
        ],
        [
          'protection.breaker_closed',
          expect.objectContaining({ policy: 'pay', from: 'isolated', to: 'closed' }),
        ],
      ]);
  });
});
