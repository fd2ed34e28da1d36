/**
 * Reading a config's sources at creation: defaults, the file, the environment and the arguments, each checked
 * and turned into a layer, then validated together. Every problem is a catalog error thrown before the config
 * exists; an environment variable behind an invalid value is named (never its value).
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { FoundationError } from '../errors/index.js';
import type { ResolvedLimits } from './config-input.js';
import { buildState, emptyLayers, type ConfigState, type LayerSet } from './config-state.js';
import { readEnvLayer } from './model/env.js';
import { readConfigFileSync } from './model/file.js';
import { toJsonValue } from './model/json-value.js';
import { mergeLayers } from './model/merge.js';
import type { Redactor } from './model/redact.js';
import { invalidConfigError } from './model/schema.js';
import type { ConfigIssue, ConfigOptions, ConfigStatus, JsonObject } from './types.js';

/** The file option, resolved. */
export interface FileSettings {
  readonly path: string;
  readonly required: boolean;
  readonly watch: boolean;
}

/** Resolves the `file` option (already checked by `checkConfigOptions`). */
export function fileSettings(file: ConfigOptions['file']): FileSettings | undefined {
  if (file === undefined) return undefined;
  if (typeof file === 'string') return { path: file, required: false, watch: true };
  return { path: file.path, required: file.required ?? false, watch: file.watch ?? true };
}

/** What the sources gave. */
export interface LoadedSources {
  /** The validated first state (the runtime layer empty). */
  readonly state: ConfigState;
  /** Dotted path → the environment variable that set it. */
  readonly envVars: ReadonlyMap<string, string>;
  /** The file's text as read (to tell a real edit from a touch), when there is one. */
  readonly fileText: string | undefined;
  readonly fileState: ConfigStatus['fileState'];
}

/** The environment variable that set `path` or one of its ancestors. */
export function envVarOf(vars: ReadonlyMap<string, string>, path: string): string | undefined {
  for (let at = path; at !== ''; at = at.includes('.') ? at.slice(0, at.lastIndexOf('.')) : '') {
    const name = vars.get(at);
    if (name !== undefined) return name;
  }
  return undefined;
}

/** The error for sources that do not validate; names the environment variables behind the issues. */
function invalidSources(
  issues: readonly ConfigIssue[],
  redactor: Redactor,
  vars: ReadonlyMap<string, string>,
): FoundationError {
  const invalid = invalidConfigError(issues, redactor);
  const variables = issues.map((issue) => envVarOf(vars, issue.path)).filter((name) => name !== undefined);
  if (variables.length === 0) return invalid;
  return new FoundationError('FND_CONFIG_ENV_INVALID', {
    message: `Environment variable ${variables[0] ?? ''} gives an invalid value: ${invalid.message}`,
    context: { variables: [...new Set(variables)], issues: invalid.context.issues },
    cause: invalid,
  });
}

/**
 * Reads and validates every source of `options`.
 *
 * @throws FoundationError `FND_CONFIG_FILE_INVALID` (unreadable, missing when required, unparsable),
 * `FND_CONFIG_ENV_INVALID`, `FND_CONFIG_INVALID_VALUE`, `FND_CONFIG_INVALID_PATH`, `FND_CONFIG_VALUE_TOO_LARGE`.
 */
export function loadSources(
  options: ConfigOptions,
  file: FileSettings | undefined,
  limits: ResolvedLimits,
  redactor: Redactor,
): LoadedSources {
  const schema: StandardSchemaV1 = options.schema;
  const jsonLimits = { maxBytes: Number.POSITIVE_INFINITY, maxDepth: limits.maxDepth };
  const defaults =
    options.defaults === undefined
      ? {}
      : (toJsonValue(options.defaults, jsonLimits, 'defaults') as JsonObject);
  const argumentsLayer =
    options.arguments === undefined
      ? {}
      : (toJsonValue(options.arguments, jsonLimits, 'arguments') as JsonObject);
  let fileLayer: JsonObject = {};
  let fileText: string | undefined;
  let fileState: ConfigStatus['fileState'] = 'none';
  if (file !== undefined) {
    const read = readConfigFileSync(file.path, limits.maxFileBytes);
    if (read.state === 'missing') {
      if (file.required) {
        throw new FoundationError('FND_CONFIG_FILE_INVALID', {
          message: `The config file ${file.path} does not exist`,
          context: { file: file.path },
        });
      }
      fileState = 'missing';
    } else {
      fileLayer = read.value;
      fileText = read.text;
      fileState = 'ok';
    }
  }
  // Environment strings are coerced to the type of the value below them: the defaults and the file as the
  // schema completes them (its defaults included) when they validate, else as written.
  const below = buildState(schema, { ...emptyLayers(), default: defaults, file: fileLayer });
  const envBase = below.ok
    ? below.state.json
    : mergeLayers([
        { source: 'default', value: defaults },
        { source: 'file', value: fileLayer },
      ]);
  const envRead =
    options.env === undefined
      ? { value: {}, vars: new Map<string, string>() }
      : readEnvLayer(
          {
            prefix: options.env.prefix,
            env: options.env.env ?? process.env,
            ...(options.env.separator === undefined ? {} : { separator: options.env.separator }),
          },
          envBase,
        );
  const layers: LayerSet = {
    ...emptyLayers(),
    default: defaults,
    file: fileLayer,
    env: envRead.value,
    argument: argumentsLayer,
  };
  const built = buildState(schema, layers);
  if (!built.ok) throw invalidSources(built.issues, redactor, envRead.vars);
  return { state: built.state, envVars: envRead.vars, fileText, fileState };
}
