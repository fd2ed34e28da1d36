/**
 * The plumbing every control-bus command of the CLI shares (`config`, `protection`, `projections`,
 * `subscriptions`, `retention`): the common flags, the connection they describe (`--url` / `FOUNDATION_URL`,
 * `--token` / `FOUNDATION_TOKEN`, `--timeout`, `--json`), one request with the expected statuses, and printing
 * an answer as JSON or as lines.
 *
 * @module
 */
import { parseDuration, parseNonEmpty, parseUrl, pick, type ParsedFlags } from './arguments.js';
import { EXIT, type CliIo, type ExitCode } from './cli-io.js';
import { DEFAULT_URL, problemError, requestJson } from './control-bus-client.js';

/** Flags of a command that only reads. */
export const READ_FLAGS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** Flags of a command that changes something (it needs the token). */
export const WRITE_FLAGS = { ...READ_FLAGS, token: { type: 'string' } } as const;

/** Where and how to reach the control bus. */
export interface Connection {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly token: string | undefined;
}

/** The connection the parsed flags (then the environment) describe. */
export function connection(flags: ParsedFlags, io: CliIo, defaultTimeoutMs = 10_000): Connection {
  const token = pick(flags, 'token', io.env, 'FOUNDATION_TOKEN');
  return {
    url: parseUrl(pick(flags, 'url', io.env, 'FOUNDATION_URL')?.value ?? DEFAULT_URL, '--url'),
    timeoutMs:
      typeof flags.timeout === 'string' ? parseDuration(flags.timeout, '--timeout') : defaultTimeoutMs,
    json: flags.json === true,
    token: token === undefined ? undefined : parseNonEmpty(token.value, token.source),
  };
}

/**
 * One request: a GET, or a POST (with the token, and `body` when given). A status outside `expected` becomes
 * the problem's error (its catalog code).
 */
export async function callControlBus(
  conn: Connection,
  method: 'GET' | 'POST',
  path: string,
  options: { readonly body?: unknown; readonly expected?: readonly number[] } = {},
): Promise<unknown> {
  const { status, body } = await requestJson(conn.url, path, {
    method,
    timeoutMs: conn.timeoutMs,
    ...(method === 'POST' ? { token: conn.token } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  if (!(options.expected ?? [200]).includes(status)) {
    throw problemError(`${method} ${conn.url.origin}${path}`, status, body);
  }
  return body;
}

/** Prints `body` as one JSON line with `--json`, else the lines `lines()` renders. */
export function printAnswer(io: CliIo, conn: Connection, body: unknown, lines: () => string[]): ExitCode {
  if (conn.json) io.out(JSON.stringify(body));
  else for (const line of lines()) io.out(line);
  return EXIT.ok;
}
