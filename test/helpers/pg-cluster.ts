/**
 * A throw-away PostgreSQL cluster for tests that must stop and start a real server (outages), without
 * disturbing the shared server the other tests use: `initdb` into a temp directory, `pg_ctl start/stop` on a
 * free port with the socket in that directory, trust authentication. When the tests run as root (CI
 * containers), every PostgreSQL command runs as the `postgres` user (`runuser`), which owns the directory.
 *
 * The binaries come from `FOUNDATION_TEST_PG_BIN` or `/usr/lib/postgresql/15/bin`. Without them the suite
 * is skipped visibly on a developer's machine and fails in CI (`CI=true`).
 *
 * @module
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Where the PostgreSQL binaries are. */
export function pgBinDir(): string {
  const fromEnv = process.env.FOUNDATION_TEST_PG_BIN;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : '/usr/lib/postgresql/15/bin';
}

/** The `postgres` user's uid and gid when we run as root (initdb refuses root), else `undefined`. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

interface Support {
  readonly ok: boolean;
  readonly reason: string;
}

function support(): Support {
  const initdb = join(pgBinDir(), 'initdb');
  if (!existsSync(initdb)) return { ok: false, reason: `${initdb} not found (set FOUNDATION_TEST_PG_BIN)` };
  if (process.getuid?.() === 0) {
    try {
      postgresUser();
    } catch (error) {
      return { ok: false, reason: `running as root needs a postgres user: ${String(error)}` };
    }
  }
  return { ok: true, reason: '' };
}

/**
 * `describe` for suites that start their own PostgreSQL cluster. Without the binaries: in CI a failure
 * ("initdb is required in CI"), elsewhere a visible skip.
 */
export function describePgCluster(name: string, fn: () => void): void {
  const available = support();
  if (available.ok) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('initdb is required in CI', () => {
        throw new Error(`A throw-away PostgreSQL cluster is required in CI: ${available.reason}`);
      });
    });
    return;
  }
  console.warn(`[describePgCluster] skipping "${name}": ${available.reason}`);
  describe.skipIf(true)(name, fn);
}

/** A throw-away cluster. */
export interface PgCluster {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** The temp directory (data in `data/`, socket, log). */
  readonly dir: string;
  /** Starts the server and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (`fast`: clients are disconnected, as in an administrator's shutdown; `immediate`: a crash). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server if it runs and removes the directory. Safe to call more than once, even after failures. */
  destroy(): Promise<void>;
}

/**
 * Creates a cluster in a new temp directory (`initdb`, trust auth, small settings); it is not started.
 *
 * @example
 * ```ts
 * const cluster = await createPgCluster();
 * try {
 *   await cluster.start();
 *   // … new Storage(`${cluster.url}?schema=x`) …
 *   await cluster.stop();
 * } finally {
 *   await cluster.destroy();
 * }
 * ```
 */
export async function createPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'fnd-pgcluster-'));
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const exec = async (command: string, args: readonly string[]): Promise<void> => {
    const file = join(bin, command);
    if (user === undefined) await run(file, [...args], { timeout: 60_000 });
    else await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 60_000 });
  };
  let running = false;
  let destroyed = false;
  try {
    await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=30',
    '-c shared_buffers=16MB',
    '-c fsync=off',
  ].join(' ');
  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async start(): Promise<void> {
      await exec('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy(): Promise<void> {
      if (destroyed) return;
      destroyed = true;
      try {
        if (running || existsSync(join(data, 'postmaster.pid'))) {
          await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
        }
      } catch {
        // Already stopped: nothing to do but remove the directory.
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}
