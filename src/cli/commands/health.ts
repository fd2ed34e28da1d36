/**
 * `foundation health`: exit 0 when a running foundation is ready, 1 when not (or unreachable).
 *
 * @module
 */
import { parseDuration, parseFlags, parseUrl, pick } from '../arguments.js';
import { EXIT } from '../cli-io.js';
import type { Command } from '../command.js';
import { DEFAULT_URL, getJson, problemDetail } from '../control-bus-client.js';

/** The `health` command. */
export const healthCommand: Command = {
  name: 'health',
  summary: 'Exit 0 if a running foundation is ready, 1 if not',
  help: [
    'Usage: foundation health [--url URL] [--timeout DURATION]',
    '',
    'Asks GET /health/ready. Prints one line; suitable for container health checks.',
    '',
    'Options:',
    `  --url URL           control bus URL (env FOUNDATION_URL; default ${DEFAULT_URL})`,
    '  --timeout DURATION  give up after this long (default 5s)',
    '',
    'Exit codes: 0 ready, 1 not ready or unreachable, 2 bad arguments.',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags('health', args, { url: { type: 'string' }, timeout: { type: 'string' } });
    const url = parseUrl(pick(flags, 'url', io.env, 'FOUNDATION_URL')?.value ?? DEFAULT_URL, '--url');
    const timeoutMs = typeof flags.timeout === 'string' ? parseDuration(flags.timeout, '--timeout') : 5000;
    const { status, body } = await getJson(url, '/health/ready', timeoutMs);
    if (status === 200) {
      const health = (body as { status?: unknown }).status;
      io.out(`ready (${typeof health === 'string' ? health : 'healthy'})`);
      return EXIT.ok;
    }
    io.err(`not ready: ${problemDetail(body)}`);
    return EXIT.failure;
  },
};
