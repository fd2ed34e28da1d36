/**
 * The fast append statements on PostgreSQL, through the adapter's port: every column of every event comes
 * back as appended whether a column's value is shared by the whole group (sent once) or not, for groups in
 * one stream (their own statement), in several streams and without streams; positions follow the group's
 * order; the stream versions are contiguous; a stored id and a failed expected version still fall back to the
 * transactional path.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, describePg, pgTestUrl, type TestSchema } from '../../../test/helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  storedEvents,
  type OpenStore,
} from '../../../test/events/postgres-fixtures.js';
import type { AppendRequest, PreparedEvent } from '../model/port.js';
import type { StoredEvent } from '../model/types.js';
import {
  fastAppendStatement,
  FAST_APPEND_SQL,
  FAST_APPEND_STREAM_SQL,
  fastOutcomes,
  quoteElement,
  textArray,
} from './postgres-fast-append.js';

/** Stream names, nodes and ids an array literal must quote or escape. */
const AWKWARD = 'q "x" \\ {a,b} NULL';

/** One event's varying columns, each drawn from a tiny set so that groups share them or not. */
const eventShape: fc.Arbitrary<Shape> = fc.record({
  type: fc.constantFrom('a.one', 'a.two'),
  time: fc.constantFrom(1_000, 2_000),
  monotonic: fc.constantFrom(0.5, 7.25),
  correlationId: fc.constantFrom(null, 'c-1', 'c-2'),
  causationId: fc.constantFrom(null, 'k-1'),
  parentId: fc.constantFrom(null, 'p-1'),
  metadata: fc.constantFrom({}, { source: 'web' }),
  node: fc.constantFrom('n-1', 'n-2', AWKWARD),
  n: fc.integer({ min: 0, max: 1000 }),
});

/** The varying columns of one test event. */
interface Shape {
  readonly type: string;
  readonly time: number;
  readonly monotonic: number;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly parentId: string | null;
  readonly metadata: Record<string, string>;
  readonly n: number;
  readonly node: string;
}

function eventOf(shape: Shape, stream: string | null, id: string): PreparedEvent {
  const data = { n: shape.n };
  return {
    id,
    type: shape.type,
    stream,
    time: shape.time,
    monotonic: shape.monotonic,
    correlationId: shape.correlationId,
    causationId: shape.causationId,
    parentId: shape.parentId,
    data,
    metadata: shape.metadata,
    dataJson: JSON.stringify(data),
    metadataJson: JSON.stringify(shape.metadata),
    node: shape.node,
  };
}

/** The columns a stored event must have kept from its prepared event. */
function kept(event: PreparedEvent | StoredEvent) {
  const { id, type, stream, time, monotonic, correlationId, causationId, parentId, data, metadata, node } =
    event;
  return { id, type, stream, time, monotonic, correlationId, causationId, parentId, data, metadata, node };
}

/** One plain event shape of the unit tests below (one type, no correlation, empty metadata). */
const PLAIN: Shape = {
  type: 'a.one',
  time: 1,
  monotonic: 1,
  correlationId: null,
  causationId: null,
  parentId: null,
  metadata: {},
  node: 'n',
  n: 1,
};

describe('fastAppendStatement', () => {
  const event = (stream: string | null, id: string, shape: Partial<Shape> = {}): PreparedEvent =>
    eventOf({ ...PLAIN, ...shape }, stream, id);

  it('sends a column shared by the whole group once, and the others in full', () => {
    const fast = fastAppendStatement(
      [appendRequest([event('s', 'a', { correlationId: 'c' }), event('s', 'b', { correlationId: 'd' })])],
      'ch',
    );
    expect(fast?.statement.text).toBe(FAST_APPEND_STREAM_SQL);
    const values = fast?.values ?? [];
    expect(values[7]).toBe('{"a.one"}');
    expect(values[8]).toBe('{"s"}');
    expect(values[9]).toBe('{}');
    expect(values[12]).toBe('{"c","d"}');
    expect(values[16]).toBe('[{}]');
  });

  it('takes the general statement for several streams, events without a stream, or a check on another stream', () => {
    const twoStreams = [appendRequest([event('s', 'a'), event('t', 'b')])];
    expect(fastAppendStatement(twoStreams, 'ch')?.statement.text).toBe(FAST_APPEND_SQL);
    const streamless = [appendRequest([event('s', 'a')]), appendRequest([event(null, 'b')])];
    expect(fastAppendStatement(streamless, 'ch')?.statement.text).toBe(FAST_APPEND_SQL);
    const mismatched: AppendRequest = {
      events: [event('s', 'a'), event('s', 'b')],
      expectedVersion: 0,
      stream: 't',
    };
    expect(fastAppendStatement([mismatched], 'ch')?.statement.text).toBe(FAST_APPEND_SQL);
  });
});

describe('fastAppendStatement ids', () => {
  const event = (id: string): PreparedEvent => eventOf(PLAIN, 's', id);

  it('takes ids in any order, and refuses one id twice in the group, in one request or across requests', () => {
    expect(fastAppendStatement([appendRequest([event('b'), event('a'), event('c')])], 'ch')?.values[2]).toBe(
      '{"b","a","c"}',
    );
    expect(fastAppendStatement([appendRequest([event('b'), event('a'), event('b')])], 'ch')).toBeUndefined();
    expect(
      fastAppendStatement([appendRequest([event('a'), event('b')]), appendRequest([event('a')])], 'ch'),
    ).toBeUndefined();
  });
});

describe('fastOutcomes', () => {
  const event = (stream: string | null, id: string): PreparedEvent => eventOf(PLAIN, stream, id);
  const group = [appendRequest([event('s', 'a'), event(null, 'b')]), appendRequest([event('t', 'c')])];
  const answered = (outcomes: ReturnType<typeof fastOutcomes>) =>
    outcomes.map((outcome) => storedEvents(outcome).map((e) => [e.id, e.position, e.streamVersion]));

  it('reads positions and versions from their lists, in event order', () => {
    const row = { first_position: '7', positions: '7,9,12', first_version: null, versions: '3,,1' };
    expect(answered(fastOutcomes(group, row))).toEqual([
      [
        ['a', 7, 3],
        ['b', 9, null],
      ],
      [['c', 12, 1]],
    ]);
  });

  it('counts on from the first position and version when the lists are left out', () => {
    const row = { first_position: '40', positions: null, first_version: '5', versions: null };
    expect(answered(fastOutcomes(group, row))).toEqual([
      [
        ['a', 40, 5],
        ['b', 41, 6],
      ],
      [['c', 42, 7]],
    ]);
    const streamless = { first_position: '8', positions: null, first_version: null, versions: null };
    expect(answered(fastOutcomes([appendRequest([event(null, 'd')])], streamless))).toEqual([
      [['d', 8, null]],
    ]);
  });
});

describePg('array literals of the fast statements', () => {
  const client = new pg.Client({ connectionString: pgTestUrl() });

  beforeAll(async () => {
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
  });

  it('property: PostgreSQL reads back every text, NULL and number as written', async () => {
    // PostgreSQL text holds any character but U+0000.
    const text = fc.string({ unit: 'binary', maxLength: 12 }).map((t) => t.replaceAll('\u0000', ''));
    const element = fc.oneof(
      text,
      fc.constantFrom('', 'NULL', 'null', ' ', '"', '\\', '{}', ',', AWKWARD),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(element, { maxLength: 8 }),
        fc.array(fc.integer(), { maxLength: 8 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 }),
        async (texts, integers, doubles) => {
          const result = await client.query('SELECT $1::text[] AS t, $2::bigint[] AS i, $3::float8[] AS d', [
            textArray(texts, (t) => (t === null ? 'NULL' : quoteElement(t))),
            textArray(integers, String),
            textArray(doubles, String),
          ]);
          const row = result.rows[0] as { t: (string | null)[]; i: string[]; d: number[] };
          expect(row.t).toEqual(texts);
          expect(row.i.map(Number)).toEqual(integers);
          expect(row.d).toEqual(doubles.map((d) => (Object.is(d, -0) ? 0 : d)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describePg('PostgresEventStore fast append statements', () => {
  let schema: TestSchema;
  let open: OpenStore;
  let ids = 0;

  beforeAll(async () => {
    schema = await createTestSchema();
    open = await openPgStore(schema.url);
  });

  afterAll(async () => {
    await open.close();
    await schema.drop();
  });

  it('store every column of every event as appended, in group order', async () => {
    const group = fc.array(
      fc.record({
        stream: fc.constantFrom<string | null>('x', 'y', AWKWARD, 'NULL', null),
        shapes: fc.array(eventShape, { minLength: 1, maxLength: 5 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(group, async (requests) => {
        const run = ids++;
        const built = requests.map(({ stream, shapes }) =>
          appendRequest(
            shapes.map((shape) =>
              eventOf(shape, stream === null ? null : `${stream}-${String(run)}`, `fast-${String(ids++)}`),
            ),
          ),
        );
        const outcomes = await open.store.append(built);
        const stored = outcomes.flatMap((outcome) => storedEvents(outcome));
        const prepared = built.flatMap((request) => request.events);
        expect(stored.map(kept)).toEqual(prepared.map(kept));
        const positions = stored.map((e) => e.position);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        const read = await Promise.all(stored.map((e) => open.store.get(e.id)));
        expect(read).toEqual(stored);
        const byStream = new Map<string, number[]>();
        for (const e of stored) {
          if (e.stream === null) expect(e.streamVersion).toBeNull();
          else byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.streamVersion ?? -1]);
        }
        for (const versions of byStream.values()) {
          expect(versions).toEqual(Array.from({ length: versions.length }, (_, k) => k + 1));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('fall back to the transactional path for a stored id and for an expected version not met', async () => {
    const shape = PLAIN;
    const first = [eventOf(shape, 'fb', 'fb-1'), eventOf(shape, 'fb', 'fb-2')];
    const appended = storedEvents((await open.store.append([appendRequest(first)]))[0]);
    const again = await open.store.append([appendRequest(first)]);
    expect(again[0]).toEqual({ ok: true, idempotent: true, events: appended });
    const late = await open.store.append([appendRequest([eventOf(shape, 'fb', 'fb-3')], 0)]);
    expect(late[0]?.ok === false ? late[0].error.code : undefined).toBe('FND_EVENTS_VERSION_CONFLICT');
    expect(await open.store.streamVersion('fb')).toBe(2);
  });
});
