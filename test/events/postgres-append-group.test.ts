/**
 * Append groups on PostgreSQL, through the adapter's port: the one-statement path for groups that go through
 * whole, the transactional path for groups with a failing request (each request judged on its own, nothing
 * of a failed one written, no trace of the refused one-statement attempt), idempotent retries and id
 * conflicts, and JSON round trips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendOutcome } from '../../src/events/model/port.js';
import { createTestSchema, describePg, pgExec, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

function errorCode(outcome: AppendOutcome | undefined): string | undefined {
  return outcome?.ok === false ? outcome.error.code : undefined;
}

describePg('PostgresEventStore append groups', () => {
  let schema: TestSchema;
  let open: OpenStore;

  beforeAll(async () => {
    schema = await createTestSchema();
    open = await openPgStore(schema.url);
  });

  afterAll(async () => {
    await open.close();
    await schema.drop();
  });

  const streamRow = async (stream: string): Promise<unknown[]> => {
    const sql = `SELECT version::int AS version FROM "${schema.schema}".foundation_streams WHERE stream = $1`;
    const result = await pgExec(sql, [stream]);
    return result.rows as unknown[];
  };

  describe('a group where every request succeeds', () => {
    it('stores every event with positions in request order and contiguous stream versions', async () => {
      const requests = Array.from({ length: 30 }, (_, i) =>
        appendRequest(i % 3 === 2 ? [preparedEvent(null, i)] : [preparedEvent(`g-${i % 3}`, i)]),
      );
      const outcomes = await open.store.append(requests);
      const events = outcomes.flatMap((o) => storedEvents(o));
      const positions = events.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(new Set(positions).size).toBe(30);
      expect(events.filter((e) => e.stream === 'g-0').map((e) => e.streamVersion)).toEqual(
        Array.from({ length: 10 }, (_, k) => k + 1),
      );
      expect(events.filter((e) => e.stream === null).map((e) => e.streamVersion)).toEqual(
        Array(10).fill(null),
      );
      expect(await open.store.streamVersion('g-1')).toBe(10);
      const read = await open.store.readAll({ afterPosition: 0, limit: 100 });
      expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it('checks expected versions against the earlier requests of the same group', async () => {
      const outcomes = await open.store.append([
        appendRequest([preparedEvent('chain', 1), preparedEvent('chain', 2)], 'no_stream'),
        appendRequest([preparedEvent('chain', 3)], 2),
        appendRequest([preparedEvent('chain', 4)], 'stream_exists'),
      ]);
      expect(outcomes.flatMap((o) => storedEvents(o).map((e) => e.streamVersion))).toEqual([1, 2, 3, 4]);
      expect(await open.store.streamVersion('chain')).toBe(4);
    });
  });

  describe('a group with a failing request', () => {
    it('fails that request alone and writes the others', async () => {
      const first = appendRequest([preparedEvent('mixed', 1)], 'no_stream');
      const outcomes = await open.store.append([
        first,
        appendRequest([preparedEvent('mixed', 2)], 'no_stream'),
        appendRequest([preparedEvent('mixed-other', 3)]),
        appendRequest([preparedEvent('mixed', 4)], 1),
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
      const conflict = outcomes[1];
      expect(errorCode(conflict)).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(conflict?.ok === false && conflict.error.context).toEqual({
        stream: 'mixed',
        expected: 'no_stream',
        actual: 1,
      });
      // The refused one-statement attempt left nothing behind: versions count only what was written.
      expect(await open.store.streamVersion('mixed')).toBe(2);
      expect(await open.store.streamVersion('mixed-other')).toBe(1);
      const mixed = await open.store.readStream('mixed', { from: 1, direction: 'forward', limit: 10 });
      expect(mixed.map((e) => e.data)).toEqual([{ n: 1 }, { n: 4 }]);
      expect(mixed.map((e) => e.streamVersion)).toEqual([1, 2]);
    });

    it('leaves no stream row for a new stream whose only request failed', async () => {
      const [outcome] = await open.store.append([appendRequest([preparedEvent('ghost', 1)], 5)]);
      expect(errorCode(outcome)).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(await open.store.streamVersion('ghost')).toBe(0);
      expect(await streamRow('ghost')).toEqual([]);
      const [mixedGroup] = await open.store.append([
        appendRequest([preparedEvent('ghost-2', 1)], 'stream_exists'),
        appendRequest([preparedEvent('ghost-3', 1)]),
      ]);
      expect(errorCode(mixedGroup)).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(await streamRow('ghost-2')).toEqual([]);
      expect(await streamRow('ghost-3')).toEqual([{ version: 1 }]);
    });
  });

  describe('ids already stored', () => {
    it('answers a retry with the stored events, idempotently, whatever the expected version', async () => {
      const events = [preparedEvent('retry', 1), preparedEvent('retry', 2)];
      const [first] = await open.store.append([appendRequest(events, 'no_stream')]);
      const [again] = await open.store.append([appendRequest(events, 'no_stream')]);
      expect(again?.ok === true && again.idempotent).toBe(true);
      expect(storedEvents(again).map((e) => [e.position, e.streamVersion])).toEqual(
        storedEvents(first).map((e) => [e.position, e.streamVersion]),
      );
      expect(await open.store.streamVersion('retry')).toBe(2);
    });

    it('answers a repeat within one group idempotently, pointing at the event written by the group', async () => {
      const event = preparedEvent('repeat', 1);
      const [a, b] = await open.store.append([appendRequest([event]), appendRequest([event])]);
      expect([a?.ok === true && a.idempotent, b?.ok === true && b.idempotent]).toEqual([false, true]);
      expect(storedEvents(b)[0]?.position).toBe(storedEvents(a)[0]?.position);
      expect(await open.store.streamVersion('repeat')).toBe(1);
    });

    it('refuses other content and partial batches with FND_EVENTS_ID_CONFLICT and writes nothing', async () => {
      const stored = preparedEvent('ids', 1);
      await open.store.append([appendRequest([stored])]);
      const changed = { ...stored, data: { n: 2 }, dataJson: '{"n":2}' };
      const fresh = preparedEvent('ids', 3);
      const outcomes = await open.store.append([appendRequest([changed]), appendRequest([stored, fresh])]);
      expect(outcomes.map(errorCode)).toEqual(['FND_EVENTS_ID_CONFLICT', 'FND_EVENTS_ID_CONFLICT']);
      expect(await open.store.get(fresh.id)).toBeUndefined();
      expect((await open.store.get(stored.id))?.data).toEqual({ n: 1 });
      expect(await open.store.streamVersion('ids')).toBe(1);
    });
  });

  it('round-trips JSON data and metadata, and every column', async () => {
    const base = preparedEvent('json', 1);
    const data = {
      nested: { list: [1, 2.5, -3e-7, 'x', null, true], 'k-ey': 'é 🎉 "quoted" \\ back' },
      big: 2 ** 52,
    };
    const metadata = { source: 'test', tags: ['a', 'b'] };
    const event = {
      ...base,
      correlationId: 'corr-1',
      causationId: 'cause-1',
      parentId: 'parent-1',
      data,
      metadata,
      dataJson: JSON.stringify(data),
      metadataJson: JSON.stringify(metadata),
    };
    const [outcome] = await open.store.append([appendRequest([event])]);
    const written = storedEvents(outcome)[0];
    const read = await open.store.get(event.id);
    expect(read).toEqual(written);
    expect(read).toMatchObject({
      id: event.id,
      type: 'test.appended',
      stream: 'json',
      streamVersion: 1,
      time: event.time,
      monotonic: event.monotonic,
      correlationId: 'corr-1',
      causationId: 'cause-1',
      parentId: 'parent-1',
      data,
      metadata,
      node: 'test-node',
    });
    expect(typeof read?.position).toBe('number');
    expect(await open.store.byCorrelation('corr-1', 10)).toEqual([read]);
  });
});
