/**
 * The idempotency rule shared by every store adapter: how a request's events relate to events already
 * stored with the same ids.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { sameContent } from '../model/same-content.js';
import type { PreparedEvent } from '../model/port.js';
import type { StoredEvent } from '../model/types.js';

/**
 * How a request's ids relate to the stored log: `none` exist (append normally), `all` exist with the same
 * content (idempotent retry: answer with the stored events), or a `conflict` (an id exists with other content,
 * or only part of the batch exists).
 */
export type ExistingEvents =
  | { readonly kind: 'none' }
  | { readonly kind: 'all'; readonly events: StoredEvent[] }
  | { readonly kind: 'conflict'; readonly error: FoundationError };

const NONE: ExistingEvents = Object.freeze({ kind: 'none' });

/**
 * Applies the idempotency rule to `events` with `lookup` (a synchronous read of a stored event by id).
 * Different content wins over a partial batch when both apply, so the error names the changed event.
 */
export function checkExisting(
  events: readonly PreparedEvent[],
  lookup: (id: string) => StoredEvent | undefined,
): ExistingEvents {
  const found: StoredEvent[] = [];
  let missing: string | undefined;
  for (const event of events) {
    const stored = lookup(event.id);
    if (stored === undefined) {
      missing ??= event.id;
      continue;
    }
    if (!sameContent(stored, event)) return { kind: 'conflict', error: contentConflict(event.id) };
    found.push(stored);
  }
  if (found.length === 0) return NONE;
  if (missing !== undefined)
    return { kind: 'conflict', error: partialConflict(missing, found.length, events.length) };
  return { kind: 'all', events: found };
}

/** The error for an id that is stored with other content. */
export function contentConflict(id: string): FoundationError {
  return new FoundationError('FND_EVENTS_ID_CONFLICT', {
    message: `An event with id ${id} is already stored with other content`,
    context: { id, reason: 'content' },
  });
}

/** The error for a batch of which only some events are stored. */
export function partialConflict(missingId: string, existing: number, total: number): FoundationError {
  return new FoundationError('FND_EVENTS_ID_CONFLICT', {
    message: `Only ${existing} of the ${total} events of the batch are already stored (e.g. ${missingId} is not): a retry must repeat the whole batch`,
    context: { id: missingId, reason: 'partial', existing, total },
  });
}
