import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCliProcess, startCliProcess, tempDir } from '../helpers/cli-process.js';

interface ConfigBody {
  version: number;
  config: { foundation: Record<string, unknown>; app?: Record<string, unknown> };
}

describe('foundation start --config (real process)', () => {
  it('takes its settings from the config file, below flags, with secrets redacted', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'foundation.yaml');
    await writeFile(
      file,
      [
        'foundation:',
        '  name: from-file',
        `  dataDir: ${join(dir.path, 'state')}`,
        '  controlBus:',
        '    port: 0',
        '    token: file-token-123',
        '  events:',
        '    maxHealthyLag: 500',
        'app:',
        '  greeting: hello',
      ].join('\n'),
    );
    const schema = fileURLToPath(new URL('../fixtures/config-schema.mjs', import.meta.url));
    // The variable names a different port than the file: the variable wins (it is explicit).
    await using cli = await startCliProcess(['--config', file, '--schema', schema], { FOUNDATION_PORT: '0' });
    expect(cli.stdout()).toMatch(/^foundation from-file listening on /);

    const body = (await (await fetch(`${cli.url}/api/config`)).json()) as ConfigBody;
    expect(body.version).toBe(1);
    expect(body.config.foundation).toMatchObject({
      name: 'from-file',
      controlBus: { port: 0, token: '[redacted]' },
      events: { maxHealthyLag: 500 },
    });
    expect(body.config.app).toEqual({ greeting: 'hello', rps: 10 });
    expect(JSON.stringify(body)).not.toContain('file-token-123');

    // The token from the file guards the mutating endpoints.
    const refused = await fetch(`${cli.url}/api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ changes: [{ path: 'app.rps', value: 20 }] }),
    });
    expect(refused.status).toBe(401);
    const accepted = await fetch(`${cli.url}/api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer file-token-123' },
      body: JSON.stringify({ changes: [{ path: 'app.rps', value: 20 }] }),
    });
    expect(accepted.status).toBe(200);
    const after = (await (await fetch(`${cli.url}/api/config`)).json()) as ConfigBody;
    expect(after).toMatchObject({ version: 2, config: { app: { rps: 20 } } });
  });

  it('refuses a corrupt config file before starting (exit 1, a catalog code, no listener)', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'broken.json');
    await writeFile(file, '{ "foundation": { "name": ');
    const result = await runCliProcess(['start', '--config', file, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FND_CONFIG_FILE_INVALID');
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses an invalid foundation section naming the path (exit 1)', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'bad.json');
    await writeFile(file, JSON.stringify({ foundation: { controlBus: { port: 'eighty' } } }));
    const result = await runCliProcess(['start', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FND_CONFIG_INVALID_VALUE');
    expect(result.stderr).toContain('foundation.controlBus.port');
  });
});
