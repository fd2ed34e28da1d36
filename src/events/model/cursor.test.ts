import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { nextPage } from './query-page.js';
import type { StoredEvent } from './types.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError) return error.code;
    throw error;
  }
  return 'none';
}

describe('cursors', () => {
  it('property: decode(encode(x)) is x, and the cursor is base64url', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom('asc', 'desc'),
        (position, order) => {
          const cursor = encodeCursor({ position, order });
          expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeCursor(cursor)).toEqual({ position, order });
        },
      ),
    );
  });

  it.each([
    [''],
    ['not base64!'],
    ['@@@'],
    [Buffer.from('nope').toString('base64url')],
    [Buffer.from('[1]').toString('base64url')],
    [Buffer.from('null').toString('base64url')],
    [Buffer.from('{"p":1}').toString('base64url')],
    [Buffer.from('{"p":-1,"o":"asc"}').toString('base64url')],
    [Buffer.from('{"p":1.5,"o":"asc"}').toString('base64url')],
    [Buffer.from('{"p":"1","o":"asc"}').toString('base64url')],
    [Buffer.from('{"p":1,"o":"up"}').toString('base64url')],
    [Buffer.from('{"p":1,"o":"asc","x":1}').toString('base64url')],
    ['a'.repeat(201)],
    [42],
    [null],
  ])('rejects %s with FND_EVENTS_INVALID_CURSOR', (bad) => {
    expect(code(() => decodeCursor(bad))).toBe('FND_EVENTS_INVALID_CURSOR');
  });
});

describe('nextPage', () => {
  const events = [3, 5, 9].map((position): StoredEvent => ({
    id: `e${position}`,
    type: 'a',
    stream: null,
    streamVersion: null,
    position,
    time: 0,
    monotonic: 0,
    correlationId: null,
    causationId: null,
    parentId: null,
    data: {},
    metadata: {},
    node: 'n',
  }));

  it('returns everything and no cursor when at most the page size came back', () => {
    expect(nextPage(events, { limit: 3 })).toEqual({ events, nextCursor: undefined });
    expect(nextPage([], { limit: 1 })).toEqual({ events: [], nextCursor: undefined });
  });

  it('drops the extra row and points the cursor at the last event kept', () => {
    const page = nextPage(events, { limit: 2, order: 'desc' });
    expect(page.events.map((e) => e.id)).toEqual(['e3', 'e5']);
    expect(decodeCursor(page.nextCursor)).toEqual({ position: 5, order: 'desc' });
    expect(decodeCursor(nextPage(events, { limit: 1 }).nextCursor)).toEqual({ position: 3, order: 'asc' });
  });
});
