import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../testing/index.js';
import { isFoundationError } from '../errors/index.js';
import { onTelemetry, type TelemetryMessage } from '../kernel/telemetry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ServiceRegistry, type RegistryChange } from './registry.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('ServiceRegistry: register / lookup / unregister', () => {
  it('registers, looks up, gets, and unregisters a value', () => {
    const registry = new ServiceRegistry();
    const db = { kind: 'db' };
    registry.register('app', 'db', db);
    expect(registry.lookup('app', 'db')).toBe(db);
    expect(registry.get('app', 'db')).toBe(db);
    expect(registry.has('app', 'db')).toBe(true);
    expect(registry.count()).toBe(1);
    expect(registry.unregister('app', 'db')).toBe(true);
    expect(registry.lookup('app', 'db')).toBeUndefined();
    expect(registry.has('app', 'db')).toBe(false);
    expect(registry.unregister('app', 'db')).toBe(false);
    expect(registry.count()).toBe(0);
    expect(registry.namespaces()).toEqual([]);
  });

  it('stores falsy values faithfully', () => {
    const registry = new ServiceRegistry();
    registry.register('app', 'zero', 0);
    registry.register('app', 'empty', '');
    registry.register('app', 'null', null);
    expect(registry.lookup('app', 'zero')).toBe(0);
    expect(registry.get('app', 'empty')).toBe('');
    expect(registry.get('app', 'null')).toBeNull();
    expect(registry.has('app', 'null')).toBe(true);
  });

  it('get throws FND_REGISTRY_NOT_FOUND with {namespace, name}', () => {
    const registry = new ServiceRegistry();
    const error = thrown(() => registry.get('app', 'missing'));
    expect(isFoundationError(error, 'FND_REGISTRY_NOT_FOUND')).toBe(true);
    expect((error as { context: unknown }).context).toEqual({ namespace: 'app', name: 'missing' });
  });

  it('get with a name that can never exist throws FND_REGISTRY_INVALID_NAME', () => {
    const registry = new ServiceRegistry();
    expect(
      isFoundationError(
        thrown(() => registry.get('app', '')),
        'FND_REGISTRY_INVALID_NAME',
      ),
    ).toBe(true);
    expect(
      isFoundationError(
        thrown(() => registry.get('9x', 'db')),
        'FND_REGISTRY_INVALID_NAME',
      ),
    ).toBe(true);
  });

  it('keeps namespaces isolated', () => {
    const registry = new ServiceRegistry();
    registry.register('app', 'db', 'app-db');
    registry.register('test:1', 'db', 'test-db');
    expect(registry.lookup('app', 'db')).toBe('app-db');
    expect(registry.lookup('test:1', 'db')).toBe('test-db');
    expect(registry.count('app')).toBe(1);
    expect(registry.count('test:1')).toBe(1);
    expect(registry.count('other')).toBe(0);
    registry.unregister('app', 'db');
    expect(registry.lookup('test:1', 'db')).toBe('test-db');
    expect(registry.namespaces()).toEqual(['test:1']);
  });

  it('keeps two registries isolated', () => {
    const a = new ServiceRegistry();
    const b = new ServiceRegistry();
    a.register('app', 'db', 'a');
    expect(b.lookup('app', 'db')).toBeUndefined();
    b.register('app', 'db', 'b');
    expect(a.get('app', 'db')).toBe('a');
    expect(b.get('app', 'db')).toBe('b');
    a.clear();
    expect(b.count()).toBe(1);
  });

  it('refuses a duplicate registration and keeps the first value', () => {
    const registry = new ServiceRegistry();
    registry.register('app', 'db', 'first');
    const error = thrown(() => registry.register('app', 'db', 'second'));
    expect(isFoundationError(error, 'FND_REGISTRY_ALREADY_REGISTERED')).toBe(true);
    expect((error as { context: unknown }).context).toEqual({ namespace: 'app', name: 'db' });
    expect(registry.get('app', 'db')).toBe('first');
    expect(registry.count()).toBe(1);
  });

  it('the returned unregister removes only its own registration', () => {
    const registry = new ServiceRegistry();
    const unregisterFirst = registry.register('app', 'db', 'first');
    unregisterFirst();
    expect(registry.has('app', 'db')).toBe(false);
    const unregisterSecond = registry.register('app', 'db', 'second');
    unregisterFirst();
    expect(registry.get('app', 'db')).toBe('second');
    unregisterSecond();
    unregisterSecond();
    expect(registry.has('app', 'db')).toBe(false);
  });

  it('the returned unregister does not remove a re-registration after clear()', () => {
    const registry = new ServiceRegistry();
    const unregister = registry.register('app', 'db', 1);
    registry.clear();
    registry.register('app', 'db', 2);
    unregister();
    expect(registry.get('app', 'db')).toBe(2);
  });
});

describe('ServiceRegistry: names', () => {
  const garbage: Array<[string, unknown]> = [
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { toString: () => 'db' }],
    ['a symbol', Symbol('db')],
    ['an empty string', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a leading digit', '1db'],
    ['a space', 'my db'],
    ['a slash', 'app/db'],
    ['non-ASCII', 'dé'],
    ['a newline', 'db\n'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['prototype', 'prototype'],
  ];

  it.each(garbage)('rejects %s as a name or namespace and leaves entries intact', (_label, bad) => {
    const registry = new ServiceRegistry();
    registry.register('app', 'db', 'kept');
    const asName = thrown(() => registry.register('app', bad as string, 'x'));
    const asNamespace = thrown(() => registry.register(bad as string, 'db', 'x'));
    expect(isFoundationError(asName, 'FND_REGISTRY_INVALID_NAME')).toBe(true);
    expect(isFoundationError(asNamespace, 'FND_REGISTRY_INVALID_NAME')).toBe(true);
    expect((asName as { context: { field: string } }).context.field).toBe('name');
    expect((asNamespace as { context: { field: string } }).context.field).toBe('namespace');
    expect(registry.list().map((e) => [e.namespace, e.name])).toEqual([['app', 'db']]);
    expect(registry.get('app', 'db')).toBe('kept');
    expect(registry.lookup(bad as string, 'db')).toBeUndefined();
    expect(registry.has('app', bad as string)).toBe(false);
  });

  it('accepts 1 and 128 characters and the allowed punctuation', () => {
    const registry = new ServiceRegistry();
    for (const name of ['a', 'a'.repeat(128), 'db.primary', 'cache_l2', 'jobs:worker-1', 'Z9']) {
      registry.register('app', name, name);
    }
    expect(registry.count('app')).toBe(6);
  });

  it('rejects a non-function health check with FND_DATA_INVALID_INPUT', () => {
    const registry = new ServiceRegistry();
    const error = thrown(() => registry.register('app', 'db', 1, { health: 'yes' as never }));
    expect(isFoundationError(error, 'FND_DATA_INVALID_INPUT')).toBe(true);
    expect(registry.has('app', 'db')).toBe(false);
  });
});

describe('ServiceRegistry: list / namespaces / count / clear', () => {
  it('lists entries sorted by namespace then name, with wall time, uptime and frozen metadata', () => {
    const clock = new FakeClock({ now: 1_000_000, monotonic: 50 });
    const registry = new ServiceRegistry({ clock });
    const metadata = { version: '1.2.0' };
    registry.register('b', 'z', 1, { metadata, health: () => ({ status: 'healthy' }) });
    clock.advance(100);
    registry.register('a', 'y', 2);
    registry.register('b', 'a', 3);
    metadata.version = 'mutated';
    clock.advance(400);
    const list = registry.list();
    expect(list).toEqual([
      {
        namespace: 'a',
        name: 'y',
        registeredAt: 1_000_100,
        uptimeMs: 400,
        metadata: {},
        hasHealthCheck: false,
      },
      {
        namespace: 'b',
        name: 'a',
        registeredAt: 1_000_100,
        uptimeMs: 400,
        metadata: {},
        hasHealthCheck: false,
      },
      {
        namespace: 'b',
        name: 'z',
        registeredAt: 1_000_000,
        uptimeMs: 500,
        metadata: { version: '1.2.0' },
        hasHealthCheck: true,
      },
    ]);
    expect(Object.isFrozen(list[2]?.metadata)).toBe(true);
    expect(registry.list('b').map((e) => e.name)).toEqual(['a', 'z']);
    expect(registry.list('nope')).toEqual([]);
    expect(registry.namespaces()).toEqual(['a', 'b']);
    expect(registry.count()).toBe(3);
    expect(registry.count('b')).toBe(2);
  });

  it('computes uptime from the monotonic clock, not wall time', () => {
    const clock = new FakeClock({ now: 10_000, monotonic: 7 });
    const registry = new ServiceRegistry({ clock });
    registry.register('app', 'db', 1);
    clock.setWallTime(0);
    clock.advance(1_234);
    expect(registry.list()[0]?.uptimeMs).toBe(1_234);
    expect(registry.list()[0]?.registeredAt).toBe(10_000);
  });

  it('clear(namespace) removes only that namespace and emits unregistered for each', () => {
    const registry = new ServiceRegistry();
    registry.register('a', 'x', 1);
    registry.register('a', 'y', 2);
    registry.register('b', 'x', 3);
    const changes: RegistryChange[] = [];
    registry.onChange((c) => changes.push(c));
    registry.clear('a');
    expect(changes).toEqual([
      { type: 'unregistered', namespace: 'a', name: 'x' },
      { type: 'unregistered', namespace: 'a', name: 'y' },
    ]);
    expect(registry.namespaces()).toEqual(['b']);
    registry.clear();
    expect(registry.count()).toBe(0);
    expect(changes).toHaveLength(3);
  });
});

describe('ServiceRegistry: onChange and telemetry', () => {
  it('notifies registered and unregistered changes until unsubscribed', () => {
    const registry = new ServiceRegistry();
    const changes: RegistryChange[] = [];
    const off = registry.onChange((c) => changes.push(c));
    const unregister = registry.register('app', 'db', 1);
    unregister();
    registry.register('app', 'cache', 2);
    registry.unregister('app', 'cache');
    registry.unregister('app', 'cache');
    off();
    registry.register('app', 'db', 3);
    expect(changes).toEqual([
      { type: 'registered', namespace: 'app', name: 'db' },
      { type: 'unregistered', namespace: 'app', name: 'db' },
      { type: 'registered', namespace: 'app', name: 'cache' },
      { type: 'unregistered', namespace: 'app', name: 'cache' },
    ]);
  });

  it('isolates a throwing listener and reports it on registry:listener_failed', () => {
    const registry = new ServiceRegistry();
    const failures: TelemetryMessage[] = [];
    cleanups.push(onTelemetry('registry:listener_failed', (m) => failures.push(m)));
    const seen: string[] = [];
    registry.onChange(() => {
      throw new Error('listener bug');
    });
    registry.onChange((c) => seen.push(c.name));
    registry.register('app', 'db', 1);
    expect(registry.get('app', 'db')).toBe(1);
    expect(seen).toEqual(['db']);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.metadata['event']).toBe('change');
  });

  it('emits registered / unregistered telemetry and nothing on lookup', () => {
    const clock = new FakeClock();
    const registry = new ServiceRegistry({ clock });
    const messages: TelemetryMessage[] = [];
    for (const event of ['registry:registered', 'registry:unregistered', 'registry:health_checked']) {
      cleanups.push(onTelemetry(event, (m) => messages.push(m)));
    }
    registry.register('app', 'db', 1);
    registry.lookup('app', 'db');
    registry.get('app', 'db');
    registry.has('app', 'db');
    clock.advance(30);
    registry.unregister('app', 'db');
    expect(messages.map((m) => [m.name, m.measurements, m.metadata])).toEqual([
      ['registry:registered', { count: 1 }, { namespace: 'app', name: 'db' }],
      ['registry:unregistered', { count: 1, uptime: 30 }, { namespace: 'app', name: 'db' }],
    ]);
  });
});

describe('ServiceRegistry: options', () => {
  it('rejects a negative default timeout with FND_DATA_INVALID_INPUT', () => {
    expect(
      isFoundationError(
        thrown(() => new ServiceRegistry({ defaultHealthTimeoutMs: -1 })),
        'FND_DATA_INVALID_INPUT',
      ),
    ).toBe(true);
    expect(
      isFoundationError(
        thrown(() => new ServiceRegistry({ defaultWaitTimeoutMs: Number.NaN })),
        'FND_DATA_INVALID_INPUT',
      ),
    ).toBe(true);
  });

  it('starts no timers in the constructor', () => {
    const clock = new FakeClock();
    new ServiceRegistry({ clock });
    expect(clock.pending()).toBe(0);
  });
});
