import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation } from '../../src/app/foundation.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import type { AckedEvent } from '../helpers/append-child.js';
import { tempDir, type TempDir } from '../helpers/cli-process.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/append-child.ts', import.meta.url));

/** Acknowledgements to wait for before the kill. */
const KILL_AFTER_ACKS = 300;

/** What the parent saw of a child that was killed with SIGKILL while appending. */
interface KilledRun {
  readonly acked: readonly AckedEvent[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs the append child on `store`, sends SIGKILL once it has acknowledged {@link KILL_AFTER_ACKS} events
 * (its appends keep going, so some are in flight), and returns every acknowledgement it wrote.
 */
function runAndKill(store: string): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, store], { cwd: ROOT, stdio: 'pipe' });
    const acked: AckedEvent[] = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('ack ')) acked.push(JSON.parse(line.slice(4)) as AckedEvent);
        newline = buffer.indexOf('\n');
      }
      if (!killed && acked.length >= KILL_AFTER_ACKS) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      // a partial last line (cut by the kill) was never acknowledged as a whole: it is ignored
      resolve({ acked, signal, stderr });
    });
  });
}

/** Reads every stored event through a fresh foundation on `store`. */
async function reopen(store: string): Promise<StoredEvent[]> {
  await using foundation = createFoundation({ name: 'reopened', store });
  await foundation.start();
  const all: StoredEvent[] = [];
  let after = 0;
  for (;;) {
    const batch = await foundation.events.readAll({ afterPosition: after, limit: 1000 });
    if (batch.length === 0) break;
    all.push(...batch);
    after = batch[batch.length - 1]?.position ?? after;
  }
  return all;
}

/** Every acknowledged event is stored as acknowledged; streams have no gaps and no duplicates. */
function expectDurable(run: KilledRun, stored: readonly StoredEvent[]): void {
  expect(run.stderr).toBe('');
  expect(run.signal).toBe('SIGKILL');
  expect(run.acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  const byId = new Map(stored.map((event) => [event.id, event]));
  expect(byId.size).toBe(stored.length);
  for (const acked of run.acked) {
    const event = byId.get(acked.id);
    expect(event, `acknowledged event ${acked.id} is missing`).toBeDefined();
    expect({
      id: event?.id,
      type: event?.type,
      stream: event?.stream,
      streamVersion: event?.streamVersion,
      position: event?.position,
      data: event?.data,
    }).toEqual(acked);
  }
  // global positions strictly increase; each stream's versions are 1..n
  const positions = stored.map((event) => event.position);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(new Set(positions).size).toBe(positions.length);
  const versions = new Map<string, number[]>();
  for (const event of stored) {
    if (event.stream === null) {
      expect(event.streamVersion).toBeNull();
      continue;
    }
    const list = versions.get(event.stream) ?? [];
    list.push(event.streamVersion ?? -1);
    versions.set(event.stream, list);
  }
  expect([...versions.keys()].sort()).toEqual([
    'batch-0',
    'concurrent-0',
    'concurrent-1',
    'concurrent-2',
    'single-0',
    'single-1',
    'single-2',
  ]);
  for (const [stream, list] of versions) {
    expect(list, stream).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
  }
  // batches are all-or-nothing: the batch stream holds whole batches of 5
  expect((versions.get('batch-0')?.length ?? 0) % 5).toBe(0);
}

describe('an acknowledged append survives kill -9 (SQLite)', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('foundation-kill9-');
  });
  afterAll(async () => {
    await dir[Symbol.asyncDispose]();
  });

  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    it(`synchronous=${synchronous}: every acknowledged event is found after a reopen`, async () => {
      const store = `sqlite:${join(dir.path, `kill9-${synchronous.toLowerCase()}.db`)}?synchronous=${synchronous}`;
      const run = await runAndKill(store);
      const stored = await reopen(store);
      expectDurable(run, stored);
      // a second kill on the same file: appends continue from what survived
      const again = await runAndKill(store);
      const after = await reopen(store);
      expectDurable(again, after);
      expect(after.length).toBeGreaterThanOrEqual(stored.length + again.acked.length);
    });
  }
});

describePg('an acknowledged append survives kill -9 (PostgreSQL)', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(async () => {
    await schema.drop();
  });

  it('every acknowledged event is found after a reopen', async () => {
    const run = await runAndKill(schema.url);
    const stored = await reopen(schema.url);
    expectDurable(run, stored);
  });
});
