/**
 * The reload queue of a watched config file, driven directly with hooks and a real temporary file: at most
 * one reload waits, a stopped config reloads nothing, a deleted file keeps the last good layer, reverting a
 * refused edit makes the file `ok` again, and a failure of the machinery itself is reported apart.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileReloads, type FileReloadHooks } from './config-file-reloads.js';
import type { JsonObject } from './types.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-reloads-'));
  path = join(dir, 'app.json');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Recorded {
  applied: JsonObject[];
  refused: unknown[];
  failed: unknown[];
  running: boolean;
}

function reloads(initialText: string | undefined, overrides: Partial<FileReloadHooks> = {}) {
  const recorded: Recorded = { applied: [], refused: [], failed: [], running: true };
  const hooks: FileReloadHooks = {
    running: () => recorded.running,
    apply: (next) => {
      if ((next as { bad?: unknown }).bad === true) return Promise.reject(new Error('refused by the schema'));
      recorded.applied.push(next);
      return Promise.resolve();
    },
    refused: (error) => recorded.refused.push(error),
    failed: (error) => recorded.failed.push(error),
    ...overrides,
  };
  const queue = new ConfigFileReloads(
    { path, required: false, watch: true },
    1024,
    {
      text: initialText,
      state: initialText === undefined ? 'missing' : 'ok',
    },
    hooks,
  );
  return { queue, recorded };
}

describe('ConfigFileReloads', () => {
  it('keeps at most one reload waiting behind the one in progress', async () => {
    writeFileSync(path, '{"a":1}');
    const { queue, recorded } = reloads('{}');
    queue.schedule(); // waits for its turn (the queue's previous run)
    queue.schedule(); // one is already waiting: ignored
    queue.schedule();
    await queue.idle();
    // One reload ran and applied the edit once.
    expect(recorded.applied).toEqual([{ a: 1 }]);
    queue.schedule();
    await queue.idle();
    // A later reload reads the same text again: nothing to apply.
    expect(recorded.applied).toEqual([{ a: 1 }]);
    expect(queue.state).toBe('ok');
  });

  it('does nothing while the config is stopped, and refuses nothing then', async () => {
    writeFileSync(path, '{ not json');
    const { queue, recorded } = reloads('{}');
    recorded.running = false;
    queue.schedule();
    await queue.idle();
    expect(recorded).toEqual({ applied: [], refused: [], failed: [], running: false });
    expect(queue.state).toBe('ok');
  });

  it('keeps the last good layer when the file disappears', async () => {
    writeFileSync(path, '{"a":1}');
    const { queue, recorded } = reloads('{"a":1}');
    unlinkSync(path);
    queue.schedule();
    await queue.idle();
    expect(recorded.applied).toEqual([]);
    expect(recorded.refused).toEqual([]);
    expect(queue.state).toBe('ok');
  });

  it('refuses an invalid edit, and is ok again when the last good contents come back', async () => {
    writeFileSync(path, '{"a":1}');
    const { queue, recorded } = reloads('{"a":1}');
    writeFileSync(path, '{"bad":true}');
    queue.schedule();
    await queue.idle();
    expect(queue.state).toBe('invalid');
    expect(recorded.refused).toHaveLength(1);
    expect((recorded.refused[0] as Error).message).toBe('refused by the schema');
    writeFileSync(path, '{"a":1}');
    queue.schedule();
    await queue.idle();
    expect(queue.state).toBe('ok');
    expect(recorded.applied).toEqual([]);
    expect(recorded.refused).toHaveLength(1);
  });

  it('reports a failure of the machinery itself (a hook that throws) apart from refused edits', async () => {
    writeFileSync(path, '{"a":1}');
    const broken = new Error('running() broke');
    const { queue, recorded } = reloads('{}', {
      running: () => {
        throw broken;
      },
    });
    queue.schedule();
    await queue.idle();
    expect(recorded.failed).toEqual([broken]);
    expect(recorded.refused).toEqual([]);
    expect(recorded.applied).toEqual([]);
    // The queue still works afterwards.
    queue.schedule();
    await queue.idle();
    expect(recorded.failed).toEqual([broken, broken]);
  });
});
