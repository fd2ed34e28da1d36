import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoundationError, withContext } from '../errors/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createConfig, type ConfigEventRecord } from './config.js';
import { REDACTED } from './types.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  db: z
    .object({ host: z.string().default('localhost'), password: z.string().default('hunter2') })
    .prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  tags: z.array(z.string()).default([]),
});

function expectCode(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(FoundationError);
  expect((error as FoundationError).code).toBe(code);
}

async function refusal(run: () => Promise<unknown>): Promise<FoundationError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(FoundationError);
    return error as FoundationError;
  }
  throw new Error('expected a refusal');
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function started(
  options: Partial<Parameters<typeof createConfig<typeof schema>>[0]> = {},
  events?: ConfigEventRecord[],
) {
  const config = createConfig(
    { schema, mutable: ['limits.*', 'mode', 'tags', 'db.password'], secrets: ['db.password'], ...options },
    {
      clock: new FakeClock(),
      node: 'test',
      ...(events === undefined ? {} : { recordEvent: (event) => Promise.resolve(void events.push(event)) }),
    },
  );
  return config;
}

describe('createConfig: reading', () => {
  it('fills schema defaults and reads typed paths from a frozen snapshot', () => {
    const config = started();
    const rps: number = config.get('limits.rps');
    expect(rps).toBe(100);
    expect(config.get('limits')).toEqual({ rps: 100, burst: 10 });
    expect(Object.isFrozen(config.snapshot().limits)).toBe(true);
    expect(config.version).toBe(0);
  });

  it('layers defaults < file < env < arguments and explains each value', async () => {
    const file = join(dir, 'app.json');
    await writeFile(file, JSON.stringify({ limits: { rps: 5, burst: 7 }, mode: 'fast' }));
    const config = createConfig(
      {
        schema,
        defaults: { limits: { rps: 1 } },
        file,
        env: { prefix: 'APP_', env: { APP_LIMITS__BURST: '9', OTHER: 'x' } },
        arguments: { mode: 'safe' },
      },
      { clock: new FakeClock() },
    );
    expect(config.snapshot().limits).toEqual({ rps: 5, burst: 9 });
    expect(config.explain('limits.rps')).toMatchObject({ source: 'file', file, value: 5 });
    expect(config.explain('limits.rps').layers.map((layer) => layer.source)).toEqual(['default', 'file']);
    expect(config.explain('limits.burst')).toMatchObject({
      source: 'env',
      envVar: 'APP_LIMITS__BURST',
      value: 9,
    });
    expect(config.explain('mode')).toMatchObject({ source: 'argument', value: 'safe' });
    expect(config.explain('db.host')).toMatchObject({ source: 'default', value: 'localhost' });
  });

  it('refuses unknown and malformed paths on get and explain', () => {
    const config = started();
    // An absent key of an existing object reads as undefined (the schema may declare it optional)…
    expect(config.get('limits.nope' as 'limits.rps')).toBeUndefined();
    // …a path through a leaf or a missing object does not exist.
    expectCode(
      catchSync(() => config.get('limits.rps.deeper' as 'limits.rps')),
      'FND_CONFIG_UNKNOWN_PATH',
    );
    expectCode(
      catchSync(() => config.get('nope.deeper' as 'limits.rps')),
      'FND_CONFIG_UNKNOWN_PATH',
    );
    expectCode(
      catchSync(() => config.get('__proto__.x' as 'limits.rps')),
      'FND_CONFIG_INVALID_PATH',
    );
    expectCode(
      catchSync(() => config.explain('nope')),
      'FND_CONFIG_UNKNOWN_PATH',
    );
  });

  it('redacts secrets in redacted() and explain()', () => {
    const config = started();
    expect(config.redacted()).toMatchObject({ db: { host: 'localhost', password: REDACTED } });
    expect(config.explain('db.password')).toMatchObject({ value: REDACTED, secret: true, mutable: true });
    expect(JSON.stringify(config.explain('db'))).not.toContain('hunter2');
  });

  it('refuses a corrupt file, a malformed env var and an invalid result at creation', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{ "limits": ');
    expectCode(
      catchSync(() => createConfig({ schema, file })),
      'FND_CONFIG_FILE_INVALID',
    );
    expectCode(
      catchSync(() => createConfig({ schema, env: { prefix: 'APP_', env: { APP_LIMITS__RPS: 'many' } } })),
      'FND_CONFIG_ENV_INVALID',
    );
    expectCode(
      catchSync(() => createConfig({ schema, defaults: { limits: { rps: -1 } } })),
      'FND_CONFIG_INVALID_VALUE',
    );
    expectCode(
      catchSync(() => createConfig({ schema: 'nope' as never })),
      'FND_CONFIG_INVALID_STRUCTURE',
    );
  });
});

function catchSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createConfig: changes', () => {
  it('refuses changes before start and after stop, rollbacks included', async () => {
    const config = started();
    expectCode(await refusal(() => config.update('limits.rps', 5)), 'FND_SYSTEM_SERVICE_UNAVAILABLE');
    expectCode(await refusal(() => config.rollback(1)), 'FND_SYSTEM_SERVICE_UNAVAILABLE');
    await config.start();
    await config.update('limits.rps', 5);
    await config.stop();
    expectCode(await refusal(() => config.rollback(1)), 'FND_SYSTEM_SERVICE_UNAVAILABLE');
    expectCode(
      await refusal(() => config.updateBatch([{ path: 'mode', value: 'fast' }])),
      'FND_SYSTEM_SERVICE_UNAVAILABLE',
    );
    expect(config.get('limits.rps')).toBe(5);
  });

  it('applies an update as a new version with its diff, metadata and event', async () => {
    const events: ConfigEventRecord[] = [];
    const config = started({}, events);
    await config.start();
    expect(config.version).toBe(1);
    const before = config.snapshot();
    const result = await withContext({ correlationId: 'corr-1' }, () =>
      config.update('limits.rps', 250, { reason: 'spike', actor: 'ops' }),
    );
    expect(result).toMatchObject({ applied: true, version: 2, previousVersion: 1, valid: true });
    expect(result.changes).toEqual([{ path: 'limits.rps', old: 100, new: 250 }]);
    expect(config.get('limits.rps')).toBe(250);
    expect(before.limits.rps).toBe(100);
    await config.settled();
    expect(events).toEqual([
      {
        id: 'config-v2',
        type: 'config.updated',
        correlationId: 'corr-1',
        data: {
          version: 2,
          previousVersion: 1,
          kind: 'update',
          changes: [{ path: 'limits.rps', old: 100, new: 250 }],
          node: 'test',
          reason: 'spike',
          actor: 'ops',
        },
      },
    ]);
    const history = await config.history();
    expect(history.map((version) => [version.version, version.kind])).toEqual([
      [2, 'update'],
      [1, 'initial'],
    ]);
    expect(history[0]).toMatchObject({
      reason: 'spike',
      actor: 'ops',
      correlationId: 'corr-1',
      node: 'test',
    });
    expect(config.explain('limits.rps').source).toBe('runtime');
  });

  it('validates the whole batch before applying anything', async () => {
    const config = started();
    await config.start();
    const error = await refusal(() =>
      config.updateBatch([
        { path: 'limits.rps', value: 7 },
        { path: 'limits.burst', value: 5000 },
      ]),
    );
    expectCode(error, 'FND_CONFIG_INVALID_VALUE');
    expect(error.message).toContain('limits.burst');
    expect(config.get('limits.rps')).toBe(100);
    expect(config.version).toBe(1);
    const ok = await config.updateBatch([
      { path: 'limits.rps', value: 7 },
      { path: 'limits.burst', value: 8 },
    ]);
    expect(ok.changes.map((change) => change.path)).toEqual(['limits.burst', 'limits.rps']);
    expect(config.version).toBe(2);
  });

  it('refuses forbidden, unknown, malformed, polluting and oversized changes, leaving the config intact', async () => {
    const config = started();
    await config.start();
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => config.update('db.host', 'x'), 'FND_CONFIG_UPDATE_FORBIDDEN'],
      [() => config.update('limits.nope', 1), 'FND_CONFIG_UNKNOWN_PATH'],
      [() => config.update('limits', { rps: 1, extra: 2 }), 'FND_CONFIG_UNKNOWN_PATH'],
      [() => config.update('limits.rps', 'fast'), 'FND_CONFIG_INVALID_VALUE'],
      [() => config.update('limits.rps', 1.5), 'FND_CONFIG_INVALID_VALUE'],
      [() => config.update('', 1), 'FND_CONFIG_INVALID_PATH'],
      [() => config.update('limits..rps', 1), 'FND_CONFIG_INVALID_PATH'],
      [() => config.update('__proto__.polluted', 1), 'FND_CONFIG_INVALID_PATH'],
      [() => config.update('constructor.prototype', 1), 'FND_CONFIG_INVALID_PATH'],
      [() => config.update('tags', JSON.parse('{"__proto__": {"x": 1}}')), 'FND_CONFIG_INVALID_PATH'],
      [() => config.update('tags', ['x'.repeat(70_000)]), 'FND_CONFIG_VALUE_TOO_LARGE'],
      [() => config.update('tags', deep(40)), 'FND_CONFIG_VALUE_TOO_LARGE'],
      [() => config.update('tags', [() => 1]), 'FND_CONFIG_INVALID_VALUE'],
      [() => config.update('limits.rps', Number.NaN), 'FND_CONFIG_INVALID_VALUE'],
      [() => config.updateBatch('nope' as never), 'FND_CONFIG_INVALID_STRUCTURE'],
      [() => config.updateBatch([]), 'FND_CONFIG_INVALID_STRUCTURE'],
      [
        () => config.updateBatch([{ path: 'mode', value: 'fast', extra: 1 } as never]),
        'FND_CONFIG_INVALID_STRUCTURE',
      ],
      [
        () =>
          config.updateBatch([
            { path: 'mode', value: 'fast' },
            { path: 'mode', value: 'safe' },
          ]),
        'FND_CONFIG_INVALID_STRUCTURE',
      ],
      [
        () => config.updateBatch(Array.from({ length: 101 }, () => ({ path: 'mode', value: 'fast' }))),
        'FND_CONFIG_VALUE_TOO_LARGE',
      ],
      [() => config.update('mode', 'fast', { expectedVersion: -1 }), 'FND_CONFIG_INVALID_STRUCTURE'],
      [() => config.update('mode', 'fast', { reason: 'x'.repeat(501) }), 'FND_CONFIG_INVALID_STRUCTURE'],
      [() => config.update('mode', 'fast', { bogus: true } as never), 'FND_CONFIG_INVALID_STRUCTURE'],
      [() => config.rollback(99), 'FND_CONFIG_VERSION_NOT_FOUND'],
      [() => config.rollback(0), 'FND_CONFIG_VERSION_NOT_FOUND'],
    ];
    for (const [run, code] of cases) {
      expectCode(await refusal(run), code);
    }
    expect(config.version).toBe(1);
    expect(config.snapshot()).toEqual({
      limits: { rps: 100, burst: 10 },
      db: { host: 'localhost', password: 'hunter2' },
      mode: 'safe',
      tags: [],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(config.status()).toMatchObject({ refused: cases.length, updates: 0 });
    expect(await config.history()).toHaveLength(1);
  });

  it('names the allowed paths when a path is forbidden', async () => {
    const config = started();
    await config.start();
    const error = await refusal(() => config.update('db.host', 'x'));
    expect(error.context).toMatchObject({
      path: 'db.host',
      allowed: ['limits.*', 'mode', 'tags', 'db.password'],
    });
    expect(error.message).toContain('limits.*');
  });

  it('compares and sets on expectedVersion', async () => {
    const config = started();
    await config.start();
    await config.update('mode', 'fast', { expectedVersion: 1 });
    const error = await refusal(() => config.update('mode', 'safe', { expectedVersion: 1 }));
    expectCode(error, 'FND_CONFIG_VERSION_CONFLICT');
    expect(config.get('mode')).toBe('fast');
  });

  it('returns the diff and the validation result of a dry run without applying it', async () => {
    const config = started();
    await config.start();
    const ok = await config.update('limits.rps', 3, { dryRun: true });
    expect(ok).toMatchObject({ applied: false, dryRun: true, valid: true, version: 1 });
    expect(ok.changes).toEqual([{ path: 'limits.rps', old: 100, new: 3 }]);
    const bad = await config.update('limits.rps', -3, { dryRun: true });
    expect(bad).toMatchObject({ applied: false, valid: false });
    expect(bad.issues[0]?.path).toBe('limits.rps');
    expect(config.get('limits.rps')).toBe(100);
    expect(config.version).toBe(1);
  });

  it('redacts secret values in results, history, versions and events', async () => {
    const events: ConfigEventRecord[] = [];
    const config = started({}, events);
    await config.start();
    const result = await config.update('db.password', 's3cret-new');
    await config.settled();
    expect(result.changes).toEqual([{ path: 'db.password', old: REDACTED, new: REDACTED }]);
    const everything = JSON.stringify([
      result,
      events,
      await config.history(),
      await config.getVersion(2),
      config.redacted(),
    ]);
    expect(everything).not.toContain('s3cret-new');
    expect(everything).not.toContain('hunter2');
    expect(config.get('db.password')).toBe('s3cret-new');
  });

  it('rolls back to an earlier version as a new version', async () => {
    const events: ConfigEventRecord[] = [];
    const config = started({}, events);
    await config.start();
    await config.update('limits.rps', 5);
    await config.updateBatch([
      { path: 'limits.rps', value: 6 },
      { path: 'mode', value: 'fast' },
    ]);
    const result = await config.rollback(2, { reason: 'bad deploy' });
    expect(result).toMatchObject({ applied: true, version: 4, previousVersion: 3 });
    expect(config.snapshot()).toMatchObject({ limits: { rps: 5 }, mode: 'safe' });
    expect((await config.getVersion(4)).config).toEqual((await config.getVersion(2)).config);
    expect((await config.history({ limit: 1 }))[0]).toMatchObject({
      kind: 'rollback',
      rolledBackTo: 2,
      reason: 'bad deploy',
    });
    await config.settled();
    expect(events.at(-1)?.type).toBe('config.rolled_back');
    await config.rollback(1);
    expect(config.get('limits.rps')).toBe(100);
  });

  it('unsets a runtime override so lower layers show again', async () => {
    const config = started();
    await config.start();
    await config.update('limits.rps', 5);
    await config.updateBatch([{ path: 'limits.rps', unset: true }]);
    expect(config.get('limits.rps')).toBe(100);
    expect(config.explain('limits.rps').source).toBe('default');
  });
});

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = [value];
  return value;
}

describe('createConfig: subscribers', () => {
  it('notifies subscribers of their prefix with old and new values', async () => {
    const config = started();
    await config.start();
    const seen: unknown[] = [];
    config.subscribe('limits', { onChange: (event) => void seen.push(event.changes) });
    config.subscribe('mode', { onChange: (event) => void seen.push(['mode', event.version]) });
    await config.update('limits.rps', 11);
    expect(seen).toEqual([[{ path: 'limits.rps', old: 100, new: 11 }]]);
  });

  it('lets prepare veto a change and isolates throwing subscribers', async () => {
    const config = started();
    await config.start();
    config.subscribe('limits.rps', {
      prepare: (proposal) => (proposal.proposed.limits.rps > 1000 ? { veto: 'too fast' } : undefined),
    });
    config.subscribe('', {
      prepare: () => {
        throw new Error('buggy prepare');
      },
    });
    config.subscribe('', {
      onChange: () => {
        throw new Error('buggy listener');
      },
    });
    config.subscribe('', { onChange: () => Promise.reject(new Error('async buggy listener')) });
    const vetoed = await refusal(() => config.update('limits.rps', 5000));
    expectCode(vetoed, 'FND_CONFIG_UPDATE_VETOED');
    expect(vetoed.message).toContain('too fast');
    expect(config.get('limits.rps')).toBe(100);
    const ok = await config.update('limits.rps', 500);
    expect(ok.applied).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    // The vetoed change stopped at the veto; the applied one met the three buggy subscribers.
    expect(config.status().subscriberErrors).toBe(3);
    expect(config.get('limits.rps')).toBe(500);
  });

  it('unsubscribes', async () => {
    const config = started();
    await config.start();
    let calls = 0;
    const unsubscribe = config.subscribe('', { onChange: () => void (calls += 1) });
    await config.update('mode', 'fast');
    unsubscribe();
    await config.update('mode', 'safe');
    expect(calls).toBe(1);
  });
});

describe('createConfig: side effects', () => {
  it('retries a failing event record from the queue without failing the change', async () => {
    const clock = new FakeClock();
    let failures = 2;
    const recorded: string[] = [];
    const config = createConfig(
      { schema, mutable: ['mode'] },
      {
        clock,
        recordEvent: (event) => {
          if (failures > 0) {
            failures -= 1;
            return Promise.reject(new Error('event store down'));
          }
          recorded.push(event.type);
          return Promise.resolve();
        },
      },
    );
    await config.start();
    const result = await config.update('mode', 'fast');
    expect(result.applied).toBe(true);
    expect(config.status().sideEffects.pending).toBe(1);
    await clock.advanceAsync(100);
    await clock.advanceAsync(200);
    await config.settled();
    expect(recorded).toEqual(['config.updated']);
    expect(config.status().sideEffects).toEqual({ pending: 0, failed: 0, dropped: 0 });
  });
});
