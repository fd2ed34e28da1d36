/**
 * The shape of a `foundation` subcommand.
 *
 * @module
 */
import type { CliIo, ExitCode } from './cli-io.js';

/** One subcommand: its name, one-line summary, help text and entry point. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text, printed by `foundation <name> --help`. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<ExitCode>;
}
