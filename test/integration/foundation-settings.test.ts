import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRetention } from '../../src/events/retention/event-retention.js';
import { createFoundation, FoundationError, SERVICES_NAMESPACE } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foundation-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function thrown(run: () => unknown): FoundationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FoundationError);
    return error as FoundationError;
  }
  throw new Error('expected a throw');
}

describe('the foundation section of the config', () => {
  it('takes name, store and retention from the file; explicit options sit above it', async () => {
    const file = join(dir, 'foundation.json');
    await writeFile(
      file,
      JSON.stringify({
        foundation: {
          name: 'from-file',
          store: 'memory:',
          retention: { policies: [{ types: 'debug.*', maxCount: 10 }], intervalMs: 60_000 },
        },
      }),
    );
    await using fromFile = createFoundation({ config: { file } });
    expect(fromFile.name).toBe('from-file');
    expect(fromFile.storage.kind).toBe('memory');
    await fromFile.start();
    expect(fromFile.registry.lookup(SERVICES_NAMESPACE, 'retention')).toBeInstanceOf(EventRetention);
    expect(fromFile.config.explain('foundation.name')).toMatchObject({ source: 'file', value: 'from-file' });
    await fromFile.stop();

    await using explicit = createFoundation({ name: 'explicit', config: { file } });
    expect(explicit.name).toBe('explicit');
    expect(explicit.config.explain('foundation.name')).toMatchObject({
      source: 'argument',
      value: 'explicit',
      layers: [
        { source: 'file', value: 'from-file' },
        { source: 'argument', value: 'explicit' },
      ],
    });
  });

  it('refuses invalid settings at creation, naming the path', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ foundation: { retention: { policies: [{ types: '' }] } } }));
    const error = thrown(() => createFoundation({ config: { file } }));
    expect(error.code).toBe('FND_CONFIG_INVALID_VALUE');
    expect(error.message).toContain('foundation.retention.policies');
    expect(
      thrown(() => createFoundation({ config: { defaults: { foundation: { name: 'bad name!' } } } })).code,
    ).toBe('FND_CONFIG_INVALID_VALUE');
  });

  it('reads foundation.events.maxHealthyLag live: the events health threshold changes at run time', async () => {
    await using foundation = createFoundation({ store: 'memory:' });
    await foundation.start();
    expect(foundation.config.isMutable('foundation.events.maxHealthyLag')).toBe(true);
    const subscription = foundation.events.subscribe({}, { from: 'start', bufferSize: 1 });
    for (let i = 0; i < 5; i += 1) await foundation.events.append({ type: 'test.filled' });
    // The subscriber reads nothing: it falls behind by the events past its buffer.
    await expect
      .poll(() => foundation.events.subscriptions()[0]?.lag ?? 0, { timeout: 5000 })
      .toBeGreaterThan(1);
    const events = async () => (await foundation.health()).services.find((s) => s.name === 'events')?.status;
    expect(await events()).toBe('healthy');
    await foundation.config.update('foundation.events.maxHealthyLag', 1);
    expect(await events()).toBe('degraded');
    await foundation.config.update('foundation.events.maxHealthyLag', 10_000);
    expect(await events()).toBe('healthy');
    await subscription.close();
  });
});
