import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';
import { isPortOpen, occupyPort } from '../helpers/ports.js';

interface StatusBody {
  name: string;
  state: string;
  services: Array<{ name: string; state: string }>;
}

describe('foundation CLI (real process)', () => {
  it('is built with a node shebang', () => {
    expect(existsSync(CLI_PATH)).toBe(true);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`start serves the control bus, then ${signal} stops it cleanly (exit 0, port closed)`, async () => {
      await using dir = await tempDir();
      const dataDir = join(dir.path, 'state');
      await using cli = await startCliProcess(['--port', '0', '--data-dir', dataDir, '--name', 'e2e-node']);
      expect(cli.stdout()).toMatch(/^foundation e2e-node listening on http:\/\/127\.0\.0\.1:\d+\n/);
      expect(existsSync(dataDir)).toBe(true);

      const ready = await fetch(`${cli.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, state: 'running' });
      const status = (await (await fetch(`${cli.url}/api/status`)).json()) as StatusBody;
      expect(status.name).toBe('e2e-node');
      expect(status.state).toBe('running');
      expect(status.services).toEqual([
        expect.objectContaining({ name: 'storage', state: 'running' }),
        expect.objectContaining({ name: 'config', state: 'running' }),
        expect.objectContaining({ name: 'events', state: 'running' }),
        expect.objectContaining({ name: 'projections', state: 'running' }),
        expect.objectContaining({ name: 'control-bus', state: 'running' }),
      ]);

      cli.child.kill(signal);
      const { code, signal: killedBy } = await cli.exited;
      expect(killedBy).toBeNull();
      expect(code).toBe(0);
      expect(cli.stdout()).toContain(`foundation e2e-node received ${signal}; stopping`);
      expect(cli.stdout()).toContain('foundation e2e-node stopped');
      expect(cli.stderr()).toBe('');
      expect(await isPortOpen(cli.port)).toBe(false);
    });
  }

  it('takes its settings from FOUNDATION_* variables, flags winning', async () => {
    await using dir = await tempDir();
    await using cli = await startCliProcess(['--name', 'from-flag'], {
      FOUNDATION_PORT: '0',
      FOUNDATION_NAME: 'from-env',
      FOUNDATION_DATA_DIR: join(dir.path, 'env-dir'),
    });
    expect(cli.stdout()).toMatch(/^foundation from-flag listening on /);
    expect(existsSync(join(dir.path, 'env-dir'))).toBe(true);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('status --url prints the services; --json prints the status document; health exits 0', async () => {
    await using dir = await tempDir();
    await using cli = await startCliProcess(['--port', '0', '--data-dir', dir.path, '--name', 'table-node']);

    const table = await runCliProcess(['status', '--url', cli.url]);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^foundation table-node {2}running {2}uptime \S+ {2}rss [\d.]+ \w+ {2}pid \d+ {2}restarts 0$/,
    );
    expect(lines[2]).toMatch(/^NAME\s+STATE\s+RESTARTS\s+UPTIME\s+DEPENDENCIES\s+LAST ERROR$/);
    expect(lines[3]).toMatch(/^storage\s+running\s+0\s+\S+\s+-\s+-$/);
    expect(lines[4]).toMatch(/^config\s+running\s+0\s+\S+\s+storage\s+-$/);
    expect(lines[5]).toMatch(/^events\s+running\s+0\s+\S+\s+storage\s+-$/);
    expect(lines[6]).toMatch(/^projections\s+running\s+0\s+\S+\s+events\s+-$/);
    expect(lines[7]).toMatch(/^control-bus\s+running\s+0\s+\S+\s+-\s+-$/);

    const json = await runCliProcess(['status', '--json'], { FOUNDATION_URL: cli.url });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as StatusBody;
    expect(status.name).toBe('table-node');
    expect(status.services.map((s) => s.name)).toEqual([
      'storage',
      'config',
      'events',
      'projections',
      'control-bus',
    ]);

    const health = await runCliProcess(['health', '--url', cli.url]);
    expect(health).toMatchObject({ code: 0, stdout: 'ready (healthy)\n', stderr: '' });

    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('status and health against nothing → FND_EXTERNAL_NETWORK_ERROR, exit 1', async () => {
    const port = await (async () => {
      await using held = await occupyPort();
      return held.port;
    })();
    for (const command of ['status', 'health']) {
      const result = await runCliProcess([command, '--url', `http://127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(
          `^foundation: FND_EXTERNAL_NETWORK_ERROR: Cannot reach the control bus at http://127\\.0\\.0\\.1:${port}`,
        ),
      );
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('bad flags, bad values and unknown commands exit 2 with FND_CLI_INVALID_ARGUMENT on stderr', async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; message: RegExp }> = [
      {
        args: ['start', '--port', '70000'],
        message: /--port must be an integer from 0 to 65535, got "70000"/,
      },
      { args: ['start', '--port', '-1'], message: /--port|Option '--port <value>' argument is ambiguous/ },
      { args: ['start', '--port', '1.5'], message: /--port must be an integer/ },
      { args: ['start', '--host', ''], message: /--host must be a host name or IP address/ },
      { args: ['start', '--name', 'bad name!'], message: /--name must be 1–64 letters/ },
      { args: ['start', '--shutdown-timeout', 'soon'], message: /--shutdown-timeout must be a duration/ },
      { args: ['start', '--bogus'], message: /Unknown option '--bogus'/ },
      { args: ['start', 'extra'], message: /Unexpected argument 'extra'/ },
      { args: ['start'], env: { FOUNDATION_PORT: 'eighty' }, message: /FOUNDATION_PORT must be an integer/ },
      { args: ['status', '--url', 'ftp://x'], message: /--url must be an http:\/\/ or https:\/\/ URL/ },
      { args: ['status', '--url'], message: /argument missing/ },
      { args: ['frobnicate'], message: /Unknown command "frobnicate"/ },
      { args: ['--port', '1'], message: /Unknown command "--port"; options go after the command/ },
    ];
    for (const { args, env, message } of cases) {
      const result = await runCliProcess(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: /);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });

  it('a port already in use → exit 1 with FND_SERVER_LISTEN_FAILED and the address', async () => {
    await using dir = await tempDir();
    await using held = await occupyPort();
    const result = await runCliProcess(['start', '--port', String(held.port), '--data-dir', dir.path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^foundation: FND_LIFECYCLE_START_FAILED: /);
    expect(lines[0]).toContain(
      `caused by FND_SERVER_LISTEN_FAILED: Cannot listen on 127.0.0.1:${held.port}: address already in use`,
    );
  });

  it('--help, <command> --help and version print to stdout and exit 0; no command prints usage and exits 2', async () => {
    const help = await runCliProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: foundation <command> \[options\]/);
    for (const name of ['start', 'status', 'health', 'version']) expect(help.stdout).toContain(`  ${name}`);

    const startHelp = await runCliProcess(['start', '--help']);
    expect(startHelp.code).toBe(0);
    expect(startHelp.stdout).toContain('--shutdown-timeout');
    expect(startHelp.stdout).toContain('FOUNDATION_PORT');

    const version = await runCliProcess(['version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^@elixirscope\/foundation \d+\.\d+\.\d+ \(node v\d+/);

    const none = await runCliProcess([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: foundation/);
  });
});
