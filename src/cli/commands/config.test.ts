import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import type { CliIo } from '../cli-io.js';
import { configCommand, parseConfigValue, parseVersion } from './config.js';
import {
  formatConfig,
  formatExplain,
  formatHistory,
  formatUpdateResult,
  valueText,
} from './config-format.js';
import { thrown } from '../../testing/index.js';

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

describe('foundation config: arguments (no request sent)', () => {
  // An unreachable URL: a request would fail with FND_EXTERNAL_NETWORK_ERROR, not the argument error.
  const url = ['--url', 'http://127.0.0.1:9'];

  it.each([
    [['frobnicate']],
    [['get', 'a.b', 'extra', ...url]],
    [['get', '--token', 't', ...url]],
    [['set', ...url]],
    [['set', 'a.b', ...url]],
    [['set', 'a.b', '--dry-run', ...url]],
    [['set', 'a.b', '1', '--expected-version', '0', ...url]],
    [['set', 'a.b', '1', '--expected-version', 'x', ...url]],
    [['set', 'a.b', '1', '--reason', ' ', ...url]],
    [['set', 'a.b', '1', '--unknown', ...url]],
    [['diff', 'a.b', '1', '--dry-run', ...url]],
    [['diff', 'a.b']],
    [['history', '--limit', '0', ...url]],
    [['history', '--limit', '1001', ...url]],
    [['history', '--before', '-1', ...url]],
    [['history', 'extra', ...url]],
    [['rollback', ...url]],
    [['rollback', 'two', ...url]],
    [['rollback', '0', ...url]],
    [['rollback', '2', '--limit', '3', ...url]],
    [['get', '--url', 'ftp://host']],
  ])('%# refuses %j with FND_CLI_INVALID_ARGUMENT', async (args) => {
    const error = await rejection(configCommand.run(args, fakeIo()));
    expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
  });

  it('an unreachable node is FND_EXTERNAL_NETWORK_ERROR', async () => {
    const error = await rejection(configCommand.run(['get', ...url], fakeIo()));
    expect(isFoundationError(error, 'FND_EXTERNAL_NETWORK_ERROR')).toBe(true);
  });

  it('parses values as JSON, else as plain text; versions as positive integers', () => {
    expect(parseConfigValue('20')).toBe(20);
    expect(parseConfigValue('-5')).toBe(-5);
    expect(parseConfigValue('true')).toBe(true);
    expect(parseConfigValue('null')).toBeNull();
    expect(parseConfigValue('{"a":[1,"x"]}')).toEqual({ a: [1, 'x'] });
    expect(parseConfigValue('"20"')).toBe('20');
    expect(parseConfigValue('hello world')).toBe('hello world');
    expect(parseConfigValue('{oops')).toBe('{oops');
    expect(parseConfigValue('')).toBe('');
    expect(parseVersion('12', 'v')).toBe(12);
    for (const bad of ['0', '-1', '1.5', '1e3', '', '9'.repeat(20)]) {
      expect(
        isFoundationError(
          thrown(() => parseVersion(bad, 'v')),
          'FND_CLI_INVALID_ARGUMENT',
        ),
      ).toBe(true);
    }
  });
});

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      resolve(text === '' ? undefined : (JSON.parse(text) as unknown));
    });
  });
}

describe('foundation config: requests and output (a stub control bus)', () => {
  const recorded: Recorded[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((body) => {
        recorded.push({
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          body,
        });
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function run(args: readonly string[], env: Record<string, string> = {}) {
    recorded.length = 0;
    const io = fakeIo({ FOUNDATION_URL: base, ...env });
    const code = await configCommand.run(args, io);
    return { code, io, request: recorded[0] };
  }

  it('set sends one change with the options and the token, and prints the diff', async () => {
    answer = {
      status: 200,
      body: {
        applied: true,
        dryRun: false,
        version: 4,
        previousVersion: 3,
        valid: true,
        issues: [],
        changes: [{ path: 'limits.rps', old: 10, new: 20 }],
      },
    };
    const { code, io, request } = await run(
      ['set', 'limits.rps', '20', '--expected-version', '3', '--reason', 'load test', '--actor', 'ops'],
      { FOUNDATION_TOKEN: 'tok' },
    );
    expect(code).toBe(0);
    expect(request).toEqual({
      method: 'POST',
      url: '/api/config',
      authorization: 'Bearer tok',
      body: {
        changes: [{ path: 'limits.rps', value: 20 }],
        expectedVersion: 3,
        reason: 'load test',
        actor: 'ops',
      },
    });
    expect(io.lines).toEqual(['version 3 → 4', '  limits.rps: 10 → 20']);
  });

  it('diff is a dry run; an invalid one prints its issues and exits 1', async () => {
    answer = {
      status: 200,
      body: {
        applied: false,
        dryRun: true,
        version: 3,
        previousVersion: 3,
        valid: false,
        issues: [{ path: 'limits.rps', message: 'Too big' }],
        changes: [{ path: 'limits.rps', old: 10, new: 1e9 }],
      },
    };
    const { code, io, request } = await run(['diff', 'limits.rps', '1000000000', '--token', 't']);
    expect(code).toBe(1);
    expect(request?.body).toEqual({ changes: [{ path: 'limits.rps', value: 1e9 }], dryRun: true });
    expect(io.lines).toEqual([
      'dry run against version 3: invalid',
      '  limits.rps: 10 → 1000000000',
      'issues:',
      '  limits.rps: Too big',
    ]);
    const json = await run(['set', 'name', 'plain text', '--dry-run', '--json']);
    expect(json.code).toBe(1);
    expect(json.request?.body).toEqual({ changes: [{ path: 'name', value: 'plain text' }], dryRun: true });
    expect(JSON.parse(json.io.lines[0] ?? '')).toEqual(answer.body);
  });

  it('get, history and rollback call their routes; a problem answer becomes its catalog error', async () => {
    answer = { status: 200, body: { version: 2, mutable: ['limits.*'], config: { a: 1 }, status: {} } };
    const all = await run(['get']);
    expect(all.request?.url).toBe('/api/config');
    expect(all.io.lines).toEqual(['version:   2', 'mutable:   limits.*', '{', '  "a": 1', '}']);
    answer = { status: 200, body: { path: 'a', value: 1, source: 'env', envVar: 'APP_A', layers: [] } };
    const one = await run(['get', 'a.b c']);
    expect(one.request?.url).toBe('/api/config/explain?path=a.b+c');
    answer = { status: 200, body: { version: 2, versions: [] } };
    const history = await run(['history', '--limit', '5', '--before', '9']);
    expect(history.request?.url).toBe('/api/config/history?limit=5&before=9');
    expect(history.io.lines).toEqual(['No versions.']);
    answer = {
      status: 404,
      body: { code: 'FND_CONFIG_VERSION_NOT_FOUND', detail: 'No version 7', status: 404 },
    };
    const error = await rejection(run(['rollback', '7', '--reason', 'bad deploy']));
    expect(isFoundationError(error, 'FND_CONFIG_VERSION_NOT_FOUND')).toBe(true);
    expect(recorded[0]?.body).toEqual({ version: 7, reason: 'bad deploy' });
  });
});

describe('config formatting', () => {
  it('renders values compactly and shortens long ones', () => {
    expect(valueText(undefined)).toBe('(unset)');
    expect(valueText('x')).toBe('"x"');
    expect(valueText({ a: [1] })).toBe('{"a":[1]}');
    expect(valueText('y'.repeat(500))).toHaveLength(120);
  });

  it('explains a path with its layers', () => {
    expect(
      formatExplain({
        path: 'limits.rps',
        value: 20,
        source: 'env',
        envVar: 'APP_LIMITS__RPS',
        layers: [
          { source: 'default', value: 10 },
          { source: 'env', value: 20 },
        ],
        version: 3,
        secret: false,
        mutable: true,
      }),
    ).toEqual([
      'path:      limits.rps',
      'value:     20',
      'source:    env (APP_LIMITS__RPS)',
      'mutable:   yes',
      'secret:    no',
      'version:   3',
      'layers:',
      '  default  10',
      '  env      20',
    ]);
  });

  it('renders the history as a table and update results of every kind', () => {
    expect(
      formatHistory({
        versions: [
          {
            version: 3,
            at: 0,
            kind: 'rollback',
            rolledBackTo: 1,
            actor: 'control-bus',
            changes: [{ path: 'a' }, { path: 'b' }, { path: 'c' }, { path: 'd' }],
            reason: 'oops',
          },
          { version: 1, at: 0, kind: 'initial', changes: [] },
        ],
      }),
    ).toEqual([
      'VERSION  AT                        KIND           ACTOR        CHANGES       REASON',
      '3        1970-01-01T00:00:00.000Z  rollback to 1  control-bus  a, b, c (+1)  oops',
      '1        1970-01-01T00:00:00.000Z  initial        -            -             -',
    ]);
    expect(formatUpdateResult({ applied: false, dryRun: false, version: 2, changes: [] })).toEqual([
      'no change (version 2)',
    ]);
    expect(
      formatUpdateResult({ dryRun: true, valid: true, version: 2, changes: [{ path: 'x', new: 1 }] }),
    ).toEqual(['dry run against version 2: valid, 1 change', '  x: (unset) → 1']);
    expect(formatConfig('garbage')).toEqual(['version:   -', 'mutable:   none', '{}']);
  });
});
