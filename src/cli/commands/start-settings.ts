/**
 * The settings of `foundation start`: its flags, and their resolution over the `FOUNDATION_*` environment
 * variables and the defaults, each value validated (`FND_CLI_INVALID_ARGUMENT` naming the flag or variable).
 *
 * @module
 */
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { validateRetentionPolicies } from '../../events/retention/index.js';
import { parseStoreUrl } from '../../storage/index.js';
import {
  invalidArgument,
  parseDuration,
  parseHost,
  parseName,
  parseNonEmpty,
  parsePort,
  pick,
  type ParsedFlags,
} from '../arguments.js';
import { jsonFlag } from '../flag-values.js';

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

/** The flags of `foundation start`. */
export const START_FLAGS = {
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
