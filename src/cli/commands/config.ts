/**
 * `foundation config get|set|diff|history|rollback`: reads and changes the configuration of a running
 * foundation through its control bus (`/api/config`, `/api/config/explain`, `/api/config/history`,
 * `/api/config/rollback`). Same conventions as the other control-bus commands: `--url` / `FOUNDATION_URL`,
 * `--token` / `FOUNDATION_TOKEN` for the subcommands that POST, `--json`, `--timeout`.
 *
 * Values on the command line are JSON (`20`, `true`, `'{"a":1}'`, `'"text"'`); anything that is not JSON is
 * taken as a plain string (`hello`).
 *
 * @module
 */
import { invalidArgument, parseFlags, type ParsedFlags } from '../arguments.js';
import { EXIT, type CliIo, type ExitCode } from '../cli-io.js';
import {
  callControlBus,
  connection,
  printAnswer,
  READ_FLAGS,
  type Connection,
} from '../control-bus-command.js';
import type { Command } from '../command.js';
import { DEFAULT_URL } from '../control-bus-client.js';
import { stringFlag } from '../flag-values.js';
import { formatConfig, formatExplain, formatHistory, formatUpdateResult } from './config-format.js';

const CHANGE_FLAGS = {
  ...READ_FLAGS,
  token: { type: 'string' },
  'expected-version': { type: 'string' },
  reason: { type: 'string' },
  actor: { type: 'string' },
} as const;

const SET_FLAGS = { ...CHANGE_FLAGS, 'dry-run': { type: 'boolean' } } as const;

const HISTORY_FLAGS = { ...READ_FLAGS, limit: { type: 'string' }, before: { type: 'string' } } as const;

const HELP = [
  'Usage: foundation config get [path] [--json] [--url U]',
  '       foundation config set <path> <value> [--expected-version N] [--reason R] [--actor A] [--dry-run]',
  '                             [--json] [--url U] [--token T]',
  '       foundation config diff <path> <value> [--expected-version N] [--json] [--url U] [--token T]',
  '       foundation config history [--limit N] [--before N] [--json] [--url U]',
  '       foundation config rollback <version> [--expected-version N] [--reason R] [--actor A] [--dry-run]',
  '                                  [--json] [--url U] [--token T]',
  '',
  'get       without a path: the version, the mutable paths and the whole configuration, secrets redacted',
  '          (GET /api/config); with a path: its value, where it comes from and each layer',
  '          (GET /api/config/explain)',
  'set       changes one mutable value at run time (POST /api/config) and prints the new version and the diff',
  'diff      shows what "set" would change and whether the result is valid, without applying it (a dry run)',
  'history   versions newest first: time, kind, actor, changed paths, reason (GET /api/config/history)',
  "rollback  creates a new version whose configuration equals <version>'s (POST /api/config/rollback)",
  '',
  'Values are JSON (20, true, null, \'{"a":1}\', \'"20"\'); anything that is not JSON is a plain string. Give',
  'the path and the value before the options; quote a string value that starts with "--" as JSON.',
  '',
  'Options:',
  '  --expected-version N  refuse (FND_CONFIG_VERSION_CONFLICT) unless the current version is N',
  '  --reason R            why, stored with the version (at most 500 characters)',
  '  --actor A             who, stored with the version (default: control-bus)',
  '  --dry-run             validate and show the diff, apply nothing',
  '  --limit N             history: at most N versions, 1–1000 (default 50)',
  '  --before N            history: only versions older than N',
  `  --url URL             control bus URL (FOUNDATION_URL; default ${DEFAULT_URL})`,
  '  --token T             bearer token of set, diff and rollback (FOUNDATION_TOKEN; prefer the variable)',
  '  --json                print the JSON answer of the control bus',
  '  --timeout DURATION    give up after this long (default 10s)',
  '',
  'Exit codes: 0 done, 1 refused by the server or unreachable (the error code on stderr) or a dry run that',
  'is invalid (its issues on stdout), 2 bad arguments.',
].join('\n');

/** A value from the command line: JSON when it parses, else the text itself. */
export function parseConfigValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** A version number (positional or flag): a positive decimal integer. */
export function parseVersion(value: string, source: string): number {
  const parsed = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw invalidArgument(`${source} must be a positive integer, got ${JSON.stringify(value.slice(0, 40))}`, {
      source,
    });
  }
  return parsed;
}

/** The leading positional arguments named `names`, then the rest (the flags). */
function positionals(
  command: string,
  args: readonly string[],
  names: readonly string[],
): { values: string[]; rest: readonly string[] } {
  const values = args.slice(0, names.length);
  const missing = names.findIndex((_, i) => {
    const value = values[i];
    return value === undefined || value.startsWith('--');
  });
  if (missing !== -1) {
    throw invalidArgument(
      `foundation config ${command} needs ${names.map((n) => `<${n}>`).join(' ')} before the options` +
        ` (missing <${names[missing] ?? ''}>). See "foundation config --help"`,
      { command: `config ${command}` },
    );
  }
  return { values, rest: args.slice(names.length) };
}

function changeOptions(flags: ParsedFlags): Record<string, unknown> {
  const expected = stringFlag(flags, 'expected-version');
  const reason = stringFlag(flags, 'reason');
  const actor = stringFlag(flags, 'actor');
  return {
    ...(expected === undefined ? {} : { expectedVersion: parseVersion(expected, '--expected-version') }),
    ...(reason === undefined ? {} : { reason }),
    ...(actor === undefined ? {} : { actor }),
  };
}

/** Prints a change's result; a dry run that is invalid exits 1. */
function printChange(io: CliIo, conn: Connection, body: unknown): ExitCode {
  printAnswer(io, conn, body, () => formatUpdateResult(body));
  const { dryRun, valid } = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  return dryRun === true && valid === false ? EXIT.failure : EXIT.ok;
}

async function runGet(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const [first] = args;
  const path = first === undefined || first.startsWith('-') ? undefined : first;
  const flags = parseFlags('config get', path === undefined ? args : args.slice(1), READ_FLAGS);
  const conn = connection(flags, io);
  if (path === undefined) {
    const body = await callControlBus(conn, 'GET', '/api/config');
    printAnswer(io, conn, body, () => formatConfig(body));
  } else {
    const body = await callControlBus(
      conn,
      'GET',
      `/api/config/explain?${new URLSearchParams({ path }).toString()}`,
    );
    printAnswer(io, conn, body, () => formatExplain(body));
  }
  return EXIT.ok;
}

async function runSet(sub: 'set' | 'diff', args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, rest } = positionals(sub, args, ['path', 'value']);
  const [path = '', raw = ''] = values;
  const flags = parseFlags(`config ${sub}`, rest, sub === 'set' ? SET_FLAGS : CHANGE_FLAGS);
  const conn = connection(flags, io);
  const body = await callControlBus(conn, 'POST', '/api/config', {
    body: {
      changes: [{ path, value: parseConfigValue(raw) }],
      ...changeOptions(flags),
      ...(sub === 'diff' || flags['dry-run'] === true ? { dryRun: true } : {}),
    },
  });
  return printChange(io, conn, body);
}

async function runHistory(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags('config history', args, HISTORY_FLAGS);
  const conn = connection(flags, io);
  const params = new URLSearchParams();
  const limit = stringFlag(flags, 'limit');
  if (limit !== undefined) {
    const parsed = parseVersion(limit, '--limit');
    if (parsed > 1000) throw invalidArgument('--limit must be at most 1000', { source: '--limit' });
    params.set('limit', String(parsed));
  }
  const before = stringFlag(flags, 'before');
  if (before !== undefined) params.set('before', String(parseVersion(before, '--before')));
  const query = params.toString();
  const body = await callControlBus(conn, 'GET', `/api/config/history${query === '' ? '' : `?${query}`}`);
  printAnswer(io, conn, body, () => formatHistory(body));
  return EXIT.ok;
}

async function runRollback(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, rest } = positionals('rollback', args, ['version']);
  const version = parseVersion(values[0] ?? '', '<version>');
  const flags = parseFlags('config rollback', rest, SET_FLAGS);
  const conn = connection(flags, io);
  const body = await callControlBus(conn, 'POST', '/api/config/rollback', {
    body: {
      version,
      ...changeOptions(flags),
      ...(flags['dry-run'] === true ? { dryRun: true } : {}),
    },
  });
  return printChange(io, conn, body);
}

/** The `config` command. */
export const configCommand: Command = {
  name: 'config',
  summary: 'Show, change, diff or roll back the configuration of a running foundation, and its history',
  help: HELP,
  run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case undefined:
        return runGet([], io);
      case 'get':
        return runGet(rest, io);
      case 'set':
      case 'diff':
        return runSet(sub, rest, io);
      case 'history':
        return runHistory(rest, io);
      case 'rollback':
        return runRollback(rest, io);
      default:
        if (sub.startsWith('-')) return runGet(args, io);
        return Promise.reject(
          invalidArgument(
            `Unknown subcommand ${JSON.stringify(sub.slice(0, 40))} of foundation config; expected get, set, diff, history or rollback`,
            { command: 'config' },
          ),
        );
    }
  },
};
