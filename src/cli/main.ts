#!/usr/bin/env node
/**
 * Entry point of the `foundation` command (package.json `bin`). See `run-cli.ts`.
 *
 * @module
 */
import { describeError, EXIT, processIo } from './cli-io.js';
import { runCli } from './run-cli.js';

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => {
      resolve();
    });
  });
}

// If the event loop empties before the command finishes (a stop that never completes), that is a failure.
process.exitCode = EXIT.failure;
let code: number;
try {
  code = await runCli(process.argv.slice(2), processIo());
} catch (error) {
  process.stderr.write(`foundation: ${describeError(error)}\n`);
  code = EXIT.failure;
}
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
