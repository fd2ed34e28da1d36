/**
 * `foundation status`: prints the status of a running foundation (a table, or JSON with `--json`).
 *
 * @module
 */
import type { FoundationStatus } from '../../app/foundation.js';
import { FoundationError } from '../../errors/index.js';
import { parseDuration, parseFlags, parseUrl, pick } from '../arguments.js';
import { EXIT } from '../cli-io.js';
import type { Command } from '../command.js';
import { DEFAULT_URL, getJson, problemDetail } from '../control-bus-client.js';
import { formatStatus } from '../status-format.js';

function isStatus(body: unknown): body is FoundationStatus {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Partial<FoundationStatus>;
  return (
    typeof candidate.name === 'string' && Array.isArray(candidate.services) && candidate.process !== undefined
  );
}

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the status of a running foundation',
  help: [
    'Usage: foundation status [--url URL] [--json] [--timeout DURATION]',
    '',
    'Prints the node state and a table of its services, read from GET /api/status.',
    '',
    'Options:',
    `  --url URL           control bus URL (env FOUNDATION_URL; default ${DEFAULT_URL})`,
    '  --json              print the raw status JSON',
    '  --timeout DURATION  give up after this long (default 5s)',
    '',
    'Exit codes: 0 printed, 1 unreachable or failed, 2 bad arguments.',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags('status', args, {
      url: { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
    });
    const url = parseUrl(pick(flags, 'url', io.env, 'FOUNDATION_URL')?.value ?? DEFAULT_URL, '--url');
    const timeoutMs = typeof flags.timeout === 'string' ? parseDuration(flags.timeout, '--timeout') : 5000;
    const { status, body } = await getJson(url, '/api/status', timeoutMs);
    if (status !== 200 || !isStatus(body)) {
      throw new FoundationError('FND_EXTERNAL_SERVICE_ERROR', {
        message: `GET ${url.origin}/api/status answered ${status}: ${problemDetail(body)}`,
        context: { status },
      });
    }
    if (flags.json === true) {
      io.out(JSON.stringify(body, null, 2));
    } else {
      for (const line of formatStatus(body)) io.out(line);
    }
    return EXIT.ok;
  },
};
