/**
 * The pure fold of a batch of events into projection rows: routes each event to its key, starts a row from
 * `initial`, applies `evolve`, and returns the changes to write. Shared by every store and by both modes.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { findNonJson } from '../model/json-check.js';
import type { JsonValue, StoredEvent } from '../model/types.js';
import type { ValidDefinition } from './validate-definition.js';
import { MAX_PROJECTION_KEY_LENGTH } from './validate-definition.js';

/** The new value of one row: its JSON text (`null`: delete the row) and the position of its last event. */
export interface RowChange {
  /** The projection row key. */
  readonly key: string;
  /** `undefined` state means delete. */
  readonly state: JsonValue | undefined;
  /** The new state as JSON text, `null` to delete the row. */
  readonly json: string | null;
  /** The position of the last event folded into the row. */
  readonly position: number;
}

/** The events of a batch that the projection routes to a key, with those keys (distinct, sorted). */
export interface RoutedBatch {
  /** The events the projection routes to a key, each with its key, in log order. */
  readonly events: readonly { readonly key: string; readonly event: StoredEvent }[];
  /** Distinct keys, sorted (locks are taken in this order). */
  readonly keys: readonly string[];
}

/** Builds the `FND_EVENTS_PROJECTION_FAILED` error for a user function that threw on an event. */
export function projectionFailed(
  name: string,
  event: StoredEvent,
  step: string,
  cause: unknown,
): FoundationError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FoundationError('FND_EVENTS_PROJECTION_FAILED', {
    message: `Projection ${name} failed at ${step} of event ${event.id}: ${reason}`,
    context: { projection: name, eventId: event.id, position: event.position, step },
    cause,
  });
}

/**
 * Routes events through `key` (events whose key is `undefined` are skipped). `match` filters first (inline
 * projections; async ones are filtered by their subscription). Throws `FND_EVENTS_PROJECTION_FAILED` when `key`
 * throws or returns something other than a 1–500 character string or `undefined`.
 */
export function routeEvents(
  def: ValidDefinition,
  events: readonly StoredEvent[],
  match?: (event: StoredEvent) => boolean,
): RoutedBatch {
  const routed: { key: string; event: StoredEvent }[] = [];
  const keys = new Set<string>();
  for (const event of events) {
    if (match !== undefined && !match(event)) continue;
    let key: unknown;
    try {
      key = def.key(event);
    } catch (error) {
      throw projectionFailed(def.name, event, 'key', error);
    }
    if (key === undefined) continue;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_PROJECTION_KEY_LENGTH) {
      throw projectionFailed(
        def.name,
        event,
        'key',
        new TypeError(`key() must return a string of 1–${MAX_PROJECTION_KEY_LENGTH} characters or undefined`),
      );
    }
    routed.push({ key, event });
    keys.add(key);
  }
  return { events: routed, keys: [...keys].sort() };
}

/**
 * Folds routed events into the current rows (`current`: key → state of the stored row; absent = no row).
 * Returns one change per touched key. A `null` from `evolve` deletes the row; a later event of the same key
 * starts again from `initial`. Throws `FND_EVENTS_PROJECTION_FAILED` (context: projection, eventId, position,
 * step) when `initial` or `evolve` throws or returns something that is not JSON.
 */
export function foldBatch(
  def: ValidDefinition,
  batch: RoutedBatch,
  current: ReadonlyMap<string, JsonValue>,
): RowChange[] {
  const working = new Map<string, { state: JsonValue | undefined; position: number }>();
  for (const { key, event } of batch.events) {
    const before = working.has(key) ? working.get(key)?.state : current.get(key);
    let state: JsonValue;
    if (before === undefined) {
      try {
        state = def.initial(key);
      } catch (error) {
        throw projectionFailed(def.name, event, 'initial', error);
      }
      checkJson(def.name, event, 'initial', state);
    } else {
      state = before;
    }
    let next: JsonValue | null;
    try {
      next = def.evolve(state, event);
    } catch (error) {
      throw projectionFailed(def.name, event, 'evolve', error);
    }
    if (next !== null) checkJson(def.name, event, 'evolve', next);
    working.set(key, { state: next === null ? undefined : next, position: event.position });
  }
  const changes: RowChange[] = [];
  for (const key of batch.keys) {
    const change = working.get(key);
    if (change === undefined) continue;
    // Deep copies through JSON text: the stored state never aliases objects the caller may mutate.
    const json = change.state === undefined ? null : JSON.stringify(change.state);
    changes.push({
      key,
      state: json === null ? undefined : (JSON.parse(json) as JsonValue),
      json,
      position: change.position,
    });
  }
  return changes;
}

function checkJson(name: string, event: StoredEvent, step: string, value: unknown): void {
  const problem =
    value === undefined ? { path: 'state', reason: 'is undefined' } : findNonJson(value, 'state');
  if (problem !== undefined) {
    throw projectionFailed(
      name,
      event,
      step,
      new TypeError(`${step}() returned non-JSON: ${problem.path} ${problem.reason}`),
    );
  }
}
