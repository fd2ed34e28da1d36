/**
 * Snapshots of an aggregate's state: when the helper saves one, and how it reads one back. Used by
 * `aggregate()`; a snapshot is an optimization only, so a failing snapshot store never fails a command or a
 * load (it is reported on telemetry and the stream is folded from the start).
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../../errors/index.js';
import { telemetryEvent } from '../../kernel/telemetry.js';
import type { JsonValue } from '../model/types.js';
import type { SnapshotStore } from './snapshot-store.js';

/** Snapshot options of an aggregate (`aggregate(store, decider, { snapshots })`). */
export interface AggregateSnapshotOptions<State> {
  /** Where snapshots are kept (see `createSnapshotStore`). */
  readonly store: SnapshotStore;
  /** Save a snapshot each time a stream's version crosses a multiple of this (an integer ≥ 1). */
  readonly every: number;
  /**
   * Names the decider and its state's schema version, e.g. `account@1`. Snapshots of another kind are never
   * read: change the kind whenever the state's shape or `evolve` changes, and old snapshots are ignored.
   */
  readonly kind: string;
  /** State → JSON (default: the state itself, which must then be JSON). */
  readonly serialize?: (state: State) => JsonValue;
  /** JSON → state (default: the JSON itself). */
  readonly deserialize?: (json: JsonValue) => State;
}

/** A state read back from a snapshot, at the stream version it includes. */
export interface SnapshotState<State> {
  /** The state as deserialized from the snapshot. */
  readonly state: State;
  /** The stream version the snapshot includes. */
  readonly version: number;
}

/** What the aggregate helper does with snapshots. */
export interface SnapshotPolicy<State> {
  /** The snapshot's state, or `undefined` when there is none or it cannot be read (reported). */
  read(stream: string): Promise<SnapshotState<State> | undefined>;
  /** Whether an append from `before` to `after` crossed a multiple of `every`. */
  due(before: number, after: number): boolean;
  /** Saves a snapshot; never rejects (a failure is reported on `events:snapshot_failed`). */
  write(stream: string, version: number, state: State): Promise<void>;
  /** Reports a snapshot ahead of its stream (ignored by the caller). */
  ignored(stream: string, version: number, streamVersion: number): void;
}

const failed = telemetryEvent('events:snapshot_failed');
const ignoredAhead = telemetryEvent('events:snapshot_ignored');

/**
 * Validates the options and builds the policy.
 *
 * Telemetry: `events:snapshot_failed` `{ version }` with `stream`, `kind`, `operation` (`load` / `save`)
 * and the error `code`, when the store (or `serialize` / `deserialize`) fails; `events:snapshot_ignored`
 * `{ version, streamVersion }` with `stream` and `kind`, when a snapshot is ahead of its stream.
 *
 * @throws `FND_DATA_INVALID_INPUT` when `every` is not an integer ≥ 1, `kind` is empty or `store` is missing.
 */
export function snapshotPolicy<State>(options: AggregateSnapshotOptions<State>): SnapshotPolicy<State> {
  const { store, every, kind } = options;
  if (!Number.isSafeInteger(every) || every < 1) invalid('snapshots.every', every, 'an integer ≥ 1');
  if (typeof kind !== 'string' || kind === '') invalid('snapshots.kind', kind, 'a non-empty string');
  if (typeof store !== 'object' || (store as unknown) === null) invalid('snapshots.store', store, 'a store');
  const serialize = options.serialize ?? ((state: State) => state as JsonValue);
  const deserialize = options.deserialize ?? ((json: JsonValue) => json as State);

  const report = (operation: 'load' | 'save', stream: string, version: number, error: unknown): void => {
    const code = isFoundationError(error) ? error.code : 'FND_SYSTEM_INTERNAL';
    failed.emit({ version }, { stream, kind, operation, code, error });
  };

  return {
    async read(stream) {
      let version = 0;
      try {
        const snapshot = await store.load(stream, kind);
        if (snapshot === undefined) return undefined;
        version = snapshot.version;
        if (!Number.isSafeInteger(version) || version < 1) {
          throw new FoundationError('FND_DATA_INVALID_INPUT', {
            message: 'A snapshot has an invalid version',
            context: { version: String(version) },
          });
        }
        return { state: deserialize(snapshot.state), version };
      } catch (error) {
        report('load', stream, version, error);
        return undefined;
      }
    },
    due: (before, after) => Math.floor(after / every) > Math.floor(before / every),
    async write(stream, version, state) {
      try {
        await store.save(stream, kind, version, serialize(state));
      } catch (error) {
        report('save', stream, version, error);
      }
    },
    ignored(stream, version, streamVersion) {
      ignoredAhead.emit({ version, streamVersion }, { stream, kind });
    },
  };
}

function invalid(option: string, value: unknown, expected: string): never {
  throw new FoundationError('FND_DATA_INVALID_INPUT', {
    message: `${option} must be ${expected}`,
    context: { option, value: String(value) },
  });
}
