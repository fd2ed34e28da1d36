/**
 * `foundation projections`, `foundation subscriptions` and `foundation retention`: operate the event
 * capability of a running foundation through its control bus (`/api/projections`, `/api/subscriptions`,
 * `/api/retention`). Same conventions as `foundation events`: `--url` / `FOUNDATION_URL`, `--token` /
 * `FOUNDATION_TOKEN` for the mutating subcommands, `--json`, `--timeout`.
 *
 * @module
 */
import { invalidArgument, parseFlags } from '../arguments.js';
import { type CliIo, type ExitCode } from '../cli-io.js';
import { callControlBus, connection, printAnswer, READ_FLAGS, WRITE_FLAGS } from '../control-bus-command.js';
import type { Command } from '../command.js';
import { DEFAULT_URL } from '../control-bus-client.js';
import {
  formatProjection,
  formatProjections,
  formatRetention,
  formatRetentionReport,
  formatSubscriptions,
  progressText,
} from '../ops-format.js';

const COMMON_HELP = [
  'Common options:',
  `  --url URL             control bus URL (FOUNDATION_URL; default ${DEFAULT_URL})`,
  '  --token T             bearer token of mutating subcommands (FOUNDATION_TOKEN; prefer the variable)',
  '  --json                print the JSON answer of the control bus',
  '  --timeout DURATION    give up after this long (default 10s; retention run: default 10m)',
  '',
  'Exit codes: 0 done, 1 refused by the server or unreachable (the error code on stderr), 2 bad arguments.',
];

/** Splits `[name, ...flags]`: a leading argument that is not a flag is the name. */
function nameAndFlags(
  command: string,
  args: readonly string[],
): { name: string | undefined; rest: readonly string[] } {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith('-')) return { name: undefined, rest: args };
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(first)) {
    throw invalidArgument(
      `foundation ${command}: a projection name is 1–100 characters [A-Za-z0-9_.:-], got ${JSON.stringify(first.slice(0, 40))}`,
      { command },
    );
  }
  return { name: first, rest };
}

function needName(command: string, name: string | undefined): string {
  if (name === undefined) {
    throw invalidArgument(`foundation ${command} needs a projection name`, { command });
  }
  return name;
}

const PROJECTIONS_HELP = [
  'Usage: foundation projections [list] [--json] [--url U]',
  '       foundation projections status <name> [--json] [--url U]',
  '       foundation projections rebuild <name> [--json] [--url U] [--token T]',
  '       foundation projections restart <name> [--json] [--url U] [--token T]',
  '',
  'list     the projections of the node: mode, state, position, rebuild progress, error (GET /api/projections)',
  'status   one projection (GET /api/projections/<name>)',
  'rebuild  rebuilds a projection from position 0 (POST /api/projections/<name>/rebuild): an async one in',
  '         the background (prints the target; follow the progress with "status"), an inline one at once',
  'restart  restarts a failed or stopped projection from its last committed batch',
  '',
  ...COMMON_HELP,
].join('\n');

async function runProjections(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const [first, ...after] = args;
  const sub = first === undefined || first.startsWith('-') ? 'list' : first;
  const rest = first === undefined || first.startsWith('-') ? args : after;
  if (sub === 'list') {
    const conn = connection(parseFlags('projections list', rest, READ_FLAGS), io);
    const body = await callControlBus(conn, 'GET', '/api/projections', { expected: [200] });
    return printAnswer(io, conn, body, () => formatProjections(body));
  }
  if (sub === 'status' || sub === 'rebuild' || sub === 'restart') {
    const command = `projections ${sub}`;
    const { name, rest: flagArgs } = nameAndFlags(command, rest);
    const projection = needName(command, name);
    const path = `/api/projections/${encodeURIComponent(projection)}`;
    if (sub === 'status') {
      const conn = connection(parseFlags(command, flagArgs, READ_FLAGS), io);
      const body = await callControlBus(conn, 'GET', path, { expected: [200] });
      return printAnswer(io, conn, body, () => formatProjection(body));
    }
    const conn = connection(parseFlags(command, flagArgs, WRITE_FLAGS), io);
    const body = await callControlBus(conn, 'POST', `${path}/${sub}`, {
      expected: sub === 'rebuild' ? [200, 202] : [200],
    });
    const status = (typeof body === 'object' && body !== null ? body : {}) as {
      rebuild?: unknown;
      state?: unknown;
    };
    return printAnswer(io, conn, body, () =>
      sub === 'rebuild'
        ? [
            status.state === 'rebuilding'
              ? `rebuilding ${projection}: ${progressText(status.rebuild)}`
              : `rebuilt ${projection}: ${typeof status.state === 'string' ? status.state : '-'}`,
          ]
        : [`restarted ${projection}: ${typeof status.state === 'string' ? status.state : '-'}`],
    );
  }
  throw invalidArgument(
    `Unknown subcommand ${JSON.stringify(sub.slice(0, 40))} of foundation projections; expected list, status, rebuild or restart`,
    { command: 'projections' },
  );
}

/** The `projections` command. */
export const projectionsCommand: Command = {
  name: 'projections',
  summary: 'List, inspect, rebuild or restart projections of a running foundation',
  help: PROJECTIONS_HELP,
  run: runProjections,
};

/** The `subscriptions` command. */
export const subscriptionsCommand: Command = {
  name: 'subscriptions',
  summary: 'Show the live and durable event subscriptions of a running foundation, with lag',
  help: [
    'Usage: foundation subscriptions [--json] [--url U]',
    '',
    'Prints the live subscriptions of the event store (state, position, lag, buffered, delivered) and the',
    'durable subscriptions (member, state, partitions held, lag, handled) (GET /api/subscriptions).',
    '',
    ...COMMON_HELP,
  ].join('\n'),
  async run(args, io) {
    const conn = connection(parseFlags('subscriptions', args, READ_FLAGS), io);
    const body = await callControlBus(conn, 'GET', '/api/subscriptions', { expected: [200] });
    return printAnswer(io, conn, body, () => formatSubscriptions(body));
  },
};

/** The `retention` command. */
export const retentionCommand: Command = {
  name: 'retention',
  summary: 'Show the retention policies and last run, or run retention now, on a running foundation',
  help: [
    'Usage: foundation retention [status] [--json] [--url U]',
    '       foundation retention run [--json] [--url U] [--token T] [--timeout D]',
    '',
    'status  policies, whether a run is in flight, the last report and error (GET /api/retention)',
    'run     runs the policies now and prints what was deleted (POST /api/retention/run); on a node',
    '        without retention policies it fails with FND_CONFIG_NOT_FOUND',
    '',
    ...COMMON_HELP,
  ].join('\n'),
  async run(args, io) {
    const [first, ...after] = args;
    const sub = first === undefined || first.startsWith('-') ? 'status' : first;
    const rest = first === undefined || first.startsWith('-') ? args : after;
    if (sub === 'status') {
      const conn = connection(parseFlags('retention status', rest, READ_FLAGS), io);
      const body = await callControlBus(conn, 'GET', '/api/retention', { expected: [200] });
      return printAnswer(io, conn, body, () => formatRetention(body));
    }
    if (sub === 'run') {
      const conn = connection(parseFlags('retention run', rest, WRITE_FLAGS), io, 600_000);
      const body = await callControlBus(conn, 'POST', '/api/retention/run', { expected: [200] });
      const { report } = (typeof body === 'object' && body !== null ? body : {}) as { report?: unknown };
      return printAnswer(io, conn, body, () => formatRetentionReport(report));
    }
    throw invalidArgument(
      `Unknown subcommand ${JSON.stringify(sub.slice(0, 40))} of foundation retention; expected status or run`,
      { command: 'retention' },
    );
  },
};
