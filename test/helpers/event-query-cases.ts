/**
 * Shared cases for the differential tests of the query DSL (`src/events/model/query-sql.*.test.ts`): a
 * hand-made fixture of stored events, hand-written queries that aim at every operator's corner cases, and
 * fast-check arbitraries of events and queries. The memory evaluation (`runQuery` / `runAggregate`) is the
 * reference; a SQL store must return the same pages and groups.
 *
 * @module
 */
import fc from 'fast-check';
import type { StoredEvent } from '../../src/events/model/types.js';
import { runAggregate, runQuery } from '../../src/events/model/query-memory.js';
import { validateAggregate, validateQuery } from '../../src/events/model/query-validate.js';
import type { AggregateGroup, AggregateQuery, EventQuery, QueryPage } from '../../src/events/model/types.js';

/** Wall time of the first fixture event. */
export const BASE_TIME = 1_700_000_000_000;

const TYPES = [
  'order.created',
  'order.paid',
  'order',
  'orders.created',
  'order-x.created',
  'user.created',
  'a',
];
const STREAMS = [null, 'order-1', 'order-2', 'user-1'];
const CORRELATIONS = [null, 'c1', 'c2'];
const STRINGS = [
  '',
  'a',
  'ab',
  'b',
  'A',
  'é',
  '😀',
  '\uE000',
  'a b',
  '1',
  'true',
  'null',
  'ba',
  'q"uo\\te',
  "it's",
  '{a,b}',
  '%_',
  'NULL',
];
const NUMBERS = [0, 1, 2, -1, 1.5, 100, -0.5, 1e21];
const KEYS = ['a', 'b', 'n', 's', 'tags', 'items', '0', 'x-y'];

/** Scalars found in data and used as operands. */
const scalarArb: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constantFrom(...NUMBERS),
  fc.boolean(),
  fc.constant(null),
);

const jsonArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** What a fixture event is made of before positions are assigned. */
export interface EventSeed {
  readonly type: string;
  readonly stream: string | null;
  readonly correlationId: string | null;
  readonly timeOffset: number;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

/** Turns seeds into stored events with increasing (gapped) positions; data goes through JSON once. */
export function storedFrom(seeds: readonly EventSeed[], gaps: readonly number[] = []): StoredEvent[] {
  let position = 0;
  const versions = new Map<string, number>();
  return seeds.map((s, i) => {
    position += 1 + (gaps[i] ?? 0);
    const version = s.stream === null ? null : (versions.get(s.stream) ?? 0) + 1;
    if (s.stream !== null && version !== null) versions.set(s.stream, version);
    return {
      id: `e-${i}`,
      type: s.type,
      stream: s.stream,
      streamVersion: version,
      position,
      time: BASE_TIME + s.timeOffset,
      monotonic: i,
      correlationId: s.correlationId,
      causationId: null,
      parentId: null,
      data: JSON.parse(JSON.stringify(s.data ?? {})) as StoredEvent['data'],
      metadata: JSON.parse(JSON.stringify(s.metadata)) as StoredEvent['metadata'],
      node: 'n1',
    };
  });
}

/** Random event seeds. */
export const seedArb: fc.Arbitrary<EventSeed> = fc.record({
  type: fc.constantFrom(...TYPES),
  stream: fc.constantFrom(...STREAMS),
  correlationId: fc.constantFrom(...CORRELATIONS),
  timeOffset: fc.integer({ min: 0, max: 300_000 }),
  data: jsonArb,
  metadata: fc.dictionary(fc.constantFrom(...KEYS), jsonArb, { maxKeys: 3 }),
});

/** Random lists of stored events (positions with random gaps). */
export const eventsArb: fc.Arbitrary<StoredEvent[]> = fc
  .array(fc.tuple(seedArb, fc.nat({ max: 3 })), { maxLength: 25 })
  .map((pairs) =>
    storedFrom(
      pairs.map(([s]) => s),
      pairs.map(([, g]) => g),
    ),
  );

const PATHS = [
  'data.a',
  'data.b',
  'data.n',
  'data.s',
  'data.tags',
  'data.items.0',
  'data.items.1.a',
  'data.a.b',
  'data.0',
  'data.a.0',
  'data.x-y',
  'metadata.a',
  'metadata.tags.0',
];

const predicateArb = fc.oneof(
  fc.record({
    path: fc.constantFrom(...PATHS),
    op: fc.constantFrom('eq', 'ne', 'contains'),
    value: scalarArb,
  }),
  fc.record({
    path: fc.constantFrom(...PATHS),
    op: fc.constantFrom('gt', 'gte', 'lt', 'lte'),
    value: fc.oneof(fc.constantFrom(...STRINGS), fc.constantFrom(...NUMBERS)),
  }),
  fc.record({
    path: fc.constantFrom(...PATHS),
    op: fc.constant('in'),
    value: fc.array(scalarArb, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('exists'), value: fc.boolean() }),
);

const filterArb = fc.record(
  {
    types: fc.array(
      fc.constantFrom('*', 'order.*', 'order', 'order.created', 'orders.*', 'user.*', 'a', 'order-x.*'),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    stream: fc.constantFrom('order-1', 'order-2', 'user-1'),
    correlationId: fc.constantFrom('c1', 'c2'),
    from: fc.integer({ min: 0, max: 200_000 }).map((n) => BASE_TIME + n),
    where: fc.array(predicateArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

/** Random valid query inputs (validated with `validateQuery`). */
export const queryArb: fc.Arbitrary<EventQuery> = fc
  .tuple(
    filterArb,
    fc.constantFrom('asc', 'desc'),
    fc.integer({ min: 1, max: 7 }),
    fc.option(fc.integer({ min: 1, max: 300_000 })),
  )
  .map(([filter, order, limit, span]) => {
    const to = span === null ? undefined : (filter.from ?? BASE_TIME) + span;
    return validateQuery({ ...filter, ...(to === undefined ? {} : { to }), order, limit });
  });

/** Random valid aggregations. */
export const aggregateArb: fc.Arbitrary<AggregateQuery> = fc
  .tuple(filterArb, fc.constantFrom('type', 'time'), fc.constantFrom(1000, 60_000, 7_000))
  .map(([filter, groupBy, bucketMs]) =>
    validateAggregate({ filter, groupBy, ...(groupBy === 'time' ? { bucketMs } : {}) }),
  );

/** A hand-made fixture aimed at the corner cases of every operator. */
export const FIXTURE_SEEDS: readonly EventSeed[] = [
  {
    type: 'order.created',
    stream: 'order-1',
    correlationId: 'c1',
    timeOffset: 0,
    data: { a: 1, s: 'abc', tags: ['x', 'y', 1, true, null] },
    metadata: { a: 'm' },
  },
  {
    type: 'order.paid',
    stream: 'order-1',
    correlationId: 'c1',
    timeOffset: 1000,
    data: { a: 1.5, s: 'b', n: null },
    metadata: {},
  },
  {
    type: 'order',
    stream: null,
    correlationId: null,
    timeOffset: 59_999,
    data: { a: '1', s: 'ABC', b: true },
    metadata: { a: 1 },
  },
  {
    type: 'orders.created',
    stream: 'order-2',
    correlationId: 'c2',
    timeOffset: 60_000,
    data: { a: true, b: false, items: [{ a: 1 }, { a: 2 }] },
    metadata: {},
  },
  {
    type: 'order-x.created',
    stream: 'order-2',
    correlationId: 'c2',
    timeOffset: 61_000,
    data: { a: null, items: [5, 'five'] },
    metadata: { tags: ['t'] },
  },
  {
    type: 'user.created',
    stream: 'user-1',
    correlationId: 'c1',
    timeOffset: 120_000,
    data: { a: { b: 2, 0: 'zero' }, '0': 'key0' },
    metadata: {},
  },
  {
    type: 'order.created',
    stream: 'order-2',
    correlationId: null,
    timeOffset: 180_000,
    data: [1, 2, 3],
    metadata: {},
  },
  { type: 'a', stream: null, correlationId: 'c1', timeOffset: 180_001, data: 'just a string', metadata: {} },
  {
    type: 'order.created',
    stream: 'order-1',
    correlationId: 'c2',
    timeOffset: 240_000,
    data: { s: '😀', tags: 'x y', a: 100 },
    metadata: { a: null },
  },
  {
    type: 'order.created',
    stream: 'order-1',
    correlationId: 'c2',
    timeOffset: 240_500,
    data: { s: '\uE000', a: -1, 'x-y': 'dash' },
    metadata: {},
  },
  {
    type: 'order.paid',
    stream: null,
    correlationId: null,
    timeOffset: 300_000,
    data: { s: '', a: 0, tags: [] },
    metadata: {},
  },
  {
    type: 'order.paid',
    stream: null,
    correlationId: null,
    timeOffset: 300_001,
    data: { a: 1e21, s: 'é', tags: [[1], { a: 1 }] },
    metadata: {},
  },
  {
    type: 'user.created',
    stream: 'user-1',
    correlationId: 'c1',
    timeOffset: 300_002,
    data: { s: 'q"uo\\te', tags: ['{a,b}', "it's", 'NULL'], a: 'NULL' },
    metadata: { a: '{a,b}' },
  },
];

/** Hand-written query inputs (before validation). */
export const HANDWRITTEN_QUERIES: readonly Record<string, unknown>[] = [
  {},
  { order: 'desc' },
  { types: ['order.*'] },
  { types: ['order'] },
  { types: ['order.*', 'a'] },
  { types: ['*'] },
  { types: ['orders.*', 'user.*'] },
  { types: ['order-x.*'] },
  { stream: 'order-1' },
  { correlationId: 'c2' },
  { from: BASE_TIME + 1000, to: BASE_TIME + 180_001 },
  { from: new Date(BASE_TIME).toISOString(), to: new Date(BASE_TIME + 60_000).toISOString() },
  { where: [{ path: 'data.a', op: 'eq', value: 1 }] },
  { where: [{ path: 'data.a', op: 'eq', value: '1' }] },
  { where: [{ path: 'data.a', op: 'eq', value: true }] },
  { where: [{ path: 'data.a', op: 'eq', value: null }] },
  { where: [{ path: 'data.a', op: 'ne', value: 1 }] },
  { where: [{ path: 'data.a', op: 'ne', value: null }] },
  { where: [{ path: 'data.a', op: 'gt', value: 1 }] },
  { where: [{ path: 'data.a', op: 'gte', value: 1 }] },
  { where: [{ path: 'data.a', op: 'lt', value: 1.5 }] },
  { where: [{ path: 'data.a', op: 'lte', value: 0 }] },
  { where: [{ path: 'data.s', op: 'gt', value: 'a' }] },
  { where: [{ path: 'data.s', op: 'lt', value: '\uE000' }] },
  { where: [{ path: 'data.s', op: 'gte', value: '😀' }] },
  { where: [{ path: 'data.s', op: 'lte', value: 'B' }] },
  { where: [{ path: 'data.a', op: 'in', value: [1, '1', null, true] }] },
  { where: [{ path: 'data.a', op: 'in', value: [100, -1] }] },
  { where: [{ path: 'data.s', op: 'contains', value: 'b' }] },
  { where: [{ path: 'data.s', op: 'contains', value: '' }] },
  { where: [{ path: 'data.tags', op: 'contains', value: 'x' }] },
  { where: [{ path: 'data.tags', op: 'contains', value: 1 }] },
  { where: [{ path: 'data.tags', op: 'contains', value: true }] },
  { where: [{ path: 'data.tags', op: 'contains', value: null }] },
  { where: [{ path: 'data.tags', op: 'exists', value: true }] },
  { where: [{ path: 'data.n', op: 'exists', value: true }] },
  { where: [{ path: 'data.n', op: 'exists', value: false }] },
  { where: [{ path: 'data.items.1.a', op: 'eq', value: 2 }] },
  { where: [{ path: 'data.items.0', op: 'eq', value: 5 }] },
  { where: [{ path: 'data.items.0', op: 'exists' }] },
  { where: [{ path: 'data.a.0', op: 'exists' }] },
  { where: [{ path: 'data.0', op: 'exists' }] },
  { where: [{ path: 'data.a.b', op: 'eq', value: 2 }] },
  { where: [{ path: 'data.x-y', op: 'eq', value: 'dash' }] },
  { where: [{ path: 'metadata.a', op: 'exists' }] },
  { where: [{ path: 'metadata.a', op: 'eq', value: null }] },
  { where: [{ path: 'metadata.tags.0', op: 'eq', value: 't' }] },
  {
    types: ['order.*'],
    stream: 'order-1',
    where: [{ path: 'data.a', op: 'gte', value: 1 }],
    order: 'desc',
    limit: 1,
  },
  { where: [{ path: 'data.s', op: 'in', value: ['q"uo\\te', 'NULL', '{a,b}'] }] },
  { where: [{ path: 'data.tags', op: 'contains', value: '{a,b}' }] },
  { where: [{ path: 'data.tags', op: 'contains', value: "it's" }] },
  { where: [{ path: 'data.a', op: 'eq', value: 'NULL' }] },
  { where: [{ path: 'data.s', op: 'contains', value: '"uo\\' }] },
  { where: [{ path: 'metadata.a', op: 'in', value: ['{a,b}', 1] }] },
  { limit: 2 },
  { limit: 3, order: 'desc' },
];

/** Hand-written aggregation inputs (before validation). */
export const HANDWRITTEN_AGGREGATES: readonly Record<string, unknown>[] = [
  { groupBy: 'type' },
  { groupBy: 'time', bucketMs: 60_000 },
  { groupBy: 'time', bucketMs: 1000 },
  { groupBy: 'type', filter: { types: ['order.*'] } },
  { groupBy: 'time', filter: { stream: 'order-1', where: [{ path: 'data.a', op: 'exists' }] } },
];

/** Every page of a query: follows `nextCursor` from page to page with `fetchPage`. */
export async function allPages(
  query: EventQuery,
  fetchPage: (q: EventQuery) => Promise<QueryPage> | QueryPage,
  maxPages = 50,
): Promise<{ ids: string[][]; cursors: (string | undefined)[] }> {
  const ids: string[][] = [];
  const cursors: (string | undefined)[] = [];
  let q = query;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(q);
    ids.push(page.events.map((e) => e.id));
    cursors.push(page.nextCursor);
    if (page.nextCursor === undefined) break;
    q = { ...query, cursor: page.nextCursor };
  }
  return { ids, cursors };
}

/** The reference pages of a query over events. */
export function memoryPages(events: readonly StoredEvent[], query: EventQuery) {
  return allPages(query, (q) => runQuery(events, q));
}

/** The reference groups of an aggregation. */
export function memoryGroups(events: readonly StoredEvent[], query: AggregateQuery): AggregateGroup[] {
  return runAggregate(events, query);
}
