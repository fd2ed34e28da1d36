import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppendResult, StoredEvent } from '../../src/events/model/types.js';
import { runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';

const TOKEN = 'cli-events-token';

function jsonLines(stdout: string): StoredEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as StoredEvent);
}

describe('foundation events (real CLI processes against a real node)', () => {
  it('append and query through the control bus; events survive a restart on the default SQLite store', async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, 'data');
    const env = { FOUNDATION_TOKEN: TOKEN };
    let url: string;
    {
      await using node = await startCliProcess(
        ['--port', '0', '--data-dir', dataDir, '--name', 'ev-node'],
        env,
      );
      url = node.url;
      await expect
        .poll(() => node.stdout())
        .toContain(`foundation ev-node store sqlite:${join(dataDir, 'foundation.db')}`);
      expect(existsSync(join(dataDir, 'foundation.db'))).toBe(true);

      const created = await runCliProcess(
        [
          'events',
          'append',
          '--url',
          url,
          '--type',
          'order.created',
          '--stream',
          'order-1',
          '--data',
          '{"total":12}',
          '--metadata',
          '{"source":"cli"}',
          '--correlation-id',
          'corr-cli',
          '--expected-version',
          'no_stream',
        ],
        env,
      );
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^appended: 1\s+\S+Z\s+order\.created\s+order-1@1\s+corr-cli\n$/);

      const paid = await runCliProcess(
        ['events', 'append', '--url', url, '--type', 'order.paid', '--stream', 'order-1', '--json'],
        env,
      );
      expect(paid.code).toBe(0);
      const result = JSON.parse(paid.stdout) as AppendResult;
      expect(result).toMatchObject({ streamVersion: 2, position: 2, idempotent: false });

      // a stale expected version: the server's code on stderr, exit 1, nothing stored
      const stale = await runCliProcess(
        [
          'events',
          'append',
          '--url',
          url,
          '--type',
          'order.paid',
          '--stream',
          'order-1',
          '--expected-version',
          '1',
        ],
        env,
      );
      expect(stale.code).toBe(1);
      expect(stale.stdout).toBe('');
      expect(stale.stderr).toMatch(/^foundation: FND_EVENTS_VERSION_CONFLICT: /);

      // the same id twice: the retry is idempotent
      const id = '01900000-0000-7000-8000-00000000abcd';
      for (const expected of ['appended', 'already stored']) {
        const run = await runCliProcess(
          [
            'events',
            'append',
            '--url',
            url,
            '--type',
            'user.created',
            '--id',
            id,
            '--data',
            '{"name":"Ada"}',
          ],
          env,
        );
        expect(run.code).toBe(0);
        expect(run.stdout.startsWith(`${expected}: 3 `)).toBe(true);
      }

      const table = await runCliProcess(['events', 'query', '--url', url, '--types', 'order.*']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^POSITION\s+TIME\s+TYPE\s+STREAM\s+CORRELATION$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/).slice(2, 4))).toEqual([
        ['order.created', 'order-1@1'],
        ['order.paid', 'order-1@2'],
      ]);

      const where = await runCliProcess([
        'events',
        'query',
        '--url',
        url,
        '--where',
        '[{"path":"metadata.source","op":"eq","value":"cli"}]',
        '--json',
      ]);
      expect(where.code).toBe(0);
      const matched = jsonLines(where.stdout);
      expect(matched.map((e) => [e.type, e.data, e.correlationId])).toEqual([
        ['order.created', { total: 12 }, 'corr-cli'],
      ]);

      const paged = await runCliProcess([
        'events',
        'query',
        '--url',
        url,
        '--limit',
        '2',
        '--order',
        'desc',
        '--json',
      ]);
      expect(jsonLines(paged.stdout).map((e) => e.position)).toEqual([3, 2]);
      const cursor = /^more events match: --cursor (\S+)$/m.exec(paged.stderr)?.[1];
      expect(cursor).toEqual(expect.any(String));
      const next = await runCliProcess([
        'events',
        'query',
        '--url',
        url,
        '--limit',
        '2',
        '--order',
        'desc',
        '--json',
        '--cursor',
        cursor ?? '',
      ]);
      expect(jsonLines(next.stdout).map((e) => e.position)).toEqual([1]);
      expect(next.stderr).toBe('');

      node.child.kill('SIGTERM');
      expect((await node.exited).code).toBe(0);
    }

    // a new process on the same data directory finds every event
    await using again = await startCliProcess(
      ['--port', '0', '--data-dir', dataDir, '--name', 'ev-node'],
      env,
    );
    const all = await runCliProcess(['events', 'query', '--url', again.url, '--json']);
    expect(jsonLines(all.stdout).map((e) => [e.position, e.type])).toEqual([
      [1, 'order.created'],
      [2, 'order.paid'],
      [3, 'user.created'],
    ]);
  });

  it('bad flags exit 2 with FND_CLI_INVALID_ARGUMENT; server refusals exit 1 with the problem code', async () => {
    await using dir = await tempDir();
    await using node = await startCliProcess(
      ['--port', '0', '--store', 'memory:', '--data-dir', join(dir.path, 'data'), '--name', 'strict'],
      { FOUNDATION_TOKEN: TOKEN },
    );
    const usage = [
      ['events'],
      ['events', 'delete'],
      ['events', 'query', '--limit', 'lots'],
      ['events', 'query', '--limit', '0'],
      ['events', 'query', '--order', 'up'],
      ['events', 'query', '--where', '{not json'],
      ['events', 'query', '--where', '{"path":"data.x"}'],
      ['events', 'query', '--bogus'],
      ['events', 'query', '--url', 'ftp://x'],
      ['events', 'append'],
      ['events', 'append', '--type', 'a.b', '--data', '{'],
      ['events', 'append', '--type', 'a.b', '--metadata', '[1]'],
      ['events', 'append', '--type', 'a.b', '--expected-version', 'maybe'],
      ['events', 'append', '--type', 'a.b', 'positional'],
    ];
    for (const args of usage) {
      const run = await runCliProcess(args.includes('--url') ? args : [...args, '--url', node.url]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: /);
    }

    const refused = [
      [['events', 'query', '--url', node.url, '--types', 'Not A Type'], 'FND_EVENTS_INVALID_QUERY', {}],
      [['events', 'query', '--url', node.url, '--cursor', 'garbage'], 'FND_EVENTS_INVALID_CURSOR', {}],
      [
        ['events', 'append', '--url', node.url, '--type', 'Bad Type'],
        'FND_EVENTS_INVALID_EVENT',
        { FOUNDATION_TOKEN: TOKEN },
      ],
      [['events', 'append', '--url', node.url, '--type', 'a.b'], 'FND_EXTERNAL_AUTHENTICATION_FAILED', {}],
      [
        ['events', 'append', '--url', node.url, '--type', 'a.b', '--token', 'nope'],
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
        {},
      ],
    ] as const;
    for (const [args, code, env] of refused) {
      const run = await runCliProcess(args, env);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(new RegExp(`^foundation: ${code}: `));
    }
    const empty = await runCliProcess(['events', 'query', '--url', node.url]);
    expect(empty.stdout).toBe('No events match.\n');

    const bad = await runCliProcess(['start', '--store', 'mysql://nope', '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: --store: Invalid store URL/);
  });

  it('an unreachable control bus exits 1 with FND_EXTERNAL_NETWORK_ERROR', async () => {
    const run = await runCliProcess(['events', 'query', '--url', 'http://127.0.0.1:1', '--timeout', '2s']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^foundation: FND_EXTERNAL_NETWORK_ERROR: /);
  });
});
