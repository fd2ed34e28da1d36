/**
 * Fuzz: the `foundation` command line. Random argv — command and subcommand names, known flags with random
 * values, `--flag=value` forms, arbitrary strings — goes to `runCli` in this process (many cases) and to the
 * built CLI as a real process (fewer: one spawn each). A wrong command line exits 2 with one line on stderr
 * naming `FND_CLI_INVALID_ARGUMENT`; no command line ever produces a stack trace or throws out of `runCli`.
 * Commands that would reach a control bus point at a closed port, so they end at once (exit 1).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runCli } from '../../src/cli/run-cli.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { occupyPort, type OccupiedPort } from '../helpers/ports.js';
import { fuzz, fuzzRuns, STACK_TRACE } from './fuzz.js';

const COMMANDS = [
  'start',
  'status',
  'health',
  'events',
  'projections',
  'subscriptions',
  'retention',
  'config',
  'protection',
  'version',
] as const;

/** Subcommands; `tail` is left out of the free-form property (a valid tail reconnects for 10 s). */
const SUBCOMMANDS = [
  'query',
  'append',
  'list',
  'get',
  'set',
  'explain',
  'history',
  'diff',
  'rollback',
  'rebuild',
  'restart',
  'run',
  'isolate',
  'reset',
  'breaker',
  'bulkhead',
  'adaptive',
] as const;

/** Flags of the commands, `--url` and `--help` / `-h` left out (see the properties). */
const FLAGS = [
  'actor',
  'config',
  'correlation-id',
  'cursor',
  'data',
  'data-dir',
  'env-prefix',
  'expected-version',
  'from',
  'host',
  'id',
  'idle-timeout',
  'json',
  'limit',
  'metadata',
  'name',
  'order',
  'port',
  'projections',
  'reason',
  'retention-interval',
  'retention-policies',
  'retry-for',
  'schema',
  'shutdown-timeout',
  'store',
  'stream',
  'timeout',
  'to',
  'token',
  'type',
  'types',
  'where',
] as const;

/** A value no process argument can hold (NUL) is left out. */
const text = fc.string({ maxLength: 30 }).filter((s) => !s.includes('\0'));

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SUBCOMMANDS) },
  { weight: 4, arbitrary: fc.constantFrom(...FLAGS).map((f) => `--${f}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), text).map(([f, v]) => `--${f}=${v}`) },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('-', '--', '-x', '---', '-1', '1e9', '{}', 'a.b.c', '*', '%') },
);

/** Tokens that end a command line early (help) or pick the bus to talk to: kept out of random argv. */
function harmless(t: string): boolean {
  return !/^(-h|--help|help)$/.test(t) && !t.startsWith('--url') && t !== 'tail';
}

/** Any command line except one that starts a foundation. */
const anyArgv = fc
  .tuple(
    fc.oneof(fc.constantFrom(...COMMANDS.filter((c) => c !== 'start')), text),
    fc.array(token, { maxLength: 6 }),
  )
  .map(([first, rest]) => [first, ...rest])
  .filter((argv) => argv.every(harmless) && argv[0] !== 'start');

/** A command line that cannot be right: it ends with a flag no command has. */
const wrongArgv = fc
  .tuple(
    fc.oneof(fc.constantFrom(...COMMANDS), fc.constantFrom(...SUBCOMMANDS), text),
    fc.array(token, { maxLength: 5 }),
    fc.stringMatching(/^[a-z]{1,10}$/),
  )
  .map(([first, rest, name]) => [first, ...rest, `--no-such-flag-${name}`])
  .filter((argv) => argv.every(harmless));

/** One process per case: a fortieth of FUZZ_RUNS (at least 3; 50 under `npm run fuzz`). */
const PROCESS_CASES = { scale: 0.025, min: 3 } as const;
/** A spawn takes up to a few seconds on a busy machine: the test's time limit grows with its cases. */
const PROCESS_TIMEOUT_MS = 30_000 + 5_000 * fuzzRuns(PROCESS_CASES.scale, PROCESS_CASES.min);

interface Captured {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

async function run(argv: readonly string[], env: Record<string, string>): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), env };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe('fuzz: cli', () => {
  let closed: OccupiedPort;
  let env: Record<string, string>;

  beforeAll(async () => {
    // A port that refuses nothing useful: a listener that drops every connection at once.
    closed = await occupyPort();
    env = { FOUNDATION_URL: `http://127.0.0.1:${String(closed.port)}` };
  });
  afterAll(async () => {
    await closed.release();
  });

  it('fuzz: cli — any command line ends with exit 0, 1 or 2, one-line errors and no stack trace', async (context) => {
    const codes = new Map<number, number>();
    await fuzz(
      context,
      fc.asyncProperty(anyArgv, async (argv) => {
        const { code, err } = await run(argv, env);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        const where = JSON.stringify(argv);
        expect([0, 1, 2], where).toContain(code);
        const stderr = err.join('\n');
        expect(stderr, where).not.toMatch(STACK_TRACE);
        if (code === 2 && !stderr.startsWith('Usage:')) {
          expect(err, where).toHaveLength(1);
          expect(stderr, where).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: \S/);
        }
        if (code === 1) expect(stderr, where).toMatch(/^foundation: FND_[A-Z_]+: \S/);
      }),
    );
    expect(codes.get(2) ?? 0).toBeGreaterThan(0);
  });

  it('fuzz: cli — a command line with an unknown flag exits 2 naming FND_CLI_INVALID_ARGUMENT', async (context) => {
    await fuzz(
      context,
      fc.asyncProperty(wrongArgv, async (argv) => {
        const { code, out, err } = await run(argv, env);
        const where = JSON.stringify(argv);
        expect(code, where).toBe(2);
        expect(out, where).toEqual([]);
        expect(err, where).toHaveLength(1);
        expect(err[0], where).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: \S/);
        expect(err[0], where).not.toMatch(STACK_TRACE);
      }),
    );
  });

  it(
    'fuzz: cli — the real process exits 2 with one clear line for a wrong command line',
    async (context) => {
      await fuzz(
        context,
        fc.asyncProperty(wrongArgv, async (argv) => {
          const result = await runCliProcess(argv, env);
          const where = JSON.stringify(argv);
          expect(result.signal, where).toBeNull();
          expect(result.code, where).toBe(2);
          expect(result.stdout, where).toBe('');
          expect(result.stderr, where).toMatch(/^foundation: FND_CLI_INVALID_ARGUMENT: [^\n]+\n$/);
          expect(result.stderr, where).not.toMatch(STACK_TRACE);
        }),
        PROCESS_CASES,
      );
    },
    PROCESS_TIMEOUT_MS,
  );
});
