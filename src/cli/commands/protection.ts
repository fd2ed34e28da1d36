/**
 * `foundation protection list|isolate|reset|limits|pools|reset-limit`: shows the named protection policies of
 * a running foundation with their layers' live state (`GET /api/protection`), isolates or resets a policy's
 * circuit breaker (`POST /api/protection/<name>/isolate|reset`, bearer token), and shows its rate limiters
 * and pools or forgets a limiter's key (`protection-limits.ts`). Same conventions as the other control-bus
 * commands: `--url` / `FOUNDATION_URL`, `--token` / `FOUNDATION_TOKEN` for the subcommands that POST,
 * `--json`, `--timeout`.
 *
 * @module
 */
import { invalidArgument, parseFlags } from '../arguments.js';
import { type CliIo, type ExitCode } from '../cli-io.js';
import { callControlBus, connection, printAnswer, READ_FLAGS, WRITE_FLAGS } from '../control-bus-command.js';
import type { Command } from '../command.js';
import { DEFAULT_URL } from '../control-bus-client.js';
import { POLICY_NAME_PATTERN } from '../../protection/policy-config.js';
import { formatAction, formatPolicies } from './protection-format.js';
import { DEFAULT_LISTED_KEYS, runLimits, runPools, runResetLimit } from './protection-limits.js';

const HELP = [
  'Usage: foundation protection [list] [--json] [--url U]',
  '       foundation protection isolate <name> [--json] [--url U] [--token T]',
  '       foundation protection reset <name> [--json] [--url U] [--token T]',
  '       foundation protection limits [--keys N] [--json] [--url U]',
  '       foundation protection pools [--json] [--url U]',
  '       foundation protection reset-limit (--rule NAME | --policy NAME) <key> [--json] [--url U] [--token T]',
  '',
  'list         every named policy (foundation.protection.<name>) with its breaker state and the live state',
  '             of each layer, outermost first: breaker counts, bulkhead and adaptive occupancy, rate-limit',
  '             admitted / refused, pool use (GET /api/protection)',
  "isolate      holds the policy's circuit breaker open — every call refused with FND_PROTECT_CIRCUIT_OPEN —",
  '             until a reset (POST /api/protection/<name>/isolate)',
  "reset        closes the policy's circuit breaker and forgets its failures (POST /api/protection/<name>/reset)",
  "limits       every rate limiter — named rules (rule:NAME) and policies' own rules (policy:NAME) — with its",
  '             rule, store and users, then up to N keys of each: what remains, when the next unit is admitted,',
  '             when the full allowance is back (GET /api/protection/limits?keys=N)',
  "pools        every policy's pool: in use / size of max (+overflow), idle, waiting, creating, failures",
  '             (GET /api/protection/pools)',
  "reset-limit  forgets a key of a named rule's limiter (--rule) or of a policy's own one (--policy): its full",
  '             allowance is back (POST /api/protection/limits/reset); a key starting with "-" goes after "--"',
  '',
  'Options:',
  `  --url URL             control bus URL (FOUNDATION_URL; default ${DEFAULT_URL})`,
  '  --token T             bearer token of isolate, reset and reset-limit (FOUNDATION_TOKEN; prefer the variable)',
  `  --keys N              keys listed per limiter by limits (0 to 1000, default ${String(DEFAULT_LISTED_KEYS)})`,
  '  --json                print the JSON answer of the control bus',
  '  --timeout DURATION    give up after this long (default 10s)',
  '',
  'Exit codes: 0 done, 1 refused by the server or unreachable (the error code on stderr), 2 bad arguments.',
].join('\n');

/** A policy name from the command line, checked as the config checks it. */
export function parsePolicyName(value: string | undefined, command: string): string {
  if (value === undefined || value.startsWith('-')) {
    throw invalidArgument(
      `foundation ${command} needs a policy name before the options. See "foundation protection --help"`,
      { command },
    );
  }
  if (!POLICY_NAME_PATTERN.test(value)) {
    throw invalidArgument(
      `foundation ${command}: a policy name is a lower-case letter, then up to 63 of a-z 0-9 _ . -; got ${JSON.stringify(value.slice(0, 40))}`,
      { command },
    );
  }
  return value;
}

async function runList(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const conn = connection(parseFlags('protection list', args, READ_FLAGS), io);
  const body = await callControlBus(conn, 'GET', '/api/protection');
  return printAnswer(io, conn, body, () => formatPolicies(body));
}

async function runAction(action: 'isolate' | 'reset', args: readonly string[], io: CliIo): Promise<ExitCode> {
  const command = `protection ${action}`;
  const [first, ...rest] = args;
  const name = parsePolicyName(first, command);
  const conn = connection(parseFlags(command, rest, WRITE_FLAGS), io);
  const body = await callControlBus(conn, 'POST', `/api/protection/${encodeURIComponent(name)}/${action}`);
  return printAnswer(io, conn, body, () => formatAction(body));
}

/** The `protection` command. */
export const protectionCommand: Command = {
  name: 'protection',
  summary:
    'Show the protection policies, rate limiters and pools of a running foundation; isolate or reset a breaker; reset a limit key',
  help: HELP,
  run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub.startsWith('-')) return runList(args, io);
    switch (sub) {
      case 'list':
        return runList(rest, io);
      case 'isolate':
      case 'reset':
        return runAction(sub, rest, io);
      case 'limits':
        return runLimits(rest, io);
      case 'pools':
        return runPools(rest, io);
      case 'reset-limit':
        return runResetLimit(rest, io);
      default:
        return Promise.reject(
          invalidArgument(
            `Unknown subcommand ${JSON.stringify(sub.slice(0, 40))} of foundation protection; expected list, isolate, reset, limits, pools or reset-limit`,
            { command: 'protection' },
          ),
        );
    }
  },
};
