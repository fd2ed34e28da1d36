/**
 * What a CLI command may touch: output streams, environment, and the exit codes it returns.
 *
 * @module
 */
import { isFoundationError } from '../errors/index.js';

/** Exit codes of the `foundation` command. */
export const EXIT = {
  /** Success (or: the foundation is ready). */
  ok: 0,
  /** The operation failed (start failed, not ready, unreachable, forced shutdown). */
  failure: 1,
  /** The command line was wrong. */
  usage: 2,
} as const;

/** An exit code of the `foundation` command. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Streams and environment a command uses; tests pass fakes. */
export interface CliIo {
  /** Writes one line (a newline is appended) to standard output. */
  out(line: string): void;
  /** Writes one line (a newline is appended) to standard error. */
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The real process streams and environment. */
export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
}

/**
 * One line describing `error` for a terminal: `<CODE>: <message>`, followed by `(caused by <CODE>: <message>)`
 * for each foundation error in its cause chain. Never a stack trace.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (isFoundationError(current)) {
      parts.push(`${current.code}: ${current.message}`);
    } else if (current instanceof Error) {
      parts.push(current.message);
    } else {
      parts.push(typeof current === 'string' ? current : `non-error value thrown (${typeof current})`);
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  const [first = 'FND_UNKNOWN: Unknown error', ...causes] = parts.map((p) => p.replace(/\s+/g, ' ').trim());
  return causes.length === 0 ? first : `${first} (caused by ${causes.join('; caused by ')})`;
}
