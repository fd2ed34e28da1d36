/**
 * The `foundation` command line: dispatches to a subcommand and maps every outcome to an exit code and
 * one line on stderr (never a stack trace).
 *
 * @module
 */
import { isFoundationError } from '../errors/index.js';
import { invalidArgument } from './arguments.js';
import { describeError, EXIT, type CliIo, type ExitCode } from './cli-io.js';
import type { Command } from './command.js';
import { configCommand } from './commands/config.js';
import { eventsCommand } from './commands/events.js';
import { healthCommand } from './commands/health.js';
import { projectionsCommand, retentionCommand, subscriptionsCommand } from './commands/ops.js';
import { protectionCommand } from './commands/protection.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { versionCommand } from './commands/version.js';

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  statusCommand,
  healthCommand,
  eventsCommand,
  projectionsCommand,
  subscriptionsCommand,
  retentionCommand,
  configCommand,
  protectionCommand,
  versionCommand,
];

/** The top-level help text. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: foundation <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "foundation <command> --help" for the options of a command.',
  ].join('\n');
}

function fail(io: CliIo, error: unknown): ExitCode {
  io.err(`foundation: ${describeError(error)}`);
  return isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT') ? EXIT.usage : EXIT.failure;
}

/** Runs the command line `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(usage());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = rest[0];
    const command = COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) {
      return fail(io, invalidArgument(`Unknown command ${JSON.stringify(topic)}; run "foundation --help"`));
    }
    io.out(command === undefined ? usage() : command.help);
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') return versionCommand.run([], io);
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    const hint = first.startsWith('-') ? 'options go after the command' : 'run "foundation --help"';
    return fail(io, invalidArgument(`Unknown command ${JSON.stringify(first.slice(0, 40))}; ${hint}`));
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return fail(io, error);
  }
}
