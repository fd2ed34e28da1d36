/**
 * `foundation events query|append`: reads and writes the event store of a running foundation through its
 * control bus (`GET /api/events`, `POST /api/events`).
 *
 * @module
 */
import {
  invalidArgument,
  parseDuration,
  parseFlags,
  parseNonEmpty,
  parseUrl,
  pick,
  type ParsedFlags,
} from '../arguments.js';
import { jsonFlag, stringFlag } from '../flag-values.js';
import { EXIT, type CliIo, type ExitCode } from '../cli-io.js';
import type { Command } from '../command.js';
import { DEFAULT_URL, problemError, requestJson } from '../control-bus-client.js';
import { formatEvents, isEventPage } from '../events-format.js';
import { runTail, TAIL_HELP } from './events-tail.js';

const COMMON_FLAGS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

const QUERY_FLAGS = {
  ...COMMON_FLAGS,
  types: { type: 'string' },
  stream: { type: 'string' },
  'correlation-id': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  order: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  where: { type: 'string' },
} as const;

const APPEND_FLAGS = {
  ...COMMON_FLAGS,
  type: { type: 'string' },
  stream: { type: 'string' },
  data: { type: 'string' },
  metadata: { type: 'string' },
  id: { type: 'string' },
  'correlation-id': { type: 'string' },
  'expected-version': { type: 'string' },
  token: { type: 'string' },
} as const;

const HELP = [
  'Usage: foundation events query [--types a.*,b] [--stream S] [--correlation-id C] [--from T] [--to T]',
  '                               [--order asc|desc] [--limit N] [--cursor C] [--where JSON] [--json] [--url U]',
  '       foundation events append --type T [--stream S] [--data JSON] [--metadata JSON] [--id ID]',
  '                                [--correlation-id C] [--expected-version V] [--json] [--url U] [--token T]',
  '       foundation events tail [--types a.*,b] [--stream S] [--correlation-id C] [--where JSON]',
  '                              [--from start|end|N|C] [--retry-for D] [--idle-timeout D] [--json] [--url U]',
  '',
  'query   prints the events matching a query of the event store (GET /api/events) as a table, or one',
  '        JSON object per line with --json. When more events match, the next cursor goes to stderr.',
  '  --types a.*,b         type patterns, comma-separated (exact, prefix.*, or *)',
  '  --stream S            only this stream',
  '  --correlation-id C    only this correlation id',
  '  --from T / --to T     time range: ms since the epoch or an ISO date (from inclusive, to exclusive)',
  '  --order asc|desc      by position (default asc)',
  '  --limit N             page size, 1–1000 (default 100)',
  '  --cursor C            the next page of a previous query',
  `  --where JSON          predicates, e.g. '[{"path":"data.total","op":"gt","value":10}]'`,
  '',
  'append  appends one event (POST /api/events) and prints it; needs the bus token.',
  '  --type T              event type, e.g. order.created (required)',
  '  --stream S            stream of the event',
  `  --data JSON           payload (default {}), e.g. '{"total":12}'`,
  '  --metadata JSON       metadata object (default {})',
  '  --id ID               event id (UUIDv7) to make a retry idempotent',
  "  --correlation-id C    correlation id (default: the request's)",
  "  --expected-version V  any, no_stream, stream_exists or the stream's current version",
  '  --token T             bearer token (FOUNDATION_TOKEN; prefer the variable)',
  '',
  ...TAIL_HELP,
  '',
  'Common options:',
  `  --url URL             control bus URL (FOUNDATION_URL; default ${DEFAULT_URL})`,
  '  --json                print JSON',
  '  --timeout DURATION    give up after this long (default 10s; query and append)',
  '',
  'Exit codes: 0 done (tail: stopped by Ctrl-C / SIGTERM), 1 refused by the server or unreachable (the error',
  'code on stderr; tail: the bus went away for longer than --retry-for), 2 bad arguments.',
].join('\n');

interface Common {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly json: boolean;
}

function common(flags: ParsedFlags, io: CliIo): Common {
  return {
    url: parseUrl(pick(flags, 'url', io.env, 'FOUNDATION_URL')?.value ?? DEFAULT_URL, '--url'),
    timeoutMs: typeof flags.timeout === 'string' ? parseDuration(flags.timeout, '--timeout') : 10_000,
    json: flags.json === true,
  };
}

/** The query string of `GET /api/events` for the query flags, validating what the CLI can check itself. */
export function queryPath(flags: ParsedFlags): string {
  const params = new URLSearchParams();
  const set = (param: string, flag: string): void => {
    const value = stringFlag(flags, flag);
    if (value !== undefined) params.set(param, value);
  };
  set('types', 'types');
  set('stream', 'stream');
  set('correlationId', 'correlation-id');
  set('from', 'from');
  set('to', 'to');
  set('cursor', 'cursor');
  const order = stringFlag(flags, 'order');
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc')
      throw invalidArgument('--order must be asc or desc', { flag: '--order' });
    params.set('order', order);
  }
  const limit = stringFlag(flags, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) {
      throw invalidArgument(`--limit must be an integer from 1 to 1000, got ${JSON.stringify(limit)}`, {
        flag: '--limit',
      });
    }
    params.set('limit', limit);
  }
  const where = stringFlag(flags, 'where');
  if (where !== undefined) params.set('where', JSON.stringify(jsonFlag(where, '--where', 'array')));
  const query = params.toString();
  return query === '' ? '/api/events' : `/api/events?${query}`;
}

/** `--expected-version`: a keyword or a non-negative integer. */
function expectedVersion(value: string): string | number {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  throw invalidArgument(
    `--expected-version must be any, no_stream, stream_exists or a non-negative integer, got ${JSON.stringify(value.slice(0, 40))}`,
    { flag: '--expected-version' },
  );
}

/** The body of `POST /api/events` for the append flags. */
export function appendBody(flags: ParsedFlags): unknown {
  const type = stringFlag(flags, 'type');
  if (type === undefined)
    throw invalidArgument('foundation events append: --type is required', { flag: '--type' });
  const event: Record<string, unknown> = { type };
  const stream = stringFlag(flags, 'stream');
  if (stream !== undefined) event.stream = stream;
  const id = stringFlag(flags, 'id');
  if (id !== undefined) event.id = id;
  const correlationId = stringFlag(flags, 'correlation-id');
  if (correlationId !== undefined) event.correlationId = correlationId;
  if (typeof flags.data === 'string') event.data = jsonFlag(flags.data, '--data', 'any');
  if (typeof flags.metadata === 'string') event.metadata = jsonFlag(flags.metadata, '--metadata', 'object');
  const expected = stringFlag(flags, 'expected-version');
  return expected === undefined ? event : { events: [event], expectedVersion: expectedVersion(expected) };
}

async function runQuery(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags('events query', args, QUERY_FLAGS);
  const { url, timeoutMs, json } = common(flags, io);
  const path = queryPath(flags);
  const { status, body } = await requestJson(url, path, { timeoutMs });
  if (status !== 200 || !isEventPage(body)) throw problemError(`GET ${url.origin}/api/events`, status, body);
  if (json) {
    for (const event of body.events) io.out(JSON.stringify(event));
  } else {
    for (const line of formatEvents(body.events)) io.out(line);
  }
  if (body.nextCursor !== null) io.err(`more events match: --cursor ${body.nextCursor}`);
  return EXIT.ok;
}

async function runAppend(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags('events append', args, APPEND_FLAGS);
  const { url, timeoutMs, json } = common(flags, io);
  const token = pick(flags, 'token', io.env, 'FOUNDATION_TOKEN');
  const body = appendBody(flags);
  const response = await requestJson(url, '/api/events', {
    method: 'POST',
    body,
    timeoutMs,
    token: token === undefined ? undefined : parseNonEmpty(token.value, token.source),
  });
  const result = response.body as { events?: unknown; idempotent?: unknown };
  if ((response.status !== 201 && response.status !== 200) || !Array.isArray(result.events)) {
    throw problemError(`POST ${url.origin}/api/events`, response.status, response.body);
  }
  if (json) {
    io.out(JSON.stringify(response.body));
    return EXIT.ok;
  }
  const [event] = formatEvents(result.events as Parameters<typeof formatEvents>[0]).slice(1);
  io.out(`${result.idempotent === true ? 'already stored' : 'appended'}: ${event ?? ''}`.trimEnd());
  return EXIT.ok;
}

/** The `events` command. */
export const eventsCommand: Command = {
  name: 'events',
  summary: 'Query, append or tail events of a running foundation',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'query') return runQuery(rest, io);
    if (sub === 'append') return runAppend(rest, io);
    if (sub === 'tail') return runTail(rest, io);
    throw invalidArgument(
      sub === undefined
        ? 'foundation events needs a subcommand: query, append or tail'
        : `Unknown subcommand ${JSON.stringify(sub.slice(0, 40))} of foundation events; expected query, append or tail`,
      { command: 'events' },
    );
  },
};
