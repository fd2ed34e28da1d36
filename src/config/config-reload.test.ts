/**
 * File reloads under the test's control (the watcher and the reads replaced by controllable ones): when the
 * file changes again while a reload holds an older read, the config must still end on the latest contents
 * (reloads run one at a time, so an older read is never applied after a newer one).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { FakeClock } from '../testing/fake-clock.js';
import { createConfig } from './config.js';
import type * as FileModule from './model/file.js';

/** What the mocks share with the test (hoisted with them). */
const control = vi.hoisted(() => ({
  onChange: undefined as (() => void) | undefined,
  /** A read that finds exactly this text holds its result until `release()`. */
  hold: undefined as string | undefined,
  release: (): void => undefined,
  released: Promise.resolve(),
  /** Reads started, and reads that got the file's contents (or failed). */
  reads: 0,
  readsDone: 0,
  /** Reads waiting for `release()`. */
  held: 0,
}));

/** Makes reads that find `text` wait until `control.release()`. */
function holdReadsOf(text: string): void {
  control.hold = text;
  control.released = new Promise<void>((resolve) => {
    control.release = resolve;
  });
}

vi.mock('./file-watcher.js', () => ({
  FILE_SETTLE_MS: 50,
  watchConfigFile: (_path: string, _clock: unknown, onChange: () => void) => {
    control.onChange = onChange;
    return { close: () => undefined };
  },
}));

vi.mock('./model/file.js', async (importOriginal) => {
  const actual = await importOriginal<typeof FileModule>();
  return {
    ...actual,
    // Reads the file at once; a read of the held text then waits for its release.
    readConfigFile: async (path: string, maxBytes: number) => {
      control.reads += 1;
      try {
        const read = await actual.readConfigFile(path, maxBytes);
        if (read.state === 'ok' && read.text === control.hold) {
          control.held += 1;
          await control.released;
        }
        return read;
      } finally {
        control.readsDone += 1;
      }
    },
  };
});

const schema = z.object({ limits: z.object({ rps: z.number().int().positive() }) });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-reload-'));
  control.hold = undefined;
  control.held = 0;
  control.reads = 0;
  control.readsDone = 0;
  control.onChange = undefined;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('config file reloads', () => {
  it('ends on the latest contents when the file changes again while a reload holds an older read', async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 1 } }));
    const config = createConfig({ schema, file }, { clock: new FakeClock() });
    await config.start();
    const reload = control.onChange;
    if (reload === undefined) throw new Error('the file is not watched');
    await expect.poll(() => control.readsDone === control.reads).toBe(true);

    const older = JSON.stringify({ limits: { rps: 2 } });
    holdReadsOf(older);
    await writeFile(file, older);
    reload();
    await expect.poll(() => control.held).toBe(1);
    const first = control.reads;
    // The file changes again while the first reload holds what it read.
    await writeFile(file, JSON.stringify({ limits: { rps: 3 } }));
    reload();
    await new Promise((resolve) => setImmediate(resolve));
    const overlapping = control.reads > first;
    // (Had the second reload started a read beside the first, let that read finish first.)
    await expect.poll(() => !overlapping || control.readsDone === first).toBe(true);
    control.release();

    await expect.poll(() => config.version).toBe(3);
    expect(config.get('limits.rps')).toBe(3);
    // The second reload waited for the first instead of reading beside it.
    expect(overlapping).toBe(false);
    expect((await config.history()).map((v) => v.kind)).toEqual(['file', 'file', 'initial']);
    await config.stop();
  });

  it('ignores a reload that was in flight when the config stopped', async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 1 } }));
    const events: string[] = [];
    const config = createConfig(
      { schema, file },
      { clock: new FakeClock(), recordEvent: (event) => Promise.resolve(void events.push(event.type)) },
    );
    await config.start();
    await expect.poll(() => control.readsDone === control.reads).toBe(true);
    const newer = JSON.stringify({ limits: { rps: 'many' } });
    holdReadsOf(newer);
    await writeFile(file, newer);
    control.onChange?.();
    await expect.poll(() => control.held).toBe(1);
    const stopping = config.stop();
    control.release();
    await stopping;
    // (Let a reload that outlived stop() finish, as it would have before the fix.)
    await expect.poll(() => control.readsDone === control.reads).toBe(true);
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(config.status()).toMatchObject({ fileState: 'ok', lastError: undefined, version: 1 });
    expect(config.health().status).toBe('healthy');
    await config.settled();
    expect(events).toEqual([]);
  });

  it('applies an edit made while the config was stopped when it starts again', async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 1 } }));
    const config = createConfig({ schema, file }, { clock: new FakeClock() });
    await config.start();
    // The first start reads the file again: unchanged, nothing happens.
    await expect.poll(() => control.readsDone).toBe(1);
    expect(config.version).toBe(1);
    await config.stop();
    await writeFile(file, JSON.stringify({ limits: { rps: 4 } }));
    await config.start();
    await expect.poll(() => config.version).toBe(2);
    expect(config.get('limits.rps')).toBe(4);
    expect((await config.history({ limit: 1 }))[0]?.kind).toBe('file');
    await config.stop();
  });
});
