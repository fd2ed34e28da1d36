/**
 * The change pipeline of a config: every change (a runtime update, a batch, a rollback, a file edit) is a
 * {@link Plan} run under the config's lock — build the whole next configuration from its layers, validate it
 * with the schema, check the plan's own rules (unknown paths), ask subscribers' `prepare`, append the version to
 * the store (compare-and-set on the version number, rebuilt after losing a race to another node), then swap
 * the state in. The plans for updates, rollbacks and file reloads are made here too.
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { FoundationError } from '../errors/index.js';
import type { CheckedChange } from './config-input.js';
import {
  checkMutable,
  conflict,
  isConflict,
  rollbackRuntime,
  unavailable,
  versionRecord,
} from './config-records.js';
import { buildState, firstUnknownKey, type ConfigState, type LayerSet } from './config-state.js';
import type { ConfigVersions } from './config-versions.js';
import { diffJson } from './model/diff.js';
import { jsonEqual } from './model/json-value.js';
import { setAt, unsetAt } from './model/path.js';
import type { PathMatcher } from './model/patterns.js';
import { invalidConfigError } from './model/schema.js';
import type {
  ConfigUpdateOptions,
  ConfigUpdateResult,
  ConfigVersionKind,
  ConfigVersionRecord,
  JsonObject,
} from './types.js';

/**
 * How often a change is rebuilt after losing the race for a version number to another node. Every round of a
 * race has a winner, so a writer among N racing ones loses about N times in a row at worst in practice.
 */
const CAS_RETRIES = 20;

/** A pending change handed to the pipeline. */
export interface Plan {
  /** The kind of version it writes. */
  readonly kind: ConfigVersionKind;
  /** The next layers given the current ones (the runtime layer for updates, the file layer for reloads). */
  readonly layers: (current: LayerSet) => LayerSet;
  /** Checks the built state (unknown paths) before it is accepted. */
  readonly check?: (next: ConfigState) => void;
  /** The change's options (already checked). */
  readonly options: ConfigUpdateOptions;
  /** For a rollback: the version rolled back to. */
  readonly rolledBackTo?: number;
}

/**
 * The plan of an update or a batch: each change set or unset on the runtime layer.
 *
 * @throws FoundationError `FND_CONFIG_UPDATE_FORBIDDEN` (at once) when a path is not mutable; the plan's check
 * throws `FND_CONFIG_UNKNOWN_PATH` when the schema does not declare a written path.
 */
export function updatePlan(
  mutable: PathMatcher,
  changes: readonly CheckedChange[],
  options: ConfigUpdateOptions,
): Plan {
  for (const change of changes) checkMutable(mutable, change);
  return {
    kind: 'update',
    options,
    layers: (current) => {
      let runtime = current.runtime;
      for (const change of changes) {
        runtime =
          change.value === undefined
            ? unsetAt(runtime, change.segments)
            : setAt(runtime, change.segments, change.value);
      }
      return { ...current, runtime };
    },
    check: (next) => {
      for (const change of changes) {
        if (change.value === undefined) continue;
        const unknown = firstUnknownKey(change.path, change.value, next.json, next.index);
        if (unknown !== undefined) {
          throw new FoundationError('FND_CONFIG_UNKNOWN_PATH', {
            message: `No config path "${unknown}" (the schema does not declare it)`,
            context: { path: unknown },
          });
        }
      }
    },
  };
}

/** The plan of a rollback to `version` (stored as `target`): its runtime values on the mutable paths. */
export function rollbackPlan(
  schema: StandardSchemaV1,
  mutable: PathMatcher,
  version: number,
  target: ConfigVersionRecord,
  options: ConfigUpdateOptions,
): Plan {
  return {
    kind: 'rollback',
    rolledBackTo: version,
    options,
    layers: (current) => ({
      ...current,
      runtime: rollbackRuntime(schema, current, target, mutable),
    }),
  };
}

/** The plan of a file reload: `next` (the file's new contents) as the file layer. */
export function filePlan(path: string, next: JsonObject): Plan {
  return {
    kind: 'file',
    options: { actor: 'file', reason: `edit of ${path}` },
    layers: (current) => ({ ...current, file: next }),
  };
}

/** The result of a change that applied nothing (yet), at `version`. */
function unappliedResult(version: number, dryRun: boolean): ConfigUpdateResult {
  return {
    applied: false,
    dryRun,
    version,
    previousVersion: version,
    changes: [],
    valid: true,
    issues: [],
  };
}

/**
 * Runs `plan` under the lock of `versions`: refused while the config is stopped (`running` false), checked
 * against `expectedVersion`, built, validated, prepared, appended and swapped in.
 *
 * @throws FoundationError `FND_SYSTEM_SERVICE_UNAVAILABLE`, `FND_CONFIG_VERSION_CONFLICT`, `FND_CONFIG_INVALID_VALUE`
 * (not for a dry run: its result lists the issues), the plan's own check's errors, a subscriber's veto, a
 * store's failure.
 */
export function runPlan<T>(
  versions: ConfigVersions<T>,
  running: () => boolean,
  plan: Plan,
): Promise<ConfigUpdateResult> {
  const { schema, clock, nodeName, redactor, announcer } = versions.parts;
  return versions.exclusive(async () => {
    if (!running()) throw unavailable();
    const dryRun = plan.options.dryRun === true;
    const expected = plan.options.expectedVersion;
    for (let attempt = 0; ; attempt += 1) {
      if (expected !== undefined && expected !== versions.head) throw conflict(expected, versions.head);
      const current = versions.state;
      // Build on the store's runtime layer (equal to the applied one unless this node diverged).
      const layers = plan.layers({ ...current.layers, runtime: versions.overrides });
      const built = buildState(schema, layers);
      const base = unappliedResult(versions.version, dryRun);
      if (!built.ok) {
        if (dryRun) return { ...base, valid: false, issues: built.issues };
        throw invalidConfigError(built.issues, redactor);
      }
      plan.check?.(built.state);
      const changes = diffJson(current.json, built.state.json);
      const shown = redactor.redactChanges(changes);
      if (dryRun) return { ...base, changes: shown };
      const unchanged =
        changes.length === 0 &&
        jsonEqual(layers.runtime, versions.overrides) &&
        jsonEqual(layers.file, current.layers.file);
      if (unchanged) return base;
      await announcer.prepare(plan.kind, changes, current.json, built.state.json);
      const record = versionRecord({
        version: versions.head + 1,
        at: clock.now(),
        kind: plan.kind,
        overrides: layers.runtime,
        config: built.state.json,
        changes: shown,
        node: nodeName(),
        options: plan.options,
        rolledBackTo: plan.rolledBackTo,
      });
      try {
        await versions.store.append(record);
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Another node took the version: apply what it wrote, then refuse (compare-and-set) or rebuild.
        await versions.catchUp();
        if (expected !== undefined || attempt >= CAS_RETRIES) {
          throw conflict(expected ?? record.version - 1, versions.head);
        }
        continue;
      }
      const previous = versions.version;
      versions.committed(record, built.state, layers.runtime);
      announcer.changed(plan.kind, previous, changes, record, built.state.json);
      return { ...base, applied: true, version: record.version, previousVersion: previous, changes: shown };
    }
  });
}
