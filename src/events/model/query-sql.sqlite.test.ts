import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIXTURE_SEEDS,
  HANDWRITTEN_AGGREGATES,
  HANDWRITTEN_QUERIES,
  aggregateArb,
  allPages,
  eventsArb,
  memoryGroups,
  memoryPages,
  queryArb,
  storedFrom,
} from '../../../test/helpers/event-query-cases.js';
import { EVENTS_MIGRATIONS } from '../stores/migrations.js';
import { nextPage } from './query-page.js';
import { compileAggregate, compileQuery } from './query-sql.js';
import { validateAggregate, validateQuery } from './query-validate.js';
import type { AggregateGroup, AggregateQuery, EventQuery, QueryPage, StoredEvent } from './types.js';

interface Row {
  position: number;
  id: string;
  type: string;
  stream: string | null;
  stream_version: number | null;
  time: number;
  monotonic: number;
  correlation_id: string | null;
  causation_id: string | null;
  parent_id: string | null;
  data: string;
  metadata: string;
  node: string;
}

function toEvent(r: Row): StoredEvent {
  return {
    id: r.id,
    type: r.type,
    stream: r.stream,
    streamVersion: r.stream_version,
    position: r.position,
    time: r.time,
    monotonic: r.monotonic,
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    parentId: r.parent_id,
    data: JSON.parse(r.data) as StoredEvent['data'],
    metadata: JSON.parse(r.metadata) as StoredEvent['metadata'],
    node: r.node,
  };
}

const db = new Database(':memory:');

function load(events: readonly StoredEvent[]): void {
  const insert = db.prepare(
    `INSERT INTO foundation_events (position, id, type, stream, stream_version, time, monotonic, correlation_id,
       causation_id, parent_id, data, metadata, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    db.exec('DELETE FROM foundation_events');
    for (const e of events) {
      insert.run(
        e.position,
        e.id,
        e.type,
        e.stream,
        e.streamVersion,
        e.time,
        e.monotonic,
        e.correlationId,
        e.causationId,
        e.parentId,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata),
        e.node,
      );
    }
  })();
}

function sqlPage(query: EventQuery): QueryPage {
  const c = compileQuery(query, 'sqlite');
  const rows = db
    .prepare(`SELECT * FROM foundation_events WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT ?`)
    .all(...c.params, c.limit) as Row[];
  return nextPage(rows.map(toEvent), query);
}

function sqlGroups(query: AggregateQuery): AggregateGroup[] {
  const c = compileAggregate(query, 'sqlite');
  return db
    .prepare(`SELECT ${c.select} FROM foundation_events WHERE ${c.where} GROUP BY ${c.groupBy}`)
    .all(...c.params) as AggregateGroup[];
}

beforeAll(() => {
  const v1 = EVENTS_MIGRATIONS[0];
  if (v1 === undefined) throw new Error('no events migration');
  db.exec(v1.sqlite);
});

afterAll(() => {
  db.close();
});

describe('compileQuery on SQLite agrees with runQuery', () => {
  const fixture = storedFrom(FIXTURE_SEEDS, [0, 2, 0, 1]);

  it.each(HANDWRITTEN_QUERIES.map((q) => [JSON.stringify(q), q] as const))('%s', async (_name, input) => {
    load(fixture);
    const query = validateQuery(input);
    const expected = await memoryPages(fixture, query);
    expect(await allPages(query, sqlPage)).toEqual(expected);
  });

  it('returns the expected events for a few queries (the reference itself is checked)', () => {
    load(fixture);
    const ids = (input: Record<string, unknown>) => sqlPage(validateQuery(input)).events.map((e) => e.id);
    expect(ids({ where: [{ path: 'data.a', op: 'eq', value: 1 }] })).toEqual(['e-0']);
    expect(ids({ where: [{ path: 'data.a', op: 'eq', value: true }] })).toEqual(['e-3']);
    expect(ids({ where: [{ path: 'data.a', op: 'eq', value: null }] })).toEqual(['e-4']);
    expect(ids({ where: [{ path: 'data.0', op: 'exists' }] })).toEqual(['e-6']);
    expect(ids({ types: ['order.*'] })).toEqual(['e-0', 'e-1', 'e-6', 'e-8', 'e-9', 'e-10', 'e-11']);
    expect(ids({ where: [{ path: 'data.s', op: 'gt', value: '\uE000' }] })).toEqual(['e-8']);
  });

  it.each(HANDWRITTEN_AGGREGATES.map((q) => [JSON.stringify(q), q] as const))(
    'aggregate %s',
    (_name, input) => {
      load(fixture);
      const query = validateAggregate(input);
      expect(sqlGroups(query)).toEqual(memoryGroups(fixture, query));
    },
  );

  it('property: random events and random queries give the same pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.array(queryArb, { minLength: 1, maxLength: 4 }),
        async (events, queries) => {
          load(events);
          for (const query of queries) {
            expect(await allPages(query, sqlPage)).toEqual(await memoryPages(events, query));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: random aggregations give the same groups', () => {
    fc.assert(
      fc.property(eventsArb, fc.array(aggregateArb, { minLength: 1, maxLength: 3 }), (events, queries) => {
        load(events);
        for (const query of queries) expect(sqlGroups(query)).toEqual(memoryGroups(events, query));
      }),
      { numRuns: 100 },
    );
  });

  it('uses the (type, position) index for an exact type and a prefix', () => {
    const plan = (input: Record<string, unknown>) => {
      const c = compileQuery(validateQuery(input), 'sqlite');
      const rows = db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT * FROM foundation_events WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT ?`,
        )
        .all(...c.params, c.limit) as { detail: string }[];
      return rows.map((r) => r.detail).join('\n');
    };
    expect(plan({ types: ['order.created'] })).toContain('foundation_events_type_position');
    expect(plan({ types: ['order.*'] })).toContain('foundation_events_type_position');
    expect(plan({ correlationId: 'c1' })).toContain('foundation_events_correlation_position');
  });
});
