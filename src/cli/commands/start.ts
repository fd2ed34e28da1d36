/**
 * `foundation start`: runs a foundation with its control bus until SIGTERM / SIGINT, then stops it
 * gracefully within `--shutdown-timeout` (exit 0), or exits 1 when it had to give up; a second signal
 * exits at once.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { settingsOf } from '../../app/config-service.js';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../app/foundation.js';
import { FoundationError, isFoundationError } from '../../errors/index.js';
import type { ProjectionDefinition } from '../../events/projections/types.js';
import { validateRetentionPolicies } from '../../events/retention/index.js';
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
import { jsonFlag } from '../flag-values.js';
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
  /** Retention policies (validated), run by the `retention` service; absent: no retention. */
  readonly retentionPolicies: unknown;
  /** Interval between retention runs, ms (default one hour). */
  readonly retentionIntervalMs: number | undefined;
  /** Absolute path of an ES module exporting `projections` (or a default export): an array of definitions. */
  readonly projectionsModule: string | undefined;
  /** Absolute path of the config file (JSON or YAML), watched for edits. */
  readonly configFile: string | undefined;
  /** Absolute path of an ES module exporting `schema` (a Standard Schema), and optionally `mutable`, `secrets`. */
  readonly schemaModule: string | undefined;
  /** Prefix of the environment variables read into the config (e.g. `APP_`); none by default. */
  readonly envPrefix: string | undefined;
  /**
   * The settings given by a flag or variable. The others come from the config (its file, its environment
   * variables), then from the defaults above.
   */
  readonly explicit: ReadonlySet<
    'host' | 'port' | 'dataDir' | 'store' | 'name' | 'token' | 'shutdownTimeoutMs'
  >;
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
  'retention-policies': { type: 'string' },
  'retention-interval': { type: 'string' },
  projections: { type: 'string' },
  config: { type: 'string' },
  schema: { type: 'string' },
  'env-prefix': { type: 'string' },
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
  const policies = pick(flags, 'retention-policies', env, 'FOUNDATION_RETENTION_POLICIES');
  const interval = pick(flags, 'retention-interval', env, 'FOUNDATION_RETENTION_INTERVAL');
  const projections = pick(flags, 'projections', env, 'FOUNDATION_PROJECTIONS');
  const configFile = pick(flags, 'config', env, 'FOUNDATION_CONFIG');
  const schemaModule = pick(flags, 'schema', env, 'FOUNDATION_SCHEMA');
  const envPrefix = pick(flags, 'env-prefix', env, 'FOUNDATION_ENV_PREFIX');
  const explicit = new Set<'host' | 'port' | 'dataDir' | 'store' | 'name' | 'token' | 'shutdownTimeoutMs'>();
  if (host !== undefined) explicit.add('host');
  if (port !== undefined) explicit.add('port');
  if (dataDir !== undefined) explicit.add('dataDir');
  if (store !== undefined) explicit.add('store');
  if (name !== undefined) explicit.add('name');
  if (token !== undefined) explicit.add('token');
  if (timeout !== undefined) explicit.add('shutdownTimeoutMs');
  if (interval !== undefined && policies === undefined) {
    throw invalidArgument(`${interval.source} needs retention policies (--retention-policies)`, {
      source: interval.source,
    });
  }
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
    retentionPolicies: policies === undefined ? undefined : parsePolicies(policies.value, policies.source),
    retentionIntervalMs:
      interval === undefined ? undefined : parseRetentionInterval(interval.value, interval.source),
    projectionsModule:
      projections === undefined ? undefined : resolve(parseNonEmpty(projections.value, projections.source)),
    configFile:
      configFile === undefined ? undefined : resolve(parseNonEmpty(configFile.value, configFile.source)),
    schemaModule:
      schemaModule === undefined
        ? undefined
        : resolve(parseNonEmpty(schemaModule.value, schemaModule.source)),
    envPrefix: envPrefix === undefined ? undefined : parseEnvPrefix(envPrefix.value, envPrefix.source),
    explicit,
  };
}

/** An environment prefix: 1–64 characters of `[A-Za-z0-9_]`, not `FOUNDATION_` (the command's own variables). */
function parseEnvPrefix(value: string, source: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(value) || value === 'FOUNDATION_') {
    throw invalidArgument(`${source} must be a variable prefix such as APP_ (letters, digits, underscores)`, {
      source,
    });
  }
  return value;
}

/** What a schema module exports: `schema` (or a default export), and optionally `mutable` and `secrets`. */
export interface SchemaModule {
  readonly schema: StandardSchemaV1;
  readonly mutable: readonly string[];
  readonly secrets: readonly string[];
}

function stringList(module: Record<string, unknown>, key: string, path: string): readonly string[] {
  const value = module[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: `The schema module ${path} exports "${key}" that is not an array of path patterns`,
      context: { module: path, export: key },
    });
  }
  return value;
}

/**
 * Loads the schema module at `path`. Throws `FND_SYSTEM_INITIALIZATION_FAILED` when it cannot be loaded,
 * `FND_CONFIG_INVALID_STRUCTURE` when it exports no Standard Schema.
 */
export async function loadSchemaModule(path: string): Promise<SchemaModule> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
      message: `Cannot load the schema module ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      context: { module: path },
      cause: error,
    });
  }
  const schema = module.schema ?? module.default;
  if (typeof schema !== 'object' || schema === null || !('~standard' in schema)) {
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: `The schema module ${path} must export "schema" (or a default export): a Standard Schema such as a zod object`,
      context: { module: path },
    });
  }
  return {
    schema: schema as StandardSchemaV1,
    mutable: stringList(module, 'mutable', path),
    secrets: stringList(module, 'secrets', path),
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

/** Retention policies from a flag or variable: a JSON array of `{ types, maxAgeMs?, maxCount? }`. */
function parsePolicies(value: string, source: string): unknown {
  const policies = jsonFlag(value, source, 'array');
  try {
    validateRetentionPolicies(policies);
  } catch (error) {
    throw invalidArgument(`${source}: ${error instanceof Error ? error.message : String(error)}`, { source });
  }
  return policies;
}

const DAY_MS = 86_400_000;

/** The retention interval: `30s`, `10m`, `6h`, `1d` or ms; 1 s to 7 days. */
function parseRetentionInterval(value: string, source: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };
  const amount = match?.[1];
  const ms = amount === undefined ? Number.NaN : Number(amount) * (units[match?.[2] ?? 'ms'] ?? 1);
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > 7 * DAY_MS) {
    throw invalidArgument(
      `${source} must be a duration such as 30s, 10m, 6h or 1d (1 s to 7 days), got ${JSON.stringify(value.slice(0, 40))}`,
      { source },
    );
  }
  return ms;
}

/**
 * The projection definitions exported by the ES module at `path`: its `projections` export, else its default
 * export, an array. Throws `FND_SYSTEM_INITIALIZATION_FAILED` when it cannot be loaded or exports no array.
 */
export async function loadProjections(path: string): Promise<ProjectionDefinition[]> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
      message: `Cannot load the projections module ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      context: { module: path },
      cause: error,
    });
  }
  const definitions = module.projections ?? module.default;
  if (!Array.isArray(definitions)) {
    throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
      message: `The projections module ${path} must export "projections" (or a default export): an array of projection definitions`,
      context: { module: path },
    });
  }
  return definitions as ProjectionDefinition[];
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
    '                        [--shutdown-timeout T] [--retention-policies JSON] [--retention-interval D]',
    '                        [--projections MODULE] [--config FILE] [--schema MODULE] [--env-prefix P]',
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
    '  --retention-policies JSON',
    `                        event retention policies (FOUNDATION_RETENTION_POLICIES), e.g.`,
    `                        '[{"types":"debug.*","maxCount":1000},{"types":"*","maxAgeMs":2592000000}]'`,
    '  --retention-interval D  time between retention runs: 30s, 10m, 6h, 1d (FOUNDATION_RETENTION_INTERVAL;',
    '                        default 1h)',
    '  --projections MODULE  ES module exporting "projections": projection definitions to run',
    '                        (FOUNDATION_PROJECTIONS)',
    '  --config FILE         config file, JSON or YAML, watched for edits (FOUNDATION_CONFIG); its "foundation"',
    '                        section gives the settings above that no flag or variable gives (docs/config.md)',
    '  --schema MODULE       ES module exporting "schema" (zod or any Standard Schema) for the rest of the',
    '                        config, and optionally "mutable" and "secrets" path lists (FOUNDATION_SCHEMA)',
    '  --env-prefix P        read variables starting with P into the config, e.g. APP_LIMITS__RPS=5',
    '                        (FOUNDATION_ENV_PREFIX)',
    '',
    'Exit codes: 0 stopped cleanly, 1 failed to start or had to force the stop, 2 bad arguments.',
  ].join('\n'),
  async run(args, io) {
    const settings = resolveStartSettings(parseFlags('start', args, FLAGS), io.env);
    const projections =
      settings.projectionsModule === undefined ? [] : await loadProjections(settings.projectionsModule);
    const schema =
      settings.schemaModule === undefined ? undefined : await loadSchemaModule(settings.schemaModule);
    const given = settings.explicit;
    let foundation: Foundation;
    try {
      foundation = createFoundation({
        ...(given.has('name') ? { name: settings.name } : {}),
        ...(given.has('dataDir') ? { dataDir: settings.dataDir } : {}),
        ...(given.has('store') ? { store: settings.store } : {}),
        config: {
          // The command's defaults sit below the file and the environment.
          defaults: { foundation: { name: settings.name, dataDir: settings.dataDir } },
          ...(settings.configFile === undefined
            ? {}
            : { file: { path: settings.configFile, required: true } }),
          ...(settings.envPrefix === undefined ? {} : { env: { prefix: settings.envPrefix, env: io.env } }),
          ...(schema === undefined
            ? {}
            : { schema: schema.schema, mutable: schema.mutable, secrets: schema.secrets }),
        },
        projections,
        ...(settings.retentionPolicies === undefined
          ? {}
          : {
              events: {
                retention: {
                  policies: settings.retentionPolicies,
                  ...(settings.retentionIntervalMs === undefined
                    ? {}
                    : { intervalMs: settings.retentionIntervalMs }),
                },
              },
            }),
      });
    } catch (error) {
      if (isFoundationError(error, 'FND_EVENTS_INVALID_POLICY') && settings.projectionsModule !== undefined) {
        throw new FoundationError('FND_EVENTS_INVALID_POLICY', {
          message: `${settings.projectionsModule}: ${error.message}`,
          context: { module: settings.projectionsModule },
          cause: error,
        });
      }
      throw error;
    }
    const own = settingsOf(foundation.config);
    const bus = own.controlBus;
    const token = given.has('token') ? settings.token : bus.token;
    const effective = {
      ...settings,
      name: own.name,
      dataDir: resolve(own.dataDir),
      store: own.store ?? `sqlite:${join(resolve(own.dataDir), 'foundation.db')}`,
      shutdownTimeoutMs: given.has('shutdownTimeoutMs') ? settings.shutdownTimeoutMs : bus.shutdownTimeoutMs,
    };
    try {
      await mkdir(effective.dataDir, { recursive: true });
    } catch (error) {
      throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
        message: `Cannot create the data directory ${effective.dataDir}`,
        context: { dataDir: effective.dataDir },
        cause: error,
      });
    }
    foundation.add(
      controlBusService(foundation, {
        host: given.has('host') ? settings.host : bus.host,
        port: given.has('port') ? settings.port : bus.port,
        ...(token === undefined ? {} : { token }),
      }),
    );
    const shutdown = watchShutdown(foundation, effective, io);
    try {
      await foundation.start();
    } catch (error) {
      shutdown.cancel();
      throw error;
    }
    const running = foundation.registry.lookup<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
    if (running !== undefined) {
      io.out(`foundation ${effective.name} listening on ${running.url}`);
      io.out(`foundation ${effective.name} store ${describeStore(parseStoreUrl(effective.store))}`);
    }
    return shutdown.exitCode;
  },
};
