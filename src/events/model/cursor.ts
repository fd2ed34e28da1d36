/**
 * Opaque query cursors: base64url of the JSON `{"p": position, "o": order}` of the last event of a page.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';

/** The decoded content of a cursor. */
export interface CursorState {
  /** Position of the last event returned: the next page starts strictly after (asc) / before (desc) it. */
  readonly position: number;
  /** The order of the query the cursor belongs to. */
  readonly order: 'asc' | 'desc';
}

const MAX_CURSOR_LENGTH = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Encodes a cursor. */
export function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify({ p: state.position, o: state.order }), 'utf8').toString('base64url');
}

function invalidCursor(reason: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_CURSOR', {
    message: `Invalid cursor: ${reason}`,
    context: { reason },
  });
}

/** Decodes a cursor; anything not produced by {@link encodeCursor} throws `FND_EVENTS_INVALID_CURSOR`. */
export function decodeCursor(cursor: unknown): CursorState {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) {
    throw invalidCursor('not a cursor string');
  }
  if (!BASE64URL.test(cursor)) throw invalidCursor('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('not a cursor');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidCursor('not a cursor');
  const { p, o, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalidCursor('unknown fields');
  if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) throw invalidCursor('bad position');
  if (o !== 'asc' && o !== 'desc') throw invalidCursor('bad order');
  return { position: p, order: o };
}
