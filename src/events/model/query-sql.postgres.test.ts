import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
import { createTestSchema, describePg, pgTestUrl, type TestSchema } from '../../../test/helpers/postgres.js';
import { EVENTS_MIGRATIONS } from '../stores/migrations.js';
import { nextPage } from './query-page.js';
import { compileAggregate, compileQuery } from './query-sql.js';
import { validateAggregate, validateQuery } from './query-validate.js';
import type { AggregateGroup, AggregateQuery, EventQuery, QueryPage, StoredEvent } from './types.js';

interface Row {
  position: string;
  id: string;
  type: string;
  stream: string | null;
  stream_version: string | null;
  time: string;
  monotonic: number;
  correlation_id: string | null;
  causation_id: string | null;
  parent_id: string | null;
  data: StoredEvent['data'];
  metadata: StoredEvent['metadata'];
  node: string;
}

function toEvent(r: Row): StoredEvent {
  return {
    id: r.id,
    type: r.type,
    stream: r.stream,
    streamVersion: r.stream_version === null ? null : Number(r.stream_version),
    position: Number(r.position),
    time: Number(r.time),
    monotonic: r.monotonic,
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    parentId: r.parent_id,
    data: r.data,
    metadata: r.metadata,
    node: r.node,
  };
}

describePg('compileQuery on PostgreSQL agrees with runQuery', () => {
  let schema: TestSchema;
  let client: pg.Client;

  beforeAll(async () => {
    schema = await createTestSchema();
    client = new pg.Client({ connectionString: pgTestUrl(), options: `-c search_path="${schema.schema}"` });
    await client.connect();
    const v1 = EVENTS_MIGRATIONS[0];
    if (v1 === undefined) throw new Error('no events migration');
    await client.query(v1.postgres);
  });

  afterAll(async () => {
    await client.end();
    await schema.drop();
  });

  async function load(events: readonly StoredEvent[]): Promise<void> {
    await client.query('TRUNCATE foundation_events');
    if (events.length === 0) return;
    const params: unknown[] = [];
    const rows = events.map((e) => {
      const values = [
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
      ];
      const start = params.length;
      params.push(...values);
      return `(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`;
    });
    await client.query(
      `INSERT INTO foundation_events (position, id, type, stream, stream_version, time, monotonic, correlation_id,
         causation_id, parent_id, data, metadata, node) OVERRIDING SYSTEM VALUE VALUES ${rows.join(', ')}`,
      params,
    );
  }

  async function sqlPage(query: EventQuery): Promise<QueryPage> {
    const c = compileQuery(query, 'postgres');
    const result = await client.query<Row>(
      `SELECT * FROM foundation_events WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT $${c.params.length + 1}`,
      [...c.params, c.limit],
    );
    return nextPage(result.rows.map(toEvent), query);
  }

  async function sqlGroups(query: AggregateQuery): Promise<AggregateGroup[]> {
    const c = compileAggregate(query, 'postgres');
    const result = await client.query<{ key: string; count: string }>(
      `SELECT ${c.select} FROM foundation_events WHERE ${c.where} GROUP BY ${c.groupBy}`,
      c.params,
    );
    return result.rows.map((r) => ({
      key: query.groupBy === 'time' ? Number(r.key) : r.key,
      count: Number(r.count),
    }));
  }

  const fixture = storedFrom(FIXTURE_SEEDS, [0, 2, 0, 1]);

  it('agrees on every hand-written query', async () => {
    await load(fixture);
    for (const input of HANDWRITTEN_QUERIES) {
      const query = validateQuery(input);
      expect(await allPages(query, sqlPage), JSON.stringify(input)).toEqual(
        await memoryPages(fixture, query),
      );
    }
  });

  it('agrees on every hand-written aggregation', async () => {
    await load(fixture);
    for (const input of HANDWRITTEN_AGGREGATES) {
      const query = validateAggregate(input);
      expect(await sqlGroups(query), JSON.stringify(input)).toEqual(memoryGroups(fixture, query));
    }
  });

  it('honours paramOffset', async () => {
    await load(fixture);
    const query = validateQuery({ types: ['order.*'], where: [{ path: 'data.a', op: 'gte', value: 1 }] });
    const c = compileQuery(query, 'postgres', { paramOffset: 1 });
    const result = await client.query<{ id: string }>(
      `SELECT id FROM foundation_events WHERE node = $1 AND ${c.where} ORDER BY ${c.orderBy}`,
      ['n1', ...c.params],
    );
    expect(result.rows.map((r) => r.id)).toEqual((await sqlPage(query)).events.map((e) => e.id));
    expect(result.rows.map((r) => r.id)).toEqual(['e-0', 'e-1', 'e-8', 'e-11']);
  });

  it('compiles index-compatible conditions for an exact type, a correlation id and a time range', async () => {
    const plan = async (input: Record<string, unknown>): Promise<string> => {
      const c = compileQuery(validateQuery(input), 'postgres');
      await client.query('SET enable_seqscan = off');
      try {
        const result = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT * FROM foundation_events WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT $${c.params.length + 1}`,
          [...c.params, c.limit],
        );
        return result.rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await client.query('RESET enable_seqscan');
      }
    };
    await load(fixture);
    expect(await plan({ types: ['order.created'] })).toContain('foundation_events_type_position');
    expect(await plan({ types: ['order.*'] })).toContain('foundation_events_type_position');
    expect(await plan({ correlationId: 'c1' })).toContain('foundation_events_correlation_position');
    expect(await plan({ from: 0, to: 10 })).toContain('foundation_events_time');
  });

  it('property: random events and random queries give the same pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.array(queryArb, { minLength: 1, maxLength: 4 }),
        async (events, queries) => {
          await load(events);
          for (const query of queries) {
            expect(await allPages(query, sqlPage)).toEqual(await memoryPages(events, query));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('property: random aggregations give the same groups', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.array(aggregateArb, { minLength: 1, maxLength: 3 }),
        async (events, queries) => {
          await load(events);
          for (const query of queries) expect(await sqlGroups(query)).toEqual(memoryGroups(events, query));
        },
      ),
      { numRuns: 60 },
    );
  });
});
