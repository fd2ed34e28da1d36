import { describe, expect, it } from 'vitest';
import { createFoundation } from '../../app/foundation.js';
import { FakeClock, thrown } from '../../testing/index.js';
import type { CliIo } from '../cli-io.js';
import { resolveStartSettings, defaultNodeName, watchShutdown, type SignalSource } from './start.js';

function fakeIo(env: Record<string, string> = {}): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, env, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

function fakeSignals(): SignalSource & { send(signal: 'SIGTERM' | 'SIGINT'): void; count(): number } {
  const handlers = new Map<string, Set<() => void>>();
  return {
    on(signal, handler) {
      const set = handlers.get(signal) ?? new Set();
      handlers.set(signal, set);
      set.add(handler);
      return () => set.delete(handler);
    },
    send(signal) {
      for (const handler of [...(handlers.get(signal) ?? [])]) handler();
    },
    count: () => [...handlers.values()].reduce((n, s) => n + s.size, 0),
  };
}

/** A started foundation whose one service stops only when `release()` is called. */
async function foundationWithSlowStop(clock: FakeClock) {
  let release: () => void = () => undefined;
  let stopCalled: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => {
    stopCalled = resolve;
  });
  const foundation = createFoundation({
    name: 'node-a',
    store: 'memory:',
    clock,
    supervisor: { stopTimeoutMs: 3_600_000 },
    services: [
      {
        name: 'slow',
        start: () => 'slow',
        stop: () =>
          new Promise<void>((resolve) => {
            release = resolve;
            stopCalled();
          }),
      },
    ],
  });
  await foundation.start();
  return {
    foundation,
    stopping,
    release: () => {
      release();
    },
  };
}

describe('foundation start: settings', () => {
  it('defaults, environment and flags (flags win)', () => {
    const defaults = resolveStartSettings({}, {});
    expect(defaults).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      name: defaultNodeName(),
      shutdownTimeoutMs: 10_000,
    });
    expect(defaults.token).toBeUndefined();
    expect(defaults.dataDir).toMatch(/\.foundation$/);
    const env = {
      FOUNDATION_PORT: '5000',
      FOUNDATION_NAME: 'env-name',
      FOUNDATION_TOKEN: 't0k',
      FOUNDATION_HOST: '0.0.0.0',
    };
    expect(resolveStartSettings({ port: '0', 'shutdown-timeout': '2s' }, env)).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      name: 'env-name',
      token: 't0k',
      shutdownTimeoutMs: 2000,
    });
  });

  it('store: default SQLite file in the data directory, then FOUNDATION_STORE, then --store', () => {
    const defaults = resolveStartSettings({ 'data-dir': '/tmp/fnd-data' }, {});
    expect(defaults.store).toBe('sqlite:/tmp/fnd-data/foundation.db');
    const env = { FOUNDATION_STORE: 'memory:' };
    expect(resolveStartSettings({}, env).store).toBe('memory:');
    expect(resolveStartSettings({ store: 'sqlite:/tmp/x.db?synchronous=FULL' }, env).store).toBe(
      'sqlite:/tmp/x.db?synchronous=FULL',
    );
  });

  it('a bad store URL is a command-line error naming its source', () => {
    for (const [flags, env, source] of [
      [{ store: 'mysql://db' }, {}, '--store'],
      [{}, { FOUNDATION_STORE: 'sqlite:' }, 'FOUNDATION_STORE'],
      [{ store: 'postgres://u@h/db?schema=Bad-Name' }, {}, '--store'],
    ] as const) {
      const error = thrown(() => resolveStartSettings(flags, env));
      expect(error).toMatchObject({ code: 'FND_CLI_INVALID_ARGUMENT', context: { source } });
      expect((error as Error).message).toMatch(new RegExp(`^${source}: Invalid store URL`));
    }
  });
});

describe('foundation start: shutdown', () => {
  it('a signal stops the foundation; a clean stop exits 0 and removes the handlers', async () => {
    const clock = new FakeClock();
    const { foundation, stopping, release } = await foundationWithSlowStop(clock);
    const io = fakeIo();
    const signals = fakeSignals();
    const watch = watchShutdown(foundation, { shutdownTimeoutMs: 1000 }, io, signals, clock);
    expect(signals.count()).toBe(2);
    signals.send('SIGTERM');
    expect(io.lines).toEqual(['foundation node-a received SIGTERM; stopping (timeout 1000 ms)']);
    await stopping;
    release();
    expect(await watch.exitCode).toBe(0);
    expect(io.lines.at(-1)).toBe('foundation node-a stopped');
    expect(io.errors).toEqual([]);
    expect(signals.count()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('cancel removes the signal handlers without stopping anything', async () => {
    const clock = new FakeClock();
    const { foundation } = await foundationWithSlowStop(clock);
    const io = fakeIo();
    const signals = fakeSignals();
    const watch = watchShutdown(foundation, { shutdownTimeoutMs: 1000 }, io, signals, clock);
    watch.cancel();
    expect(signals.count()).toBe(0);
    signals.send('SIGTERM');
    expect(io.lines).toEqual([]);
    expect(foundation.status().state).toBe('running');
  });

  it('times out: exit 1 and one FND_LIFECYCLE_STOP_TIMEOUT line', async () => {
    const clock = new FakeClock();
    const { foundation, release } = await foundationWithSlowStop(clock);
    const io = fakeIo();
    const signals = fakeSignals();
    const watch = watchShutdown(foundation, { shutdownTimeoutMs: 1000 }, io, signals, clock);
    signals.send('SIGINT');
    clock.advance(999);
    clock.advance(1);
    expect(await watch.exitCode).toBe(1);
    expect(io.errors).toEqual([
      'foundation: FND_LIFECYCLE_STOP_TIMEOUT: Foundation node-a did not stop within 1000 ms; exiting',
    ]);
    release();
  });

  it('a second signal exits 1 at once', async () => {
    const clock = new FakeClock();
    const { foundation, release } = await foundationWithSlowStop(clock);
    const io = fakeIo();
    const signals = fakeSignals();
    const watch = watchShutdown(foundation, { shutdownTimeoutMs: 1000 }, io, signals, clock);
    signals.send('SIGTERM');
    signals.send('SIGINT');
    expect(await watch.exitCode).toBe(1);
    expect(io.errors).toEqual(['foundation: second SIGINT; exiting at once']);
    expect(signals.count()).toBe(0);
    release();
  });
});
