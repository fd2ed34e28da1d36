/**
 * The decisions of a PostgreSQL append group, made in memory between the lock and the insert: each request
 * is idempotent, an id conflict, a version conflict or accepted, judged against the locked stream versions,
 * the stored events with the group's ids, and what the earlier requests of the group did.
 *
 * @module
 */
import type { FoundationError } from '../../errors/index.js';
import { checkExpectedVersion } from '../model/expected-version.js';
import type { AppendOutcome, AppendRequest } from '../model/port.js';
import type { StoredEvent } from '../model/types.js';
import { checkExisting } from './existing-events.js';
import type { PlannedRow } from './postgres-insert-events.js';

/** A request's answer before positions are known: events are stored ones, or indexes into the planned rows. */
export type PlannedOutcome =
  | { readonly ok: true; readonly idempotent: boolean; readonly slots: readonly (StoredEvent | number)[] }
  | { readonly ok: false; readonly error: FoundationError };

/** The plan of a group: outcomes in request order, the rows to insert, and the streams to update. */
export interface GroupPlan {
  readonly outcomes: readonly PlannedOutcome[];
  readonly rows: readonly PlannedRow[];
  /** Final version of every stream the accepted requests appended to. */
  readonly streamVersions: ReadonlyMap<string, number>;
  /** Locked streams that were new (version 0) and received nothing: their fresh rows are deleted. */
  readonly unusedStreams: readonly string[];
}

/** The distinct streams of a group (those of its events and of its checked requests), sorted. */
export function groupStreams(requests: readonly AppendRequest[]): string[] {
  const streams = new Set<string>();
  for (const request of requests) {
    if (request.stream !== null) streams.add(request.stream);
    for (const event of request.events) if (event.stream !== null) streams.add(event.stream);
  }
  return [...streams].sort();
}

/** Every event id of a group. */
export function groupIds(requests: readonly AppendRequest[]): string[] {
  const ids: string[] = [];
  for (const request of requests) for (const event of request.events) ids.push(event.id);
  return ids;
}

/**
 * Decides every request of a group in order. `versions` holds the locked version of every stream of the
 * group; `stored` the already stored events with ids of the group.
 */
export function planGroup(
  requests: readonly AppendRequest[],
  versions: ReadonlyMap<string, number>,
  stored: ReadonlyMap<string, StoredEvent>,
): GroupPlan {
  const current = new Map(versions);
  const pending = new Map<string, { readonly index: number; readonly event: StoredEvent }>();
  const rows: PlannedRow[] = [];
  const streamVersions = new Map<string, number>();
  const lookup = (id: string): StoredEvent | undefined => stored.get(id) ?? pending.get(id)?.event;
  const outcomes = requests.map((request): PlannedOutcome => {
    const existing = checkExisting(request.events, lookup);
    if (existing.kind === 'conflict') return { ok: false, error: existing.error };
    if (existing.kind === 'all') {
      const slots = existing.events.map((event) => pending.get(event.id)?.index ?? event);
      return { ok: true, idempotent: true, slots };
    }
    if (request.expectedVersion !== 'any' && request.stream !== null) {
      const actual = current.get(request.stream) ?? 0;
      const error = checkExpectedVersion(request.expectedVersion, actual, request.stream);
      if (error !== undefined) return { ok: false, error };
    }
    const slots: number[] = [];
    for (const event of request.events) {
      let streamVersion: number | null = null;
      if (event.stream !== null) {
        streamVersion = (current.get(event.stream) ?? 0) + 1;
        current.set(event.stream, streamVersion);
        streamVersions.set(event.stream, streamVersion);
      }
      const index = rows.length;
      rows.push({ event, streamVersion });
      pending.set(event.id, { index, event: provisional(event, streamVersion) });
      slots.push(index);
    }
    return { ok: true, idempotent: false, slots };
  });
  const unusedStreams: string[] = [];
  for (const [stream, version] of versions) {
    if (version === 0 && !streamVersions.has(stream)) unusedStreams.push(stream);
  }
  return { outcomes, rows, streamVersions, unusedStreams };
}

/**
 * Turns a plan into the port's outcomes once the rows are inserted, with `positions` of the inserted ids.
 */
export function resolvePlan(plan: GroupPlan, positions: ReadonlyMap<string, number>): AppendOutcome[] {
  const events = plan.rows.map((row) =>
    provisional(row.event, row.streamVersion, positions.get(row.event.id)),
  );
  return plan.outcomes.map((outcome): AppendOutcome => {
    if (!outcome.ok) return outcome;
    return {
      ok: true,
      idempotent: outcome.idempotent,
      events: outcome.slots.map((slot) => (typeof slot === 'number' ? (events[slot] as StoredEvent) : slot)),
    };
  });
}

function provisional(event: PlannedRow['event'], streamVersion: number | null, position = 0): StoredEvent {
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    streamVersion,
    position,
    time: event.time,
    monotonic: event.monotonic,
    correlationId: event.correlationId,
    causationId: event.causationId,
    parentId: event.parentId,
    data: event.data,
    metadata: event.metadata,
    node: event.node,
  };
}
