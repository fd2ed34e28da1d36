import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import { thrown } from '../../testing/index.js';
import type { CliIo } from '../cli-io.js';
import {
  formatProjection,
  formatProjections,
  formatRetention,
  formatRetentionReport,
  formatSubscriptions,
  progressText,
} from '../ops-format.js';
import { projectionsCommand, retentionCommand, subscriptionsCommand } from './ops.js';
import { loadProjections, resolveStartSettings } from './start.js';

function fakeIo(env: Record<string, string> = {}): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, env, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

async function rejection(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('foundation projections | subscriptions | retention: arguments (no request sent)', () => {
  // An unreachable URL: a request would fail with FND_EXTERNAL_NETWORK_ERROR, not the argument error.
  const url = ['--url', 'http://127.0.0.1:9'];

  it.each([
    [projectionsCommand, ['frobnicate']],
    [projectionsCommand, ['status', ...url]],
    [projectionsCommand, ['rebuild', ...url]],
    [projectionsCommand, ['status', 'bad name!', ...url]],
    [projectionsCommand, ['status', 'x'.repeat(101), ...url]],
    [projectionsCommand, ['list', '--unknown', ...url]],
    [projectionsCommand, ['list', '--token', 't', ...url]],
    [projectionsCommand, ['list', '--url', 'ftp://host']],
    [subscriptionsCommand, ['extra', ...url]],
    [subscriptionsCommand, ['--timeout', 'soon', ...url]],
    [retentionCommand, ['purge']],
    [retentionCommand, ['run', '--token', ' spaced ', ...url]],
  ])('%# refuses %j with FND_CLI_INVALID_ARGUMENT', async (command, args) => {
    const error = await rejection(command.run(args, fakeIo()));
    expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
  });

  it('an unreachable node is FND_EXTERNAL_NETWORK_ERROR', async () => {
    const error = await rejection(projectionsCommand.run(['list', ...url], fakeIo()));
    expect(isFoundationError(error, 'FND_EXTERNAL_NETWORK_ERROR')).toBe(true);
  });
});

describe('ops formatting', () => {
  it('formats projections as a table with rebuild progress and errors', () => {
    expect(
      formatProjections({
        projections: [
          {
            name: 'a',
            mode: 'async',
            state: 'rebuilding',
            position: 5,
            rebuild: { position: 5, target: 8, ratio: 0.625 },
          },
          {
            name: 'bb',
            mode: 'inline',
            state: 'failed',
            position: 2,
            error: { code: 'FND_X', message: 'boom' },
          },
        ],
      }),
    ).toEqual([
      'NAME  MODE    STATE       POSITION  REBUILD    ERROR',
      'a     async   rebuilding  5         5/8 (62%)  -',
      'bb    inline  failed      2         -          FND_X: boom',
    ]);
    expect(formatProjections({ projections: [] })).toEqual(['No projections.']);
    expect(formatProjections('garbage')).toEqual(['No projections.']);
    expect(progressText(undefined)).toBe('-');
    expect(
      formatProjection({ name: 'a', mode: 'async', state: 'running', position: 3, updated: 0 }),
    ).toContain('updated:   1970-01-01T00:00:00.000Z');
  });

  it('formats subscriptions: live and durable tables, or none', () => {
    expect(formatSubscriptions({ live: [], durable: [] })).toEqual([
      'Live subscriptions:',
      '  none',
      'Durable subscriptions:',
      '  none',
    ]);
    const lines = formatSubscriptions({
      live: [{ name: 'p', state: 'live', position: 3, lag: 0, buffered: 1, delivered: 3 }],
      durable: [
        {
          name: 'mailer',
          member: 'm1',
          state: 'running',
          partitions: 4,
          held: [{}, {}],
          lag: 7,
          handled: 9,
          error: null,
        },
      ],
    });
    expect(lines).toEqual([
      'Live subscriptions:',
      '  NAME  STATE  POSITION  LAG  BUFFERED  DELIVERED',
      '  p     live   3         0    1         3',
      'Durable subscriptions:',
      '  NAME    MEMBER  STATE    HELD  LAG  HANDLED  ERROR',
      '  mailer  m1      running  2/4   7    9        -',
    ]);
  });

  it('formats retention status and reports', () => {
    expect(formatRetention({ configured: false })).toEqual(['Retention is not configured on this node.']);
    const report = {
      startedAt: 0,
      durationMs: 4,
      deleted: 2,
      batches: 1,
      policies: [{ types: 'debug.*', deletedByAge: 0, deletedByCount: 2 }],
    };
    expect(formatRetentionReport(report)).toEqual([
      'deleted 2 events in 1 batches (4 ms)',
      '  debug.*: 0 by age, 2 by count',
    ]);
    expect(
      formatRetention({
        configured: true,
        scheduled: true,
        running: false,
        policies: [{ types: '*', maxAgeMs: 1000, maxCount: 5 }],
        lastReport: report,
        lastError: { code: 'FND_STORAGE_UNAVAILABLE', message: 'down' },
      }),
    ).toEqual([
      'scheduled: true',
      'running:   false',
      'policies:',
      '  * maxAgeMs=1000 maxCount=5',
      'last run:  1970-01-01T00:00:00.000Z',
      '  deleted 2 events in 1 batches (4 ms)',
      '    debug.*: 0 by age, 2 by count',
      'last error: FND_STORAGE_UNAVAILABLE: down',
    ]);
  });
});

describe('foundation start: retention and projections options', () => {
  it('reads policies and interval from flags or variables, validated', () => {
    const settings = resolveStartSettings(
      { 'retention-interval': '6h' },
      { FOUNDATION_RETENTION_POLICIES: '[{"types":"debug.*","maxCount":10}]' },
    );
    expect(settings.retentionPolicies).toEqual([{ types: 'debug.*', maxCount: 10 }]);
    expect(settings.retentionIntervalMs).toBe(6 * 3_600_000);
    expect(resolveStartSettings({}, {}).retentionPolicies).toBeUndefined();
    expect(resolveStartSettings({ projections: 'p.mjs' }, {}).projectionsModule).toBe(
      join(process.cwd(), 'p.mjs'),
    );
  });

  it.each([
    [{ 'retention-policies': '{"types":"*"}' }, {}],
    [{ 'retention-policies': '[{"types":"*"}]' }, {}],
    [{ 'retention-policies': 'not json' }, {}],
    [{}, { FOUNDATION_RETENTION_POLICIES: '[{"types":"a.*","maxCount":0}]' }],
    [{ 'retention-interval': '1h' }, {}],
    [{ 'retention-policies': '[{"types":"*","maxCount":1}]', 'retention-interval': '10ms' }, {}],
    [{ 'retention-policies': '[{"types":"*","maxCount":1}]', 'retention-interval': '8d' }, {}],
    [{ projections: ' ' }, {}],
  ])('%# refuses %j %j with FND_CLI_INVALID_ARGUMENT', (flags, env) => {
    const error = thrown(() => resolveStartSettings(flags, env));
    expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
  });

  it('loads definitions from a module (named or default export); refuses one without an array', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-projections-'));
    try {
      await writeFile(join(dir, 'named.mjs'), 'export const projections = [{ name: "a" }];\n');
      await writeFile(join(dir, 'default.mjs'), 'export default [{ name: "b" }];\n');
      await writeFile(join(dir, 'none.mjs'), 'export const other = 1;\n');
      expect(await loadProjections(join(dir, 'named.mjs'))).toEqual([{ name: 'a' }]);
      expect(await loadProjections(join(dir, 'default.mjs'))).toEqual([{ name: 'b' }]);
      for (const file of ['none.mjs', 'missing.mjs']) {
        const error = await rejection(loadProjections(join(dir, file)));
        expect(isFoundationError(error, 'FND_SYSTEM_INITIALIZATION_FAILED')).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
