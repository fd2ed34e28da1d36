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
});
