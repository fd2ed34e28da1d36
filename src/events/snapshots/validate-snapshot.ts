/**
 * Argument checks and JSON encoding shared by the snapshot stores.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { JsonValue } from '../model/types.js';

/**
 * Throws `FND_DATA_INVALID_INPUT` for an empty stream or kind, or (when given) a version that is not a
 * positive safe integer.
 */
export function checkSnapshotArguments(stream: string, kind: string, version?: number): void {
  const bad =
    typeof stream !== 'string' || stream === ''
      ? { argument: 'stream', value: stream }
      : typeof kind !== 'string' || kind === ''
        ? { argument: 'kind', value: kind }
        : version !== undefined && (!Number.isSafeInteger(version) || version < 1)
          ? { argument: 'version', value: version }
          : undefined;
  if (bad !== undefined) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `Invalid snapshot ${bad.argument}`,
      context: { argument: bad.argument, value: String(bad.value) },
    });
  }
}

/** The state as JSON text; `FND_EVENTS_NOT_JSON` when it is not JSON (undefined, a function, a bigint…). */
export function snapshotJson(state: JsonValue): string {
  let text: unknown;
  try {
    text = JSON.stringify(state);
  } catch (error) {
    throw new FoundationError('FND_EVENTS_NOT_JSON', {
      message: 'A snapshot state is not JSON',
      cause: error,
    });
  }
  if (typeof text !== 'string') {
    throw new FoundationError('FND_EVENTS_NOT_JSON', { message: 'A snapshot state is not JSON' });
  }
  return text;
}

/** Runs synchronous store work as a promise: a throw becomes a rejection, never a synchronous throw. */
export function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
