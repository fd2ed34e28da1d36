/**
 * `foundation protection limits|pools|reset-limit`: the rate limiters of a running foundation with their keys
 * (`GET /api/protection/limits?keys=N`), its pools (`GET /api/protection/pools`), and forgetting one key of a
 * limiter (`POST /api/protection/limits/reset`, bearer token). Every argument is checked before a request is
 * sent (`FND_CLI_INVALID_ARGUMENT`, exit 2).
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { invalidArgument, parseFlags, type ParsedFlags } from '../arguments.js';
import { type CliIo, type ExitCode } from '../cli-io.js';
import { callControlBus, connection, printAnswer, READ_FLAGS, WRITE_FLAGS } from '../control-bus-command.js';
import { MAX_LISTED_KEYS } from '../../protection/limits-listing.js';
import { POLICY_NAME_PATTERN } from '../../protection/policy-config.js';
import { MAX_RATE_LIMIT_KEY_LENGTH } from '../../protection/rate-limit/checks.js';
import { formatLimitReset, formatLimits, formatPools } from './protection-limits-format.js';

/** Keys listed per limiter by `foundation protection limits` without `--keys`. */
export const DEFAULT_LISTED_KEYS = 20;

/** The limiter and key a `reset-limit` names. */
export interface LimitResetTarget {
  readonly kind: 'rule' | 'policy';
  readonly name: string;
  readonly key: string;
}

/** `--keys N`: an integer from 0 to {@link MAX_LISTED_KEYS}; {@link DEFAULT_LISTED_KEYS} when absent. */
export function parseKeysFlag(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_LISTED_KEYS;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) > MAX_LISTED_KEYS) {
    throw invalidArgument(
      `foundation protection limits: --keys must be an integer from 0 to ${String(MAX_LISTED_KEYS)}, got ${JSON.stringify(String(value).slice(0, 40))}`,
      { flag: '--keys' },
    );
  }
  return Number(value);
}

const RESET_FLAGS = { ...WRITE_FLAGS, rule: { type: 'string' }, policy: { type: 'string' } } as const;

/** The flags and the positional arguments of `reset-limit` (a key may follow `--` when it starts with `-`). */
function resetArguments(args: readonly string[]): { flags: ParsedFlags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: RESET_FLAGS,
      strict: true,
      allowPositionals: true,
    });
    return { flags: values, positionals };
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw invalidArgument(
      `foundation protection reset-limit: ${message.replace(/\.$/, '')}. See "foundation protection --help"`,
      { command: 'protection reset-limit' },
    );
  }
}

/**
 * The limiter (`--rule NAME` or `--policy NAME`, exactly one) and the key (one positional: 1 to 512
 * characters, no NUL) of `reset-limit`, checked as the server checks them. Throws `FND_CLI_INVALID_ARGUMENT`.
 */
export function parseResetTarget(flags: ParsedFlags, positionals: readonly string[]): LimitResetTarget {
  const command = 'foundation protection reset-limit';
  const { rule, policy } = flags;
  if ((rule === undefined) === (policy === undefined)) {
    throw invalidArgument(`${command} needs exactly one of --rule NAME or --policy NAME`, {
      command: 'protection reset-limit',
    });
  }
  const kind = rule === undefined ? 'policy' : 'rule';
  const name = String(rule ?? policy);
  if (!POLICY_NAME_PATTERN.test(name)) {
    throw invalidArgument(
      `${command}: a ${kind} name is a lower-case letter, then up to 63 of a-z 0-9 _ . -; got ${JSON.stringify(name.slice(0, 40))}`,
      { flag: `--${kind}` },
    );
  }
  const [key, ...extra] = positionals;
  if (key === undefined || extra.length > 0) {
    throw invalidArgument(
      `${command} needs exactly one key after the options (put it after "--" when it starts with "-"); got ${String(positionals.length)}`,
      { command: 'protection reset-limit' },
    );
  }
  if (key.length === 0 || key.length > MAX_RATE_LIMIT_KEY_LENGTH || key.includes('\u0000')) {
    throw invalidArgument(
      `${command}: a key is 1 to ${String(MAX_RATE_LIMIT_KEY_LENGTH)} characters without NUL; got ${String(key.length)} characters`,
      { command: 'protection reset-limit' },
    );
  }
  return { kind, name, key };
}

/** `foundation protection limits [--keys N]`. */
export async function runLimits(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags('protection limits', args, { ...READ_FLAGS, keys: { type: 'string' } });
  const keys = parseKeysFlag(flags.keys);
  const conn = connection(flags, io);
  const body = await callControlBus(conn, 'GET', `/api/protection/limits?keys=${String(keys)}`);
  return printAnswer(io, conn, body, () => formatLimits(body, keys));
}

/** `foundation protection pools`. */
export async function runPools(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const conn = connection(parseFlags('protection pools', args, READ_FLAGS), io);
  const body = await callControlBus(conn, 'GET', '/api/protection/pools');
  return printAnswer(io, conn, body, () => formatPools(body));
}

/** `foundation protection reset-limit (--rule NAME | --policy NAME) <key>`. */
export async function runResetLimit(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { flags, positionals } = resetArguments(args);
  const { kind, name, key } = parseResetTarget(flags, positionals);
  const conn = connection(flags, io);
  const body = await callControlBus(conn, 'POST', '/api/protection/limits/reset', {
    body: { [kind]: name, key },
  });
  return printAnswer(io, conn, body, () => formatLimitReset(body));
}
