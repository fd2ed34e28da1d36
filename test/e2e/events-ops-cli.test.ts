import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProjectionStatus } from '../../src/events/projections/types.js';
import { runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';

const TOKEN = 'cli-ops-token';

const PROJECTIONS_MODULE = `
export const projections = [
  {
    name: 'order-totals',
    filter: { types: ['order.*'] },
    key: (event) => event.stream ?? undefined,
    initial: () => ({ count: 0 }),
    evolve: (state) => ({ count: state.count + 1 }),
    mode: 'async',
  },
];
`;

describe('foundation projections | subscriptions | retention (real CLI processes against a real node)', () => {
  it('lists, inspects and rebuilds projections, shows subscriptions, runs retention', async () => {
    await using dir = await tempDir();
    const module = join(dir.path, 'projections.mjs');
    await writeFile(module, PROJECTIONS_MODULE);
    const env = {
      FOUNDATION_TOKEN: TOKEN,
      FOUNDATION_RETENTION_POLICIES: '[{"types":"debug.*","maxCount":1}]',
    };
    await using node = await startCliProcess(
      ['--port', '0', '--data-dir', join(dir.path, 'data'), '--name', 'ops-node', '--projections', module],
      env,
    );
    const url = node.url;
    const append = await fetch(new URL('/api/events', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { type: 'order.created', stream: 'order-1' },
        { type: 'order.paid', stream: 'order-1' },
        { type: 'order.created', stream: 'order-2' },
        { type: 'debug.trace', data: { i: 1 } },
        { type: 'debug.trace', data: { i: 2 } },
        { type: 'debug.trace', data: { i: 3 } },
      ]),
    });
    expect(append.status).toBe(201);
    // the async projection catches up (position of the last order event: 3)
    await expect
      .poll(async () => {
        const response = await fetch(new URL('/api/projections/order-totals', url));
        return ((await response.json()) as ProjectionStatus).position;
      })
      .toBe(3);

    // projections (list is the default), as a table and as JSON; the URL from the environment
    const listed = await runCliProcess(['projections'], { FOUNDATION_URL: url });
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+MODE\s+STATE\s+POSITION\s+REBUILD\s+ERROR\n/);
    expect(listed.stdout).toMatch(/order-totals\s+async\s+running\s+3\s+-\s+-\n/);
    const listedJson = await runCliProcess(['projections', 'list', '--url', url, '--json']);
    expect(listedJson.code).toBe(0);
    const { projections } = JSON.parse(listedJson.stdout) as { projections: ProjectionStatus[] };
    expect(projections.map((p) => [p.name, p.state])).toEqual([['order-totals', 'running']]);

    const status = await runCliProcess(['projections', 'status', 'order-totals', '--url', url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^name:\s+order-totals\nmode:\s+async\nstate:\s+running\nposition:\s+3\n/);

    // rebuild without the token: refused by the server, exit 1, nothing reset
    const refused = await runCliProcess(['projections', 'rebuild', 'order-totals', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FND_EXTERNAL_AUTHENTICATION_FAILED');
    const still = (await (
      await fetch(new URL('/api/projections/order-totals', url))
    ).json()) as ProjectionStatus;
    expect(still).toMatchObject({ state: 'running', position: 3 });

    const rebuilt = await runCliProcess(['projections', 'rebuild', 'order-totals', '--url', url], env);
    expect(rebuilt.stderr).toBe('');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilding order-totals: \d+\/3 \(\d+%\)\n$/);
    await expect
      .poll(async () => {
        const result = await runCliProcess(['projections', 'status', 'order-totals', '--url', url, '--json']);
        const body = JSON.parse(result.stdout) as ProjectionStatus;
        return [body.state, body.position];
      })
      .toEqual(['running', 3]);

    // unknown and malformed names
    const unknown = await runCliProcess(['projections', 'rebuild', 'no-such', '--url', url], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('FND_DATA_NOT_FOUND');
    const malformed = await runCliProcess(['projections', 'status', 'bad name!', '--url', url]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('FND_CLI_INVALID_ARGUMENT');
    const missing = await runCliProcess(['projections', 'rebuild', '--url', url], env);
    expect(missing.code).toBe(2);

    // subscriptions: the projection's live subscription is listed with its lag
    const subs = await runCliProcess(['subscriptions', '--url', url]);
    expect(subs.code).toBe(0);
    expect(subs.stdout).toMatch(
      /^Live subscriptions:\n\s+NAME\s+STATE\s+POSITION\s+LAG\s+BUFFERED\s+DELIVERED\n/,
    );
    expect(subs.stdout).toMatch(/projection:order-totals\s+\w+\s+\d+\s+\d+/);
    expect(subs.stdout).toMatch(/Durable subscriptions:\n\s+none\n$/);
    const subsJson = await runCliProcess(['subscriptions', '--url', url, '--json']);
    const parsed = JSON.parse(subsJson.stdout) as {
      live: Array<{ name: string; lag: number }>;
      durable: unknown[];
    };
    expect(parsed.live.some((s) => s.name === 'projection:order-totals' && typeof s.lag === 'number')).toBe(
      true,
    );
    expect(parsed.durable).toEqual([]);

    // retention: status, a refused run without token, a run that deletes the two older debug events
    const retention = await runCliProcess(['retention', '--url', url]);
    expect(retention.code).toBe(0);
    expect(retention.stdout).toContain('policies:\n  debug.* maxCount=1\n');
    const noToken = await runCliProcess(['retention', 'run', '--url', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('FND_EXTERNAL_AUTHENTICATION_FAILED');
    const run = await runCliProcess(['retention', 'run', '--url', url], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^deleted 2 events in \d+ batches/);
    expect(run.stdout).toContain('debug.*: 0 by age, 2 by count');
    const after = await runCliProcess(['retention', 'status', '--url', url, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({
      configured: true,
      lastReport: { deleted: 2 },
      lastError: null,
    });
    const debug = await fetch(new URL('/api/events?types=debug.*', url));
    expect(((await debug.json()) as { events: unknown[] }).events).toHaveLength(1);
  }, 120_000);

  it('refuses bad start options before starting, and retention run on a node without policies', async () => {
    await using dir = await tempDir();
    const bad = await runCliProcess(['start', '--port', '0', '--data-dir', join(dir.path, 'd1')], {
      FOUNDATION_RETENTION_POLICIES: '[{"types":"debug.*"}]',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('FOUNDATION_RETENTION_POLICIES');
    const notJson = await runCliProcess(['start', '--port', '0', '--retention-policies', '{oops']);
    expect(notJson.code).toBe(2);
    const noModule = await runCliProcess([
      'start',
      '--port',
      '0',
      '--data-dir',
      join(dir.path, 'd2'),
      '--projections',
      join(dir.path, 'missing.mjs'),
    ]);
    expect(noModule.code).toBe(1);
    expect(noModule.stderr).toContain('FND_SYSTEM_INITIALIZATION_FAILED');

    await using node = await startCliProcess(['--port', '0', '--data-dir', join(dir.path, 'd3')], {
      FOUNDATION_TOKEN: TOKEN,
    });
    const run = await runCliProcess(['retention', 'run', '--url', node.url], { FOUNDATION_TOKEN: TOKEN });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FND_CONFIG_NOT_FOUND');
    const status = await runCliProcess(['retention', '--url', node.url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe('Retention is not configured on this node.\n');
  }, 120_000);
});
