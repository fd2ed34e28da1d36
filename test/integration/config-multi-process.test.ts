/**
 * One config shared by several real processes on PostgreSQL: three child processes
 * (`test/helpers/config-child.ts`) and this process's own foundation on one schema. A change made in any
 * process is applied in every other; concurrent updates from all of them produce versions 1..N, each exactly
 * once, seen by every process in increasing order, and every process ends on the same version and config;
 * two racing compare-and-set updates at the same `expectedVersion` let exactly one win. The propagation
 * delay is measured and logged (not asserted: bench/ and the notes hold numbers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFoundation } from '../../src/app/foundation.js';
import { FoundationError } from '../../src/errors/index.js';
import { REDACTED } from '../../src/config/types.js';
import { multiProcessConfig, type ChildCommand } from '../helpers/config-child-shared.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/config-child.ts', import.meta.url));
const POLL = { timeout: 5000, interval: 10 } as const;
const CHILDREN = ['c1', 'c2', 'c3'] as const;

/** A refusal reported by a child. */
class ChildRefusal extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly ready: Promise<number>;
  /** Resolves when a deferred child loaded its modules and waits for {@link Child.go}. */
  readonly loaded: Promise<void>;
  /** Lets a deferred child start its foundation. */
  go(): void;
  /** Every version the child applied, in order, with the wall time it applied it. */
  readonly versions: Array<{ version: number; at: number }>;
  readonly exited: Promise<void>;
  send(op: ChildCommand['op'], args?: Record<string, unknown>): Promise<unknown>;
  stderr(): string;
}

function spawnChild(url: string, name: string, dataDir: string, deferred = false): Child {
  const args = [CHILD, url, name, dataDir, ...(deferred ? ['deferred'] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const versions: Array<{ version: number; at: number }> = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let stderr = '';
  let buffer = '';
  let onReady: (version: number) => void = () => undefined;
  let onFail: (error: Error) => void = () => undefined;
  let onLoaded: () => void = () => undefined;
  const loaded = new Promise<void>((resolve) => (onLoaded = resolve));
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      if (line.loaded === true) onLoaded();
      else if (line.ready === true) onReady(line.version as number);
      else if (typeof line.id === 'number') {
        const waiter = pending.get(line.id);
        pending.delete(line.id);
        if (line.ok === true) waiter?.resolve(line.result);
        else waiter?.reject(new ChildRefusal(line.code as string, line.message as string));
      } else if (typeof line.version === 'number') {
        versions.push({ version: line.version, at: line.at as number });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      onFail(new Error(`child ${name} exited (${String(code ?? signal)}) before ready: ${stderr}`));
      for (const waiter of pending.values()) waiter.reject(new Error(`child ${name} exited: ${stderr}`));
      pending.clear();
      resolve();
    });
  });
  return {
    name,
    process: child,
    ready,
    loaded,
    go: () => child.stdin.write('go\n'),
    versions,
    exited,
    stderr: () => stderr,
    send(op, args = {}) {
      nextId += 1;
      const id = nextId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
  };
}

function makeParent(url: string, dataDir: string) {
  return createFoundation({ name: 'parent', store: url, dataDir, config: multiProcessConfig });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function isIncreasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > (values[i - 1] ?? 0));
}

describePg('config shared by several real processes (PostgreSQL)', () => {
  let schema: TestSchema;
  let dir: string;
  let parent: ReturnType<typeof makeParent>;
  const children: Child[] = [];

  /** Waits until every process (children and parent) is on `version`. */
  async function allOn(version: number): Promise<void> {
    await expect.poll(() => parent.config.version, POLL).toBe(version);
    for (const child of children) {
      await expect.poll(() => child.send('version'), POLL).toBe(version);
    }
  }

  beforeAll(async () => {
    schema = await createTestSchema();
    dir = await mkdtemp(join(tmpdir(), 'config-multi-'));
    parent = makeParent(schema.url, dir);
    await parent.start();
    for (const name of CHILDREN) children.push(spawnChild(schema.url, name, join(dir, name)));
    const versions = await Promise.all(children.map((child) => child.ready));
    expect(versions).toEqual([1, 1, 1]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      children.map(async (child) => {
        await child.send('stop').catch(() => undefined);
        child.process.kill('SIGKILL');
        await child.exited;
      }),
    );
    await parent.stop();
    await schema.drop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('applies a change made in one process in every other, and measures the delay', async () => {
    // From the parent to every child.
    const start = parent.config.version;
    const delays: number[] = [];
    for (let round = 1; round <= 20; round += 1) {
      const result = await parent.config.update('limits.rps', 100 + round, { actor: 'parent' });
      const committed = Date.now();
      for (const child of children) {
        await expect
          .poll(() => child.versions.find((seen) => seen.version === result.version), POLL)
          .toBeDefined();
        const seen = child.versions.find((entry) => entry.version === result.version);
        delays.push((seen?.at ?? Number.NaN) - committed);
      }
    }
    await allOn(start + 20);
    for (const child of children) expect(await child.send('get', { path: 'limits.rps' })).toBe(120);

    // From one child to the parent and the other children (a batch, a secret among it).
    const [c1, c2, c3] = children;
    if (c1 === undefined || c2 === undefined || c3 === undefined) throw new Error('three children');
    await c1.send('updateBatch', {
      changes: [
        { path: 'mode', value: 'fast' },
        { path: 'db.password', value: 'rotated-by-c1' },
      ],
      options: { reason: 'from c1' },
    });
    await expect.poll(() => parent.config.get('mode'), POLL).toBe('fast');
    expect(parent.config.get('db.password')).toBe('rotated-by-c1');
    for (const child of [c2, c3]) {
      await expect.poll(() => child.send('get', { path: 'mode' }), POLL).toBe('fast');
    }
    const [latest] = await parent.config.history({ limit: 1 });
    expect(latest).toMatchObject({ node: 'c1', reason: 'from c1', kind: 'update' });
    expect(latest?.changes).toContainEqual({ path: 'db.password', old: REDACTED, new: REDACTED });
    expect(JSON.stringify(await c3.send('history', { limit: 5 }))).not.toContain('rotated-by-c1');

    // From a child to the other children: c1's own version line against theirs.
    const childDelays: number[] = [];
    for (let round = 1; round <= 10; round += 1) {
      const result = (await c1.send('update', { path: 'limits.burst', value: round })) as { version: number };
      const own = c1.versions.find((entry) => entry.version === result.version);
      for (const child of [c2, c3]) {
        await expect
          .poll(() => child.versions.find((seen) => seen.version === result.version), POLL)
          .toBeDefined();
        const seen = child.versions.find((entry) => entry.version === result.version);
        childDelays.push((seen?.at ?? Number.NaN) - (own?.at ?? Number.NaN));
      }
    }
    await expect.poll(() => parent.config.get('limits.burst'), POLL).toBe(10);

    const report = (label: string, samples: readonly number[]): void => {
      const sorted = [...samples].sort((a, b) => a - b);
      console.log(
        `[config-multi-process] propagation ${label} over ${String(sorted.length)} samples: ` +
          `median ${String(percentile(sorted, 50))} ms, p95 ${String(percentile(sorted, 95))} ms, ` +
          `max ${String(sorted.at(-1))} ms`,
      );
    };
    report('parent → 3 children', delays);
    report('child → 2 other children', childDelays);
  }, 60_000);

  it('keeps every version exactly once, in order, on every process under concurrent updates', async () => {
    const start = parent.config.version;
    await allOn(start);
    const count = 25;
    const parentObserved: number[] = [];
    const unsubscribe = parent.config.subscribe('', {
      onChange: (event) => void parentObserved.push(event.version),
    });
    const parentBurst = async (): Promise<{ written: number[]; conflicts: number }> => {
      const written: number[] = [];
      let conflicts = 0;
      for (let value = 1; value <= count; value += 1) {
        for (;;) {
          try {
            written.push((await parent.config.update('counters.parent', value)).version);
            break;
          } catch (error) {
            if (error instanceof FoundationError && error.code === 'FND_CONFIG_VERSION_CONFLICT') {
              conflicts += 1;
              continue;
            }
            throw error;
          }
        }
      }
      return { written, conflicts };
    };
    const bursts = (await Promise.all([
      parentBurst(),
      ...children.map((child) => child.send('burst', { path: `counters.${child.name}`, count })),
    ])) as Array<{ written: number[]; conflicts: number }>;
    const total = start + count * (children.length + 1);
    await allOn(total);
    unsubscribe();

    // Versions start+1..total, each written by exactly one process.
    const written = bursts.flatMap((burst) => burst.written).sort((a, b) => a - b);
    expect(written).toEqual(Array.from({ length: total - start }, (_, i) => start + 1 + i));
    for (const burst of bursts) expect(isIncreasing(burst.written)).toBe(true);
    const history = await parent.config.history({ limit: 1000 });
    expect(history.map((v) => v.version)).toEqual(Array.from({ length: total }, (_, i) => total - i));
    // Each version changed exactly its writer's counter by one: nothing lost or overwritten.
    for (const info of history.filter((v) => v.version > start)) {
      expect(info.changes).toHaveLength(1);
      const [change] = info.changes;
      expect(change?.path).toBe(`counters.${info.node}`);
      expect(change?.new).toBe((typeof change?.old === 'number' ? change.old : 0) + 1);
    }

    // Every process ends on the same version and the same config.
    // (The `foundation` section holds each node's own name and data directory: arguments, not shared.)
    const { foundation: parentSettings, ...expected } = parent.config.snapshot();
    expect(parentSettings.name).toBe('parent');
    expect(expected.counters).toEqual({ parent: count, c1: count, c2: count, c3: count });
    for (const child of children) {
      const { foundation: childSettings, ...shared } = (await child.send(
        'snapshot',
      )) as typeof parentSettings & Record<string, unknown>;
      expect(shared).toEqual(expected);
      expect(childSettings).toMatchObject({ name: child.name, store: parentSettings.store });
      const observed = (await child.send('observed')) as number[];
      expect(isIncreasing(observed)).toBe(true);
      expect(observed.at(-1)).toBe(total);
      expect(isIncreasing(child.versions.map((seen) => seen.version))).toBe(true);
    }
    expect(isIncreasing(parentObserved)).toBe(true);
    expect(parentObserved.at(-1)).toBe(total);
    console.log(
      `[config-multi-process] ${String(total - start)} concurrent updates from 4 processes; CAS retries after ` +
        `conflicts: ${bursts.map((burst) => String(burst.conflicts)).join(', ')}`,
    );
  }, 120_000);

  it('lets exactly one of two racing compare-and-set updates at the same expectedVersion win', async () => {
    const [c1, c2] = children;
    if (c1 === undefined || c2 === undefined) throw new Error('two children');
    for (let round = 0; round < 6; round += 1) {
      const version = parent.config.version;
      await allOn(version);
      const racers = round % 2 === 0 ? [c1, c2] : [c2, c1];
      const outcomes = await Promise.allSettled(
        racers.map((child, i) =>
          child.send('update', {
            path: 'limits.burst',
            value: 100 + round * 2 + i,
            options: { expectedVersion: version },
          }),
        ),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0]?.reason as ChildRefusal).code).toBe('FND_CONFIG_VERSION_CONFLICT');
      expect((won[0]?.value as { version: number }).version).toBe(version + 1);
      await allOn(version + 1);
      const winner = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
      expect(parent.config.get('limits.burst')).toBe(100 + round * 2 + winner);
    }
    // The parent racing a child the same way.
    const version = parent.config.version;
    await allOn(version);
    const outcomes = await Promise.allSettled([
      parent.config.update('mode', 'safe', { expectedVersion: version }),
      c1.send('update', { path: 'limits.rps', value: 777, options: { expectedVersion: version } }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((outcome) => outcome.status === 'rejected');
    expect((lost?.reason as { code: string }).code).toBe('FND_CONFIG_VERSION_CONFLICT');
    await allOn(version + 1);
  }, 60_000);
});

describePg('config cold start of several real processes on an empty schema (PostgreSQL)', () => {
  it('writes version 1 exactly once; every process starts on it', { timeout: 120_000 }, async () => {
    const schema = await createTestSchema();
    const dir = await mkdtemp(join(tmpdir(), 'config-cold-'));
    const children = CHILDREN.map((name) => spawnChild(schema.url, name, join(dir, name), true));
    const parent = makeParent(schema.url, dir);
    try {
      await Promise.all(children.map((child) => child.loaded));
      // Everyone races to migrate and write the first version.
      for (const child of children) child.go();
      await Promise.all([parent.start(), ...children.map((child) => child.ready)]);
      expect(parent.config.version).toBe(1);
      expect(await Promise.all(children.map((child) => child.send('version')))).toEqual([1, 1, 1]);
      const history = await parent.config.history();
      expect(history.map((v) => [v.version, v.kind])).toEqual([[1, 'initial']]);
      // And the shared config works at once from any of them.
      await children[0]?.send('update', { path: 'mode', value: 'fast' });
      await expect.poll(() => parent.config.get('mode'), POLL).toBe('fast');
    } finally {
      await Promise.all(
        children.map(async (child) => {
          await child.send('stop').catch(() => undefined);
          child.process.kill('SIGKILL');
          await child.exited;
        }),
      );
      await parent.stop();
      await schema.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
