/**
 * `foundation config` as a real CLI process against a running foundation: one started in this process with
 * a config schema, mutable paths and a secret (so every subcommand can change something), and one started
 * with `foundation start` (only the foundation's own section).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';

const TOKEN = 'config-cli-token';
const SECRET = 'sk-cli-secret-value';

const schema = z.object({
  app: z
    .object({
      name: z.string().min(1).default('orders'),
      mode: z.enum(['fast', 'safe']).default('safe'),
      apiKey: z.string().default(SECRET),
      limits: z.object({ rps: z.number().int().min(1).max(10_000).default(100) }).prefault({}),
    })
    .prefault({}),
});

describe('foundation config (real CLI processes against a running foundation)', () => {
  let foundation: Foundation;
  let url = '';
  const withToken = { FOUNDATION_TOKEN: TOKEN };

  beforeAll(async () => {
    foundation = createFoundation({
      name: 'config-cli-node',
      store: 'memory:',
      config: { schema, mutable: ['app.limits.*', 'app.name', 'app.apiKey'], secrets: ['app.apiKey'] },
    });
    foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
    await foundation.start();
    url = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE).url;
  });
  afterAll(async () => {
    await foundation.stop();
  });

  it('gets, sets, diffs, lists and rolls back; refusals exit 1 with the error code and change nothing', async () => {
    const start = foundation.config.version;
    const rps = (): unknown =>
      (foundation.config.snapshot() as { app: { limits: { rps: number } } }).app.limits.rps;

    const all = await runCliProcess(['config', 'get', '--url', url]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`version:   ${start}\n`);
    expect(all.stdout).toContain('"rps": 100');
    expect(all.stdout).toContain('"apiKey": "[redacted]"');
    expect(all.stdout).not.toContain(SECRET);

    const one = await runCliProcess(['config', 'get', 'app.limits.rps'], { FOUNDATION_URL: url });
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(
      /^path:\s+app\.limits\.rps\nvalue:\s+100\nsource:\s+default\nmutable:\s+yes\n/,
    );
    const unknown = await runCliProcess(['config', 'get', 'app.nope', '--url', url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('FND_CONFIG_UNKNOWN_PATH');

    // without the token: refused by the server, nothing changed
    const noToken = await runCliProcess(['config', 'set', 'app.limits.rps', '250', '--url', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('FND_EXTERNAL_AUTHENTICATION_FAILED');
    expect(foundation.config.version).toBe(start);

    const set = await runCliProcess(
      [
        'config',
        'set',
        'app.limits.rps',
        '250',
        '--reason',
        'traffic spike',
        '--expected-version',
        String(start),
        '--url',
        url,
      ],
      withToken,
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`version ${start} → ${start + 1}\n  app.limits.rps: 100 → 250\n`);
    expect(rps()).toBe(250);

    // diff: a dry run; a plain string value; an invalid one exits 1 with its issues on stdout
    const diff = await runCliProcess(['config', 'diff', 'app.name', 'eu-west', '--url', url], withToken);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toBe(
      `dry run against version ${start + 1}: valid, 1 change\n  app.name: "orders" → "eu-west"\n`,
    );
    const invalid = await runCliProcess(
      ['config', 'diff', 'app.limits.rps', '1000000', '--url', url],
      withToken,
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^dry run against version \d+: invalid\n/);
    expect(invalid.stdout).toMatch(/issues:\n {2}app\.limits\.rps: /);
    const dryJson = await runCliProcess(
      ['config', 'set', 'app.limits.rps', '300', '--dry-run', '--json', '--url', url],
      withToken,
    );
    expect(dryJson.code).toBe(0);
    expect(JSON.parse(dryJson.stdout)).toMatchObject({ dryRun: true, valid: true, applied: false });
    expect(foundation.config.version).toBe(start + 1);

    // refusals of the config itself
    const forbidden = await runCliProcess(['config', 'set', 'app.mode', 'fast', '--url', url], withToken);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('FND_CONFIG_UPDATE_FORBIDDEN');
    const conflict = await runCliProcess(
      ['config', 'set', 'app.limits.rps', '300', '--expected-version', String(start), '--url', url],
      withToken,
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('FND_CONFIG_VERSION_CONFLICT');
    const secret = await runCliProcess(
      ['config', 'set', 'app.apiKey', 'sk-rotated-999', '--url', url],
      withToken,
    );
    expect(secret.code).toBe(0);
    expect(secret.stdout).not.toContain('sk-rotated-999');
    expect(foundation.config.version).toBe(start + 2);

    // history: a table newest first, and JSON
    const history = await runCliProcess(['config', 'history', '--limit', '5', '--url', url]);
    expect(history.code).toBe(0);
    const lines = history.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+AT\s+KIND\s+ACTOR\s+CHANGES\s+REASON$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${start + 2}\\s+\\S+\\s+update\\s+control-bus\\s+app\\.apiKey\\s+-$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${start + 1}\\s+\\S+\\s+update\\s+control-bus\\s+app\\.limits\\.rps\\s+traffic spike$`),
    );
    expect(history.stdout).not.toContain('sk-rotated-999');
    const historyJson = await runCliProcess(['config', 'history', '--json', '--url', url]);
    const parsed = JSON.parse(historyJson.stdout) as {
      version: number;
      versions: Array<{ version: number }>;
    };
    expect(parsed.version).toBe(start + 2);
    expect(parsed.versions[0]?.version).toBe(start + 2);

    // rollback to the first version
    const rollback = await runCliProcess(
      ['config', 'rollback', String(start), '--reason', 'undo', '--url', url],
      withToken,
    );
    expect(rollback.stderr).toBe('');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(new RegExp(`^version ${start + 2} → ${start + 3}\\n`));
    expect(rollback.stdout).toContain('app.limits.rps: 250 → 100');
    expect(rps()).toBe(100);
    const missing = await runCliProcess(['config', 'rollback', '999', '--url', url], withToken);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('FND_CONFIG_VERSION_NOT_FOUND');

    // bad arguments: exit 2, no request
    for (const args of [
      ['config', 'set', 'app.name'],
      ['config', 'rollback', 'latest'],
      ['config', 'purge'],
    ]) {
      const bad = await runCliProcess([...args, '--url', url], withToken);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('FND_CLI_INVALID_ARGUMENT');
    }
    expect(foundation.config.version).toBe(start + 3);
  }, 120_000);

  it('a node started with "foundation start" serves its own configuration section', async () => {
    await using dir = await tempDir();
    await using node = await startCliProcess(['--port', '0', '--data-dir', join(dir.path, 'data')]);
    const got = await runCliProcess(['config', 'get', '--json', '--url', node.url]);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    const body = JSON.parse(got.stdout) as {
      version: number;
      config: Record<string, unknown>;
      mutable: unknown[];
    };
    expect(body.version).toBeGreaterThanOrEqual(1);
    expect(body.config).toHaveProperty('foundation');
    expect(Array.isArray(body.mutable)).toBe(true);
    const history = await runCliProcess(['config', 'history', '--url', node.url]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^VERSION\s+AT\s+KIND/);
  }, 120_000);
});
