import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import type { CliIo } from '../cli-io.js';
import { protectionCommand } from './protection.js';
import { formatAction, formatPolicies, layerText, shortDuration } from './protection-format.js';

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

describe('foundation protection: arguments (no request sent)', () => {
  // An unreachable URL: a request would fail with FND_EXTERNAL_NETWORK_ERROR, not the argument error.
  const url = ['--url', 'http://127.0.0.1:9'];

  it.each([
    [['frobnicate', ...url]],
    [['list', 'extra', ...url]],
    [['list', '--token', 't', ...url]],
    [['isolate', ...url]],
    [['reset']],
    [['isolate', 'Payments', ...url]],
    [['isolate', '1abc', ...url]],
    [['isolate', 'a'.repeat(65), ...url]],
    [['isolate', 'pay/ments', ...url]],
    [['reset', 'payments', 'extra', ...url]],
    [['reset', 'payments', '--force', ...url]],
    [['reset', 'payments', '--timeout', 'soon', ...url]],
    [['list', '--url', 'ftp://host']],
  ])('%# refuses %j with FND_CLI_INVALID_ARGUMENT', async (args) => {
    const error = await rejection(protectionCommand.run(args, fakeIo()));
    expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
  });

  it('an unreachable node is FND_EXTERNAL_NETWORK_ERROR', async () => {
    const error = await rejection(protectionCommand.run(['list', ...url], fakeIo()));
    expect(isFoundationError(error, 'FND_EXTERNAL_NETWORK_ERROR')).toBe(true);
  });
});

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      resolve(text);
    });
  });
}

const LISTING = {
  policies: [
    {
      name: 'payments',
      configured: true,
      layers: [
        { kind: 'retry', maxAttempts: 3 },
        {
          kind: 'breaker',
          state: 'open',
          policy: 'consecutive',
          calls: 2,
          failures: 2,
          level: 0,
          retryAfterMs: 59_400,
        },
      ],
    },
    {
      name: 'pool',
      configured: false,
      layers: [
        {
          kind: 'adaptive',
          algorithm: 'aimd',
          limit: 4,
          inflight: 1,
          queued: 0,
          minLimit: 1,
          maxLimit: 200,
          maxQueue: 0,
        },
        { kind: 'bulkhead', maxConcurrent: 2, maxQueue: 1, running: 1, queued: 0, rejected: 0 },
      ],
      lastError: { code: 'FND_PROTECT_INVALID_POLICY', message: 'bad' },
    },
  ],
};

describe('foundation protection: requests and output (a stub control bus)', () => {
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
    const code = await protectionCommand.run(args, io);
    return { code, io, request: recorded[0] };
  }

  it('list (the default) prints one row per policy; --json the answer', async () => {
    answer = { status: 200, body: LISTING };
    const { code, io, request } = await run([], { FOUNDATION_TOKEN: 'not-sent' });
    expect(code).toBe(0);
    expect(request).toMatchObject({ method: 'GET', url: '/api/protection', authorization: undefined });
    expect(io.lines).toEqual([
      'POLICY    BREAKER  LAYERS',
      'payments  open     retry maxAttempts=3 · breaker open (2 failures / 2 calls, half-opens in 1m)',
      'pool      -        adaptive aimd limit 4, 1 in flight, 0/0 queued · bulkhead 1/2 running, 0/1 queued' +
        ' (removed from config) (config not applied: FND_PROTECT_INVALID_POLICY)',
    ]);
    const json = await run(['list', '--json']);
    expect(JSON.parse(json.io.lines[0] ?? '')).toEqual(LISTING);
  });

  it('isolate and reset POST with the token and print the new state', async () => {
    answer = { status: 200, body: { name: 'payments', action: 'isolate', state: 'isolated', policy: {} } };
    const isolate = await run(['isolate', 'payments'], { FOUNDATION_TOKEN: 'tok' });
    expect(isolate.code).toBe(0);
    expect(isolate.request).toEqual({
      method: 'POST',
      url: '/api/protection/payments/isolate',
      authorization: 'Bearer tok',
      body: '',
    });
    expect(isolate.io.lines).toEqual(['isolated payments: breaker isolated']);
    answer = { status: 200, body: { name: 'pay.v2', action: 'reset', state: 'closed', policy: {} } };
    const reset = await run(['reset', 'pay.v2', '--token', 'flag-token', '--json']);
    expect(reset.request).toMatchObject({
      url: '/api/protection/pay.v2/reset',
      authorization: 'Bearer flag-token',
    });
    expect(JSON.parse(reset.io.lines[0] ?? '')).toEqual(answer.body);
  });

  it('a problem answer becomes its catalog error', async () => {
    answer = {
      status: 404,
      body: { code: 'FND_DATA_NOT_FOUND', detail: 'No protection policy named nope', status: 404 },
    };
    const error = await rejection(run(['reset', 'nope', '--token', 't']));
    expect(isFoundationError(error, 'FND_DATA_NOT_FOUND')).toBe(true);
  });
});

describe('protection formatting', () => {
  it('renders durations, layers, an empty list and odd shapes defensively', () => {
    expect(shortDuration(850)).toBe('850ms');
    expect(shortDuration(12_000)).toBe('12s');
    expect(shortDuration(200_000)).toBe('3m20s');
    expect(shortDuration(120_000)).toBe('2m');
    expect(shortDuration(undefined)).toBe('-');
    expect(layerText({ kind: 'breaker', state: 'half_open', calls: 0, failures: 0 })).toBe(
      'breaker half_open (0 failures / 0 calls)',
    );
    expect(layerText({ kind: 'timeout', ms: 100, nested: { a: 1 } })).toBe('timeout ms=100');
    expect(layerText(null)).toBe('-');
    expect(formatPolicies({ policies: [] })).toEqual([
      'No protection policies (configure foundation.protection).',
    ]);
    expect(formatPolicies('garbage')).toEqual(['No protection policies (configure foundation.protection).']);
    expect(formatPolicies({ policies: [{ name: 'x', layers: [] }] })).toEqual([
      'POLICY  BREAKER  LAYERS',
      'x       -        no layers',
    ]);
    expect(formatAction({})).toEqual(['- -: breaker -']);
  });
});
