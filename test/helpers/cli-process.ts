/**
 * Test helpers: run the built `foundation` CLI (`dist/cli/main.js`) as a real child process.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the built CLI entry point (`npm test` builds first). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Environment for child processes: no inherited FOUNDATION_* settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('FOUNDATION_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Output and exit status of a finished CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `foundation <args>` to completion. */
export function runCliProcess(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: cleanEnv(env), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A running `foundation start` process. */
export interface StartedCli extends AsyncDisposable {
  readonly child: ChildProcess;
  /** The URL from the `listening on` line. */
  readonly url: string;
  readonly port: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const LISTENING = /^foundation (\S+) listening on (http:\/\/\S+)$/m;

/**
 * Spawns `foundation start <args>` and resolves once it prints its listening line; rejects with the
 * process's output if it exits first. Dispose kills it if it still runs.
 */
export function startCliProcess(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<StartedCli> {
  const child = spawn(process.execPath, [CLI_PATH, 'start', ...args], { env: cleanEnv(env), stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match?.[2] === undefined || settled) return;
      settled = true;
      const url = match[2];
      resolve({
        child,
        url,
        port: Number(new URL(url).port),
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        async [Symbol.asyncDispose]() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    void exited.then(({ code, signal }) => {
      if (!settled) {
        settled = true;
        reject(
          new Error(
            `foundation start exited (code ${code}, signal ${signal}) before listening:\n${stdout}${stderr}`,
          ),
        );
      }
    });
  });
}

/** A temporary directory removed on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** Creates a fresh temporary directory. */
export async function tempDir(prefix = 'foundation-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}
