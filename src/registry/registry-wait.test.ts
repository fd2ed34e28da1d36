import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ServiceRegistry } from './registry.js';

/** Captures how a promise settles without awaiting it (so the test can advance the clock first). */
function track<T>(promise: Promise<T>): {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
} {
  const result: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = {
    state: 'pending',
  };
  promise.then(
    (value) => {
      result.state = 'resolved';
      result.value = value;
    },
    (error: unknown) => {
      result.state = 'rejected';
      result.error = error;
    },
  );
  return result;
}

function setup(): { clock: FakeClock; registry: ServiceRegistry } {
  const clock = new FakeClock();
  return { clock, registry: new ServiceRegistry({ clock }) };
}

describe('ServiceRegistry.waitFor', () => {
  it('resolves at once when the service is already registered, without a timer or waiter', async () => {
    const { clock, registry } = setup();
    registry.register('app', 'db', 'pool');
    await expect(registry.waitFor('app', 'db', { timeoutMs: 10 })).resolves.toBe('pool');
    expect(clock.pending()).toBe(0);
    expect(registry.pendingWaiters()).toBe(0);
  });

  it('resolves when the service registers later and cancels its timer', async () => {
    const { clock, registry } = setup();
    const first = registry.waitFor<string>('app', 'db', { timeoutMs: 1_000 });
    const second = registry.waitFor<string>('app', 'db');
    const other = track(registry.waitFor('app', 'cache', { timeoutMs: 1_000 }));
    expect(registry.pendingWaiters()).toBe(3);
    expect(clock.pending()).toBe(3);
    clock.advance(500);
    registry.register('app', 'db', 'pool');
    await expect(first).resolves.toBe('pool');
    await expect(second).resolves.toBe('pool');
    expect(registry.pendingWaiters()).toBe(1);
    expect(clock.pending()).toBe(1);
    expect(other.state).toBe('pending');
    registry.register('app', 'cache', 'lru');
    await clock.advanceAsync(0);
    expect(other).toEqual({ state: 'resolved', value: 'lru' });
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('does not resolve for the same name in another namespace', async () => {
    const { registry } = setup();
    const waiting = track(registry.waitFor('app', 'db', { timeoutMs: Infinity }));
    registry.register('other', 'db', 1);
    await Promise.resolve();
    expect(waiting.state).toBe('pending');
    expect(registry.pendingWaiters()).toBe(1);
    registry.rejectWaiters();
  });

  it('rejects FND_REGISTRY_WAIT_TIMEOUT exactly at timeoutMs and leaves no waiter behind', async () => {
    const { clock, registry } = setup();
    const waiting = track(registry.waitFor('app', 'db', { timeoutMs: 250 }));
    await clock.advanceAsync(249);
    expect(waiting.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(waiting.state).toBe('rejected');
    expect(waiting.error).toBeInstanceOf(FoundationError);
    expect(waiting.error).toMatchObject({
      code: 'FND_REGISTRY_WAIT_TIMEOUT',
      context: { namespace: 'app', name: 'db', timeoutMs: 250 },
    });
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
    registry.register('app', 'db', 'late');
    expect(registry.get('app', 'db')).toBe('late');
  });

  it('uses the registry default timeout (5000 ms unless configured)', async () => {
    const clock = new FakeClock();
    const registry = new ServiceRegistry({ clock });
    const configured = new ServiceRegistry({ clock, defaultWaitTimeoutMs: 40 });
    const a = track(registry.waitFor('app', 'db'));
    const b = track(configured.waitFor('app', 'db'));
    await clock.advanceAsync(40);
    expect([a.state, b.state]).toEqual(['pending', 'rejected']);
    await clock.advanceAsync(4_960);
    expect(a.state).toBe('rejected');
  });

  it('timeoutMs: Infinity waits without a timer', async () => {
    const { clock, registry } = setup();
    const waiting = registry.waitFor('app', 'db', { timeoutMs: Infinity });
    expect(clock.pending()).toBe(0);
    registry.register('app', 'db', 7);
    await expect(waiting).resolves.toBe(7);
  });

  it('rejects FND_SYSTEM_ABORTED when the signal aborts, cleaning up the waiter and timer', async () => {
    const { clock, registry } = setup();
    const controller = new AbortController();
    const waiting = registry.waitFor('app', 'db', { timeoutMs: 1_000, signal: controller.signal });
    expect(registry.pendingWaiters()).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(waiting).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED', cause: reason });
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    const { clock, registry } = setup();
    await expect(
      registry.waitFor('app', 'db', { timeoutMs: 1_000, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED' });
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('removes its abort listener when resolved or timed out (no listener leak on a long-lived signal)', async () => {
    const { clock, registry } = setup();
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++;
      remove(...args);
    }) as typeof signal.removeEventListener;
    const resolved = registry.waitFor('app', 'a', { timeoutMs: 100, signal });
    const timedOut = track(registry.waitFor('app', 'b', { timeoutMs: 100, signal }));
    registry.register('app', 'a', 1);
    await resolved;
    await clock.advanceAsync(100);
    expect(timedOut.state).toBe('rejected');
    expect([added, removed]).toEqual([2, 2]);
    controller.abort();
    expect(registry.pendingWaiters()).toBe(0);
  });

  it('rejectWaiters rejects every pending wait with FND_SYSTEM_ABORTED and clears timers', async () => {
    const { clock, registry } = setup();
    const a = registry.waitFor('app', 'a', { timeoutMs: 1_000 });
    const b = registry.waitFor('other', 'b', { timeoutMs: Infinity });
    const reason = new Error('foundation stopped');
    registry.rejectWaiters(reason);
    await expect(a).rejects.toMatchObject({ code: 'FND_SYSTEM_ABORTED', cause: reason });
    await expect(b).rejects.toMatchObject({
      code: 'FND_SYSTEM_ABORTED',
      context: { namespace: 'other', name: 'b' },
    });
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
    registry.rejectWaiters();
    expect(registry.pendingWaiters()).toBe(0);
  });

  it('rejects FND_REGISTRY_INVALID_NAME for a name that can never register', async () => {
    const { registry } = setup();
    await expect(registry.waitFor('app', '__proto__')).rejects.toMatchObject({
      code: 'FND_REGISTRY_INVALID_NAME',
    });
    await expect(registry.waitFor('', 'db')).rejects.toMatchObject({ code: 'FND_REGISTRY_INVALID_NAME' });
    expect(registry.pendingWaiters()).toBe(0);
  });

  it('rejects FND_DATA_INVALID_INPUT for a negative timeout', async () => {
    const { registry } = setup();
    await expect(registry.waitFor('app', 'db', { timeoutMs: -1 })).rejects.toMatchObject({
      code: 'FND_DATA_INVALID_INPUT',
    });
    expect(registry.pendingWaiters()).toBe(0);
  });

  it('leaves no waiter or timer behind after many mixed settles', async () => {
    const { clock, registry } = setup();
    const controller = new AbortController();
    setMaxListeners(50, controller.signal); // one shared signal across many waits is legitimate here
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      const name = `svc${i % 10}`;
      const options = i % 3 === 0 ? { timeoutMs: 10 } : i % 3 === 1 ? { signal: controller.signal } : {};
      all.push(registry.waitFor('app', name, options).catch((e: unknown) => e));
    }
    registry.register('app', 'svc0', 0);
    registry.register('app', 'svc5', 5);
    await clock.advanceAsync(10);
    controller.abort();
    registry.rejectWaiters();
    await Promise.all(all);
    expect(registry.pendingWaiters()).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
