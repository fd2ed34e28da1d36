import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../errors/index.js';
import { rejection } from '../../testing/capture.js';
import { Storage } from '../../storage/index.js';
import { createEventStore } from '../create-event-store.js';
import type { AppendRequest, PreparedEvent } from '../model/port.js';
import type { JsonValue } from '../model/types.js';
import { decodeEvents, encodeEvents, SpoolFile } from './spool-file.js';
import { preparedOf } from '../../../test/helpers/prepared-event.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fnd-spool-file-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function prepared(n: number, data: JsonValue = { n }, extra: Partial<PreparedEvent> = {}): PreparedEvent {
  return {
    ...preparedOf({
      id: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
      type: 'test.counted',
      stream: n % 2 === 0 ? 'even' : null,
      time: 1_700_000_000_000 + n,
      monotonic: n + 0.25,
      correlationId: 'corr',
      causationId: null,
      parentId: null,
      data,
      metadata: { source: 'test' },
      node: 'node-a',
    }),
    ...extra,
  };
}

function request(...events: PreparedEvent[]): AppendRequest {
  return { events, expectedVersion: 'any', stream: null };
}

const always = (): boolean => true;

describe('spool file encoding', () => {
  it('round-trips prepared events, context flags included', () => {
    const events = [
      prepared(1, { text: 'é ü 漢字 \u2028', nested: [1, { a: null }] }),
      prepared(2, null, { correlationIdFromContext: true, causationIdFromContext: true, causationId: 'op' }),
    ];
    expect(decodeEvents(encodeEvents(events))).toEqual(events);
  });

  it('property: any JSON data survives the round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const data = JSON.parse(JSON.stringify(value)) as JsonValue;
        const [back] = decodeEvents(encodeEvents([prepared(1, data)]));
        expect(back?.data).toEqual(data);
        expect(back?.dataJson).toBe(JSON.stringify(data));
      }),
    );
  });
});

describe('SpoolFile', () => {
  it('keeps requests in order across a close and reopen, in WAL mode', async () => {
    const path = join(dir, 'nested', 'spool.db');
    const first = await SpoolFile.open(path);
    const added = first.add([request(prepared(1)), request(prepared(2), prepared(3))], 10, always);
    expect(added.map((a) => a.added)).toEqual([true, true]);
    first.close();

    const journal = new Database(path, { readonly: true });
    expect(journal.pragma('journal_mode', { simple: true })).toBe('wal');
    journal.close();

    const second = await SpoolFile.open(path);
    try {
      expect(second.totals()).toMatchObject({ requests: 2, events: 3, oldestSpooledAt: 10 });
      const head = second.head(10, 100);
      expect(head.map((e) => e.request.events.map((x) => x.id))).toEqual([
        [prepared(1).id],
        [prepared(2).id, prepared(3).id],
      ]);
      expect(head[0]?.seq).toBeLessThan(head[1]?.seq ?? 0);
    } finally {
      second.close();
    }
  });

  it('head stops at maxEvents but always returns the first request', async () => {
    const file = await SpoolFile.open(join(dir, 'spool.db'));
    try {
      file.add([request(prepared(1), prepared(2), prepared(3)), request(prepared(4))], 1, always);
      expect(file.head(10, 2).map((e) => e.events)).toEqual([3]);
      expect(file.head(10, 4).map((e) => e.events)).toEqual([3, 1]);
      expect(file.head(1, 100).map((e) => e.events)).toEqual([3]);
    } finally {
      file.close();
    }
  });

  it('settles a batch: replayed requests leave, refused ones stay as rejected', async () => {
    const file = await SpoolFile.open(join(dir, 'spool.db'));
    try {
      file.add([request(prepared(1)), request(prepared(2)), request(prepared(3))], 1, always);
      const [a, b] = file.head(2, 100);
      file.settle(
        [a?.seq ?? 0],
        [{ seq: b?.seq ?? 0, code: 'FND_EVENTS_ID_CONFLICT', message: 'other content' }],
        5,
      );
      expect(file.totals()).toMatchObject({ requests: 1, events: 1, rejectedRequests: 1, rejectedEvents: 1 });
      expect(file.head(10, 100).map((e) => e.request.events[0]?.id)).toEqual([prepared(3).id]);
      expect(file.rejected(10)).toMatchObject([{ code: 'FND_EVENTS_ID_CONFLICT', rejectedAt: 5 }]);
      expect(file.discardRejected([999])).toBe(0);
      expect(file.discardRejected()).toBe(1);
    } finally {
      file.close();
    }
  });

  it('refuses a file written by a newer spool version and leaves it as it was', async () => {
    const path = join(dir, 'spool.db');
    const file = await SpoolFile.open(path);
    file.add([request(prepared(1))], 1, always);
    file.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();

    const error = await rejection(SpoolFile.open(path));
    expect(isFoundationError(error) && error.code).toBe('FND_STORAGE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/schema 99/);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS n FROM spool_requests').get()).toEqual({ n: 1 });
    check.close();
  });

  it('refuses a path that is not a SQLite file', async () => {
    const error = await rejection(SpoolFile.open(dir));
    expect(isFoundationError(error) && error.code).toBe('FND_STORAGE_UNAVAILABLE');
  });
});

describe('createEventStore spool option', () => {
  it('wraps a PostgreSQL store (nothing connects before start)', () => {
    const storage = new Storage('postgres://postgres@127.0.0.1:1/none');
    const events = createEventStore(storage, { spool: { path: join(dir, 'spool.db') } });
    expect(events.kind).toBe('postgres');
  });

  it('refuses a spool for memory and SQLite stores, and bad spool options', () => {
    for (const [url, spool] of [
      ['memory:', { path: join(dir, 'a.db') }],
      [`sqlite:${join(dir, 'x.db')}`, { path: join(dir, 'a.db') }],
      ['postgres://postgres@127.0.0.1:1/none', { path: join(dir, 'a.db'), maxEvents: -1 }],
    ] as const) {
      let error: unknown;
      try {
        createEventStore(new Storage(url), { spool });
      } catch (caught) {
        error = caught;
      }
      expect(isFoundationError(error) && error.code).toBe('FND_DATA_INVALID_INPUT');
    }
  });
});
