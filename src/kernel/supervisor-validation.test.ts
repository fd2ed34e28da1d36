import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { Service } from './service.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

function constructionCode(options: SupervisorOptions): string | undefined {
  try {
    new Supervisor(options);
  } catch (error) {
    return isFoundationError(error) ? error.code : 'not a FoundationError';
  }
  return undefined;
}

describe('Supervisor validation', () => {
  it('validates definitions on add', () => {
    const sup = new Supervisor({ clock: new FakeClock() });
    const codeOf = (service: unknown, options?: { restart?: 'permanent' }): string | undefined => {
      try {
        sup.add(service as Service, options);
      } catch (error) {
        return isFoundationError(error) ? error.code : 'not a FoundationError';
      }
      return undefined;
    };
    const ok = { name: 'ok', start: () => 1, stop: () => undefined };
    expect(codeOf(ok)).toBeUndefined();
    expect(codeOf(ok)).toBe('FND_LIFECYCLE_DUPLICATE_SERVICE');
    expect(codeOf({ ...ok, name: '1bad' })).toBe('FND_LIFECYCLE_INVALID_SERVICE');
    expect(codeOf({ ...ok, name: 'has space' })).toBe('FND_LIFECYCLE_INVALID_SERVICE');
    expect(codeOf({ name: 'nostop', start: () => 1 })).toBe('FND_LIFECYCLE_INVALID_SERVICE');
    expect(codeOf({ ...ok, name: 'deps', dependencies: 'db' })).toBe('FND_LIFECYCLE_INVALID_SERVICE');
    expect(codeOf({ ...ok, name: 'pol' }, { restart: 'sometimes' as 'permanent' })).toBe(
      'FND_LIFECYCLE_INVALID_SERVICE',
    );
    expect(sup.status().services.map((s) => s.name)).toEqual(['ok']);
  });

  it('rejects invalid options', () => {
    expect(constructionCode({})).toBeUndefined();
    expect(constructionCode({ maxRestarts: -1 })).toBe('FND_CONFIG_INVALID_VALUE');
    expect(constructionCode({ withinMs: 0 })).toBe('FND_CONFIG_INVALID_VALUE');
    expect(constructionCode({ stopTimeoutMs: Number.NaN })).toBe('FND_CONFIG_INVALID_VALUE');
    expect(constructionCode({ startTimeoutMs: -5 })).toBe('FND_CONFIG_INVALID_VALUE');
    expect(constructionCode({ restartBackoffMs: { initial: 10, max: Infinity } })).toBe(
      'FND_CONFIG_INVALID_VALUE',
    );
    expect(constructionCode({ strategy: 'one_for_all' as 'one_for_one' })).toBe('FND_CONFIG_INVALID_VALUE');
  });

  it('start() while stopping rejects with FND_LIFECYCLE_INVALID_STATE; concurrent start() share one promise', async () => {
    const sup = new Supervisor({ clock: new FakeClock() });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    sup.add({ name: 'a', start: () => 'a', stop: () => gate });
    const first = sup.start();
    expect(sup.start()).toBe(first);
    await first;
    const stopping = sup.stop();
    expect(sup.stop()).toBe(stopping);
    let code: string | undefined;
    try {
      await sup.start();
    } catch (error) {
      code = isFoundationError(error) ? error.code : undefined;
    }
    expect(code).toBe('FND_LIFECYCLE_INVALID_STATE');
    release();
    await stopping;
    expect(sup.state).toBe('stopped');
    await sup.start();
    expect(sup.state).toBe('running');
  });
});
