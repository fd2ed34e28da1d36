/**
 * `foundation start`: runs a foundation with its control bus until SIGTERM / SIGINT, then stops it
 * gracefully within `--shutdown-timeout` (exit 0), or exits 1 when it had to give up; a second signal
 * exits at once. The settings live in `start-settings.ts`, the loading of the user's modules in
 * `start-modules.ts`, the shutdown watch in `start-shutdown.ts`; this module re-exports what its importers
 * use.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { settingsOf } from '../../app/config-service.js';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../app/foundation.js';
import { FoundationError, isFoundationError } from '../../errors/index.js';
import { describeStore, parseStoreUrl } from '../../storage/index.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../server/index.js';
import { parseFlags } from '../arguments.js';
import type { Command } from '../command.js';
import { loadProjections, loadSchemaModule } from './start-modules.js';
import { resolveStartSettings, START_FLAGS } from './start-settings.js';
import { watchShutdown } from './start-shutdown.js';

export { loadProjections, loadSchemaModule, type SchemaModule } from './start-modules.js';
export { defaultNodeName, resolveStartSettings, type StartSettings } from './start-settings.js';
export { processSignals, watchShutdown, type ShutdownWatch, type SignalSource } from './start-shutdown.js';

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
    const settings = resolveStartSettings(parseFlags('start', args, START_FLAGS), io.env);
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
