/**
 * Terminal rendering of events for `foundation events query` (an aligned table, one row per event) and
 * `foundation events tail` (one line per event).
 *
 * @module
 */
import type { StoredEvent } from '../events/model/types.js';

/** Column headers of the events table. */
const HEADERS = ['POSITION', 'TIME', 'TYPE', 'STREAM', 'CORRELATION'] as const;

function row(event: StoredEvent): readonly string[] {
  return [
    String(event.position),
    Number.isFinite(event.time) ? new Date(event.time).toISOString() : String(event.time),
    event.type,
    event.stream === null ? '-' : `${event.stream}@${String(event.streamVersion)}`,
    event.correlationId ?? '-',
  ];
}

/** The events as table lines (a header, then one line per event); a single line when there are none. */
export function formatEvents(events: readonly StoredEvent[]): string[] {
  if (events.length === 0) return ['No events match.'];
  const rows = [HEADERS, ...events.map(row)];
  const widths = HEADERS.map((_, column) => Math.max(...rows.map((r) => (r[column] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, column) => (column === r.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * One event as a single line for `foundation events tail`: position, ISO time, type, `stream@version` (or
 * `-`) and correlation id (or `-`), separated by two spaces.
 */
export function formatEventLine(event: StoredEvent): string {
  return row(event).join('  ');
}

/** Whether `body` looks like a page of `GET /api/events`. */
export function isEventPage(body: unknown): body is { events: StoredEvent[]; nextCursor: string | null } {
  if (typeof body !== 'object' || body === null) return false;
  const page = body as { events?: unknown; nextCursor?: unknown };
  return Array.isArray(page.events) && (page.nextCursor === null || typeof page.nextCursor === 'string');
}
