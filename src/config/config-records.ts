/**
 * The records a config produces and shows: version records, their redacted views, the events of changes, the
 * answer of `explain`, and the errors of the change pipeline. Pure functions of their arguments.
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { currentCorrelationId, FoundationError } from '../errors/index.js';
import type { ConfigEventRecord } from './config-api.js';
import type { CheckedChange } from './config-input.js';
import {
  buildState,
  leafPaths,
  orderedLayers,
  type ConfigState,
  type LayerSet,
  type PathIndex,
} from './config-state.js';
import { envVarOf } from './config-sources.js';
import { diffJson } from './model/diff.js';
import { isPlainObject } from './model/json-value.js';
import { layerValues, sourceOf } from './model/merge.js';
import { getAt, parsePath, setAt } from './model/path.js';
import type { PathMatcher } from './model/patterns.js';
import type { Redactor } from './model/redact.js';
import type {
  ConfigChange,
  ConfigExplanation,
  ConfigUpdateOptions,
  ConfigVersionInfo,
  ConfigVersionKind,
  ConfigVersionRecord,
  JsonObject,
  JsonValue,
} from './types.js';

/** `FND_SYSTEM_SERVICE_UNAVAILABLE`: a change while the config is not started. */
export function unavailable(): FoundationError {
  return new FoundationError('FND_SYSTEM_SERVICE_UNAVAILABLE', {
    message: 'The config is not started: changes need its version store',
    context: { service: 'config' },
  });
}

/** `FND_CONFIG_VERSION_CONFLICT`: the config is not at the expected version. */
export function conflict(expected: number, current: number): FoundationError {
  return new FoundationError('FND_CONFIG_VERSION_CONFLICT', {
    message: `The config is at version ${String(current)}, not ${String(expected)}`,
    context: { expectedVersion: expected, version: current },
  });
}

/** `FND_CONFIG_VERSION_NOT_FOUND` for `version` (the latest known in the context). */
export function versionNotFound(version: number, latest: number): FoundationError {
  return new FoundationError('FND_CONFIG_VERSION_NOT_FOUND', {
    message: `No config version ${String(version)}`,
    context: { version, latest },
  });
}

/** Whether `error` is a lost race for a version number. */
export function isConflict(error: unknown): error is FoundationError {
  return error instanceof FoundationError && error.code === 'FND_CONFIG_VERSION_CONFLICT';
}

/** Refuses a change to a path that no `mutable` pattern covers, naming the allowed patterns. */
export function checkMutable(mutable: PathMatcher, change: CheckedChange): void {
  const allowed =
    mutable.covers(change.path) ||
    (change.value === undefined
      ? mutable.touches(change.path)
      : mutable.touches(change.path) &&
        leafPaths(change.path, change.value).every((leaf) => mutable.covers(leaf)));
  if (!allowed) {
    throw new FoundationError('FND_CONFIG_UPDATE_FORBIDDEN', {
      message:
        mutable.patterns.length === 0
          ? `"${change.path}" cannot change at run time: no path is declared mutable`
          : `"${change.path}" cannot change at run time; mutable paths: ${mutable.patterns.join(', ')}`,
      context: { path: change.path, allowed: mutable.patterns },
    });
  }
}

/** `undefined` for an absent key of an existing object; `FND_CONFIG_UNKNOWN_PATH` for any other miss. */
export function missingPath(index: PathIndex, path: string): undefined {
  const segments = parsePath(path);
  const parent = index[segments.slice(0, -1).join('.')];
  if (isPlainObject(parent)) return undefined; // an optional key that is absent
  throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
    message: `No config path "${segments.join('.')}"`,
    context: { path: segments.join('.') },
  });
}

/** The runtime layer of a rollback to `target`: its overrides, plus mutable paths whose lower layers moved. */
export function rollbackRuntime(
  schema: StandardSchemaV1,
  current: LayerSet,
  target: ConfigVersionRecord,
  mutable: PathMatcher,
): JsonObject {
  let runtime = target.overrides;
  const rebuilt = buildState(schema, { ...current, runtime });
  if (rebuilt.ok) {
    for (const change of diffJson(rebuilt.state.json, target.config)) {
      if (change.new !== undefined && mutable.covers(change.path)) {
        runtime = setAt(runtime, parsePath(change.path), change.new);
      }
    }
  }
  return runtime;
}

/** A version record for an accepted change. */
export function versionRecord(fields: {
  readonly version: number;
  readonly at: number;
  readonly kind: ConfigVersionKind;
  readonly overrides: JsonObject;
  readonly config: JsonObject;
  readonly changes: ConfigChange[];
  readonly node: string;
  readonly options: ConfigUpdateOptions;
  readonly rolledBackTo: number | undefined;
}): ConfigVersionRecord {
  const { reason, actor } = fields.options;
  const correlationId = fields.options.correlationId ?? currentCorrelationId();
  return {
    version: fields.version,
    at: fields.at,
    kind: fields.kind,
    overrides: fields.overrides,
    config: fields.config,
    changes: fields.changes,
    node: fields.node,
    ...(fields.rolledBackTo === undefined ? {} : { rolledBackTo: fields.rolledBackTo }),
    ...(reason === undefined ? {} : { reason }),
    ...(actor === undefined ? {} : { actor }),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/** A version as readers outside the config see it: no overrides, no config, changes redacted. */
export function versionInfo(record: ConfigVersionRecord, redactor: Redactor): ConfigVersionInfo {
  return {
    version: record.version,
    at: record.at,
    kind: record.kind,
    changes: redactor.redactChanges(record.changes),
    node: record.node,
    ...(record.rolledBackTo === undefined ? {} : { rolledBackTo: record.rolledBackTo }),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(record.actor === undefined ? {} : { actor: record.actor }),
    ...(record.correlationId === undefined ? {} : { correlationId: record.correlationId }),
  };
}

/** The `config.updated` / `config.rolled_back` event of a version (its changes are already redacted). */
export function changeEvent(
  kind: ConfigVersionKind,
  previous: number,
  record: ConfigVersionRecord,
): ConfigEventRecord {
  return {
    id: `config-v${String(record.version)}`,
    type: kind === 'rollback' ? 'config.rolled_back' : 'config.updated',
    data: {
      version: record.version,
      previousVersion: previous,
      kind,
      changes: record.changes as unknown as JsonValue,
      node: record.node,
      ...(record.rolledBackTo === undefined ? {} : { rolledBackTo: record.rolledBackTo }),
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      ...(record.actor === undefined ? {} : { actor: record.actor }),
    },
    correlationId: record.correlationId,
  };
}

/** The `config.reload_failed` event of a refused file edit. */
export function reloadFailedEvent(
  id: string,
  file: string,
  failure: FoundationError,
  version: number,
): ConfigEventRecord {
  return {
    id,
    type: 'config.reload_failed',
    data: { file, code: failure.code, message: failure.message, version },
    correlationId: undefined,
  };
}

/** What {@link explainPath} needs from the config. */
export interface ExplainContext {
  readonly state: ConfigState;
  readonly redactor: Redactor;
  readonly mutable: PathMatcher;
  readonly envVars: ReadonlyMap<string, string>;
  readonly file: string | undefined;
  readonly version: number;
}

/** Where the value at `path` came from, each layer's value, whether it is secret or mutable (redacted). */
export function explainPath(context: ExplainContext, path: string): ConfigExplanation {
  const { state, redactor } = context;
  const segments = parsePath(path);
  const joined = segments.join('.');
  const value = getAt(state.json, segments);
  const ordered = orderedLayers(state.layers);
  const layers = layerValues(ordered, segments);
  if (value === undefined && layers.length === 0) {
    throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
      message: `No config path "${joined}"`,
      context: { path: joined },
    });
  }
  const source = sourceOf(ordered, segments) ?? 'default';
  const envVar = source === 'env' ? envVarOf(context.envVars, joined) : undefined;
  return {
    path: joined,
    value: redactor.redactValue(joined, value),
    source,
    layers: layers.map((layer) => ({
      source: layer.source,
      value: redactor.redactValue(joined, layer.value) ?? null,
    })),
    ...(context.file !== undefined && layers.some((layer) => layer.source === 'file')
      ? { file: context.file }
      : {}),
    ...(envVar === undefined ? {} : { envVar }),
    version: context.version,
    secret: redactor.isSecret(joined),
    mutable: context.mutable.covers(joined),
  };
}
