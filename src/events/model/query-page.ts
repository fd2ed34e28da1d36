/**
 * Turning the rows an adapter fetched into a page.
 *
 * @module
 */
import { encodeCursor } from './cursor.js';
import { DEFAULT_QUERY_LIMIT, type EventQuery, type QueryPage, type StoredEvent } from './types.js';

/**
 * Builds a page from `events`, fetched in the query's order with the compiled limit (page size + 1): when
 * more than the page size came back, the extra event is dropped and `nextCursor` points after the last
 * event kept.
 */
export function nextPage(events: StoredEvent[], query: EventQuery): QueryPage {
  const limit = query.limit ?? DEFAULT_QUERY_LIMIT;
  if (events.length <= limit) return { events, nextCursor: undefined };
  const page = events.slice(0, limit);
  const last = page[page.length - 1] as StoredEvent;
  return { events: page, nextCursor: encodeCursor({ position: last.position, order: query.order ?? 'asc' }) };
}
