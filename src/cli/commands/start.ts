/**
 * `foundation start`: runs a foundation with its control bus until SIGTERM / SIGINT, then stops it
 * gracefully within `--shutdown-timeout` (exit 0), or exits 1 when it had to give up; a second signal
 * exits at once.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../app/foundation.js';
import { FoundationError } from '../../errors/index.js';
import { describeStore, parseStoreUrl } from '../../storage/index.js';
import { systemClock, type Clock, type TimerHandle } from '../../kernel/clock.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../server/index.js';
import {
  invalidArgument,
  parseDuration,
  parseFlags,
  parseHost,
  parseName,
  parseNonEmpty,
  parsePort,
  pick,
  type ParsedFlags,
} from '../arguments.js';
import { describeError, EXIT, type CliIo, type ExitCode } from '../cli-io.js';
import type { Command } from '../command.js';
import { hostname } from 'node:os';

/** Everything `foundation start` needs, resolved from flags and environment. */
export interface StartSettings {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Store URL (validated); default `sqlite:<dataDir>/foundation.db`. */
  readonly store: string;
  readonly name: string;
  readonly token: string | undefined;
  readonly shutdownTimeoutMs: number;
}

/** Where `start` listens for shutdown signals; tests may pass their own. */
export interface SignalSource {
  /** Calls `handler` on each `signal`; returns a function that stops listening. */
  on(signal: 'SIGTERM' | 'SIGINT', handler: () => void): () => void;
}

/** The process's signals. */
export const processSignals: SignalSource = {
  on(signal, handler) {
    process.on(signal, handler);
    return () => {
      process.off(signal, handler);
    };
  },
};

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  name: { type: 'string' },
  token: { type: 'string' },
  'shutdown-timeout': { type: 'string' },
} as const;

/** The machine's host name when it is a valid node name, else `foundation`. */
export function defaultNodeName(): string {
  const host = hostname().split('.')[0] ?? '';
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(host) ? host : 'foundation';
}

/** Resolves flags over environment over defaults, validating each (`FND_CLI_INVALID_ARGUMENT`). */
export function resolveStartSettings(
  flags: ParsedFlags,
  env: Readonly<Record<string, string | undefined>>,
): StartSettings {
  const host = pick(flags, 'host', env, 'FOUNDATION_HOST');
  const port = pick(flags, 'port', env, 'FOUNDATION_PORT');
  const dataDir = pick(flags, 'data-dir', env, 'FOUNDATION_DATA_DIR');
  const name = pick(flags, 'name', env, 'FOUNDATION_NAME');
  const token = pick(flags, 'token', env, 'FOUNDATION_TOKEN');
  const timeout = pick(flags, 'shutdown-timeout', env, 'FOUNDATION_SHUTDOWN_TIMEOUT');
  const store = pick(flags, 'store', env, 'FOUNDATION_STORE');
  const resolvedDataDir = resolve(
    dataDir === undefined ? '.foundation' : parseNonEmpty(dataDir.value, dataDir.source),
  );
  return {
    host: host === undefined ? '127.0.0.1' : parseHost(host.value, host.source),
    port: port === undefined ? 4000 : parsePort(port.value, port.source),
    dataDir: resolvedDataDir,
    store:
      store === undefined
        ? `sqlite:${join(resolvedDataDir, 'foundation.db')}`
        : parseStore(store.value, store.source),
    name: name === undefined ? defaultNodeName() : parseName(name.value, name.source),
    token: token === undefined ? undefined : parseNonEmpty(token.value, token.source),
    shutdownTimeoutMs: timeout === undefined ? 10_000 : parseDuration(timeout.value, timeout.source),
  };
}

/** A store URL from a flag or variable; a bad one is a command-line error naming the source. */
function parseStore(value: string, source: string): string {
  try {
    parseStoreUrl(value);
  } catch (error) {
    throw invalidArgument(`${source}: ${error instanceof Error ? error.message : String(error)}`, { source });
  }
  return value;
}

/** A shutdown watch: resolves the exit code once the foundation is stopped; `cancel` stops watching. */
export interface ShutdownWatch {
  readonly exitCode: Promise<ExitCode>;
  cancel(): void;
}

/**
 * Watches for a shutdown signal (or an escalated failure) and then stops `foundation`. `exitCode` resolves
 * to 0 after a clean stop, 1 when stopping failed, timed out, was cut short by a second signal, or the
 * supervisor escalated. Install it before starting, so a signal is never missed. The stop time limit runs on
 * `clock` (unref'ed with the system clock).
 */
export function watchShutdown(
  foundation: Foundation,
  settings: Pick<StartSettings, 'shutdownTimeoutMs'>,
  io: CliIo,
  signals: SignalSource = processSignals,
  clock: Clock = systemClock,
): ShutdownWatch {
  let stopping = false;
  let timer: TimerHandle | undefined;
  const removers: Array<() => void> = [];
  let done: (code: ExitCode) => void = () => undefined;
  const exitCode = new Promise<ExitCode>((resolve) => {
    done = resolve;
  });
  const cancel = (): void => {
    timer?.cancel();
    for (const remove of removers.splice(0)) remove();
  };
  const finish = (code: ExitCode): void => {
    cancel();
    done(code);
  };
  const stop = (reason: string, cleanCode: ExitCode): void => {
    stopping = true;
    io.out(`foundation ${foundation.name} ${reason}; stopping (timeout ${settings.shutdownTimeoutMs} ms)`);
    timer = clock.setTimeout(() => {
      const error = new FoundationError('FND_LIFECYCLE_STOP_TIMEOUT', {
        message: `Foundation ${foundation.name} did not stop within ${settings.shutdownTimeoutMs} ms; exiting`,
      });
      io.err(`foundation: ${describeError(error)}`);
      finish(EXIT.failure);
    }, settings.shutdownTimeoutMs);
    foundation.stop().then(
      () => {
        io.out(`foundation ${foundation.name} stopped`);
        finish(cleanCode);
      },
      (error: unknown) => {
        io.err(`foundation: ${describeError(error)}`);
        finish(EXIT.failure);
      },
    );
  };
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (stopping) {
      io.err(`foundation: second ${signal}; exiting at once`);
      finish(EXIT.failure);
      return;
    }
    stop(`received ${signal}`, EXIT.ok);
  };
  removers.push(
    signals.on('SIGTERM', () => {
      onSignal('SIGTERM');
    }),
    signals.on('SIGINT', () => {
      onSignal('SIGINT');
    }),
    foundation.supervisor.on('escalated', ({ error }) => {
      io.err(`foundation: ${describeError(error)}`);
      if (!stopping) stop('escalated a failure', EXIT.failure);
    }),
  );
  return { exitCode, cancel };
}

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'Run a foundation node with its control bus and dashboard',
  help: [
    'Usage: foundation start [--host H] [--port P] [--data-dir D] [--store URL] [--name N] [--token T]',
    '                        [--shutdown-timeout T]',
    '',
    'Starts a foundation and its control bus, prints "foundation <name> listening on <url>", and runs until',
    'SIGTERM or SIGINT. A second signal exits at once.',
    '',
    'Options (flags win over environment variables):',
    '  --host H              interface to listen on (FOUNDATION_HOST; default 127.0.0.1)',
    '  --port P              TCP port, 0 for any free port (FOUNDATION_PORT; default 4000)',
    '  --data-dir D          local state directory, created if missing (FOUNDATION_DATA_DIR; default ./.foundation)',
    '  --store URL           memory:, sqlite:<path> or postgres://… (FOUNDATION_STORE;',
    '                        default sqlite:<data-dir>/foundation.db)',
    '  --name N              node name shown on the dashboard (FOUNDATION_NAME; default foundation)',
    '  --token T             bearer token for mutating requests (FOUNDATION_TOKEN; prefer the variable)',
    '  --shutdown-timeout T  graceful stop limit, e.g. 10s or 500ms (FOUNDATION_SHUTDOWN_TIMEOUT; default 10s)',
    '',
    'Exit codes: 0 stopped cleanly, 1 failed to start or had to force the stop, 2 bad arguments.',
  ].join('\n'),
  async run(args, io) {
    const settings = resolveStartSettings(parseFlags('start', args, FLAGS), io.env);
    try {
      await mkdir(settings.dataDir, { recursive: true });
    } catch (error) {
      throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
        message: `Cannot create the data directory ${settings.dataDir}`,
        context: { dataDir: settings.dataDir },
        cause: error,
      });
    }
    const foundation = createFoundation({
      name: settings.name,
      dataDir: settings.dataDir,
      store: settings.store,
    });
    foundation.add(
      controlBusService(foundation, {
        host: settings.host,
        port: settings.port,
        ...(settings.token === undefined ? {} : { token: settings.token }),
      }),
    );
    const shutdown = watchShutdown(foundation, settings, io);
    try {
      await foundation.start();
    } catch (error) {
      shutdown.cancel();
      throw error;
    }
    const bus = foundation.registry.lookup<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
    if (bus !== undefined) {
      io.out(`foundation ${settings.name} listening on ${bus.url}`);
      io.out(`foundation ${settings.name} store ${describeStore(parseStoreUrl(settings.store))}`);
    }
    return shutdown.exitCode;
  },
};
