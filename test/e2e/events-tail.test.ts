import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppendResult, StoredEvent } from '../../src/events/model/types.js';
import { CLI_PATH, runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';
import { freePort } from '../helpers/ports.js';

const TOKEN = 'tail-token';
/** CLI processes take a second or two to load: poll patiently. */
const SLOW = { timeout: 20_000 };

/** A running `foundation events tail` process. */
interface TailProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Complete stdout lines so far. */
  lines(): string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('FOUNDATION_')) env[key] = value;
  }
  return env;
}

function startTail(args: readonly string[]): TailProcess {
  const child = spawn(process.execPath, [CLI_PATH, 'events', 'tail', ...args], {
    env: childEnv(),
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split('\n').slice(0, -1),
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function post(url: string, body: unknown): Promise<AppendResult> {
  const response = await fetch(new URL('/api/events', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as AppendResult;
}

async function subscribers(url: string): Promise<number> {
  const response = await fetch(new URL('/api/registry?health=true', url));
  const body = (await response.json()) as {
    entries: Array<{ name: string; health?: { details?: { eventStreamClients?: number } } }>;
  };
  return body.entries.find((e) => e.name === 'control-bus')?.health?.details?.eventStreamClients ?? -1;
}

const parse = (line: string): StoredEvent => JSON.parse(line) as StoredEvent;

describe('foundation events tail (real CLI processes against a real node)', () => {
  it('replays from the start, follows appends live through POST /api/events, and stops cleanly on SIGINT', async () => {
    await using dir = await tempDir();
    await using node = await startCliProcess(
      ['--port', '0', '--data-dir', join(dir.path, 'data'), '--name', 'tail-node'],
      { FOUNDATION_TOKEN: TOKEN },
    );
    const before = await post(node.url, [
      { type: 'order.created', stream: 'order-1', data: { total: 3 } },
      { type: 'user.signed_in', data: { user: 'ada' } },
    ]);

    await using json = startTail(['--url', node.url, '--from', 'start', '--types', 'order.*', '--json']);
    await using table = startTail(['--url', node.url]);
    await expect.poll(() => json.lines().length, SLOW).toBe(1);
    expect(parse(json.lines()[0] ?? '')).toEqual(before.events[0]);
    // both tails are subscribed before the next appends (the second one from the end of the log)
    await expect.poll(() => subscribers(node.url), SLOW).toBe(2);

    const live = await post(node.url, [
      { type: 'order.paid', stream: 'order-1', data: { total: 3 }, correlationId: 'corr-tail' },
      { type: 'user.signed_out', data: {} },
    ]);
    await expect.poll(() => json.lines().length, SLOW).toBe(2);
    expect(parse(json.lines()[1] ?? '')).toEqual(live.events[0]);
    await expect.poll(() => table.lines().length, SLOW).toBe(2);
    expect(table.lines()).toEqual([
      expect.stringMatching(/^3 {2}\S+Z {2}order\.paid {2}order-1@2 {2}corr-tail$/),
      expect.stringMatching(/^4 {2}\S+Z {2}user\.signed_out {2}- {2}\S+$/),
    ]);

    json.child.kill('SIGINT');
    expect(await json.exited).toEqual({ code: 0, signal: null });
    expect(json.stderr()).toBe('foundation: stopped after 2 events; resume with --from 3\n');
    table.child.kill('SIGTERM');
    expect((await table.exited).code).toBe(0);
    // the server dropped their subscriptions
    await expect.poll(() => subscribers(node.url), SLOW).toBe(0);

    // the printed checkpoint resumes exactly after the last event shown
    await using resumed = startTail(['--url', node.url, '--from', '3', '--json']);
    await expect.poll(() => resumed.lines().length, SLOW).toBe(1);
    expect(parse(resumed.lines()[0] ?? '')).toEqual(live.events[1]);
  }, 120_000);

  it('resumes with Last-Event-ID after the node restarts: missed events once, nothing repeated', async () => {
    await using dir = await tempDir();
    const dataDir = join(dir.path, 'data');
    const port = String(await freePort());
    const args = ['--port', port, '--data-dir', dataDir, '--name', 'restarting'];
    const env = { FOUNDATION_TOKEN: TOKEN };
    // the tail exits at once when it never reached the node, so the node comes first
    await using node = await startCliProcess(args, env);
    const url = node.url;
    await using tail = startTail(['--url', url, '--from', 'start', '--json', '--retry-for', '60s']);
    const first = await post(url, [
      { type: 'a.one', data: {} },
      { type: 'a.two', data: {} },
    ]);
    await expect.poll(() => tail.lines().length, SLOW).toBe(2);
    node.child.kill('SIGTERM');
    expect((await node.exited).code).toBe(0);
    await expect.poll(() => tail.stderr(), SLOW).toContain('foundation: lost the control bus at');
    await using again = await startCliProcess(args, env);
    const missed = await post(again.url, [{ type: 'a.three', data: {} }]);
    await expect.poll(() => tail.lines().length, SLOW).toBe(3);
    await expect.poll(() => tail.stderr(), SLOW).toContain(`foundation: reconnected to ${url} after 2`);
    const after = await post(again.url, [{ type: 'a.four', data: {} }]);
    await expect.poll(() => tail.lines().length, SLOW).toBe(4);
    expect(tail.lines().map(parse)).toEqual([...first.events, ...missed.events, ...after.events]);
    tail.child.kill('SIGINT');
    expect((await tail.exited).code).toBe(0);
  }, 120_000);

  it('exits 1 with a clear message when the node goes away for good, or is not there at all', async () => {
    await using dir = await tempDir();
    await using node = await startCliProcess(
      ['--port', '0', '--data-dir', join(dir.path, 'data'), '--name', 'leaving'],
      { FOUNDATION_TOKEN: TOKEN },
    );
    await post(node.url, [{ type: 'x.one', data: {} }]);
    await using tail = startTail(['--url', node.url, '--from', 'start', '--retry-for', '500ms']);
    await expect.poll(() => tail.lines().length, SLOW).toBe(1);
    node.child.kill('SIGTERM');
    const { code } = await tail.exited;
    expect(code).toBe(1);
    expect(tail.stderr()).toMatch(
      /^foundation: lost the control bus at http:\/\/127\.0\.0\.1:\d+ \(.+\); reconnecting…$/m,
    );
    expect(tail.stderr()).toMatch(
      /^foundation: FND_EXTERNAL_NETWORK_ERROR: The control bus at http:\/\/127\.0\.0\.1:\d+ went away: no connection for 500 ms \(.+\); resume with --from 1$/m,
    );

    // nothing listening: fails at once
    const nobody = await runCliProcess(['events', 'tail', '--url', node.url]);
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toMatch(
      /^foundation: FND_EXTERNAL_NETWORK_ERROR: Cannot reach the control bus at /,
    );
  }, 120_000);

  it('refusals: bad flags exit 2, a bad filter or checkpoint exits 1 with the server code', async () => {
    await using dir = await tempDir();
    await using node = await startCliProcess(
      ['--port', '0', '--store', 'memory:', '--data-dir', join(dir.path, 'data'), '--name', 'strict-tail'],
      { FOUNDATION_TOKEN: TOKEN },
    );
    for (const args of [['--where', '{"not":"array"}'], ['--from', ''], ['--retry-for', 'x'], ['--bogus']]) {
      const run = await runCliProcess(['events', 'tail', '--url', node.url, ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: /);
    }
    const badType = await runCliProcess(['events', 'tail', '--url', node.url, '--types', 'a..b']);
    expect(badType.code).toBe(1);
    expect(badType.stderr).toMatch(/^foundation: FND_EVENTS_INVALID_QUERY: /);
    const badFrom = await runCliProcess(['events', 'tail', '--url', node.url, '--from', 'not-a-checkpoint']);
    expect(badFrom.code).toBe(1);
    expect(badFrom.stderr).toMatch(/^foundation: FND_EVENTS_INVALID_SUBSCRIPTION: /);
  }, 120_000);
});
