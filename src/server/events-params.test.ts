import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/index.js';
import { parseAppendBody } from './events-routes.js';
import {
  aggregateFromParams,
  eventQueryFromParams,
  MAX_WHERE_CHARS,
  streamReadFromParams,
} from './events-params.js';

const CID = 'corr-1';

describe('event query parameters', () => {
  it('maps every parameter of GET /api/events to the query object', () => {
    expect(
      eventQueryFromParams(
        {
          types: 'order.*, user.created',
          stream: 'order-1',
          correlationId: 'c-9',
          from: '2025-01-31T00:00:00Z',
          to: '1738368000000',
          where: '[{"path":"data.total","op":"gt","value":10}]',
          order: 'desc',
          limit: '25',
          cursor: 'abc',
        },
        CID,
      ),
    ).toEqual({
      types: ['order.*', 'user.created'],
      stream: 'order-1',
      correlationId: 'c-9',
      from: Date.UTC(2025, 0, 31),
      to: 1_738_368_000_000,
      where: [{ path: 'data.total', op: 'gt', value: 10 }],
      order: 'desc',
      limit: 25,
      cursor: 'abc',
    });
    expect(eventQueryFromParams({}, CID)).toEqual({});
    // a non-integer limit is passed on for the store's validation to name
    expect(eventQueryFromParams({ limit: '1.5' }, CID)).toEqual({ limit: '1.5' });
  });

  it('refuses unknown, repeated, unparsable and oversized parameters with FND_EVENTS_INVALID_QUERY', () => {
    for (const raw of [
      { nope: '1' },
      { types: ['a.b', 'c.d'] },
      { from: 'yesterday' },
      { to: '2025-02-30T99:00:00Z' },
      { where: '{oops' },
      { where: `[${' '.repeat(MAX_WHERE_CHARS)}]` },
    ]) {
      expect(thrown(() => eventQueryFromParams(raw, CID))).toMatchObject({
        code: 'FND_EVENTS_INVALID_QUERY',
        correlationId: CID,
      });
    }
  });

  it('aggregations need groupBy; stream reads take from, direction and limit only', () => {
    expect(aggregateFromParams({ groupBy: 'time', bucketMs: '60000', types: 'a.*' }, CID)).toEqual({
      groupBy: 'time',
      bucketMs: 60_000,
      filter: { types: ['a.*'] },
    });
    expect(thrown(() => aggregateFromParams({ types: 'a.*' }, CID))).toMatchObject({
      code: 'FND_EVENTS_INVALID_QUERY',
    });
    expect(streamReadFromParams({ from: '3', direction: 'backward', limit: '7' }, CID)).toEqual({
      from: 3,
      direction: 'backward',
      limit: 7,
    });
    expect(thrown(() => streamReadFromParams({ order: 'desc' }, CID))).toMatchObject({
      code: 'FND_EVENTS_INVALID_QUERY',
    });
  });
});

describe('append bodies', () => {
  it('accepts an event, an array, or an envelope with an expected version', () => {
    expect(parseAppendBody({ type: 'a.b' }, CID)).toEqual({ input: { type: 'a.b' }, options: {} });
    expect(parseAppendBody([{ type: 'a.b' }], CID)).toEqual({ input: [{ type: 'a.b' }], options: {} });
    expect(parseAppendBody({ events: [{ type: 'a.b', stream: 's' }], expectedVersion: 2 }, CID)).toEqual({
      input: [{ type: 'a.b', stream: 's' }],
      options: { expectedVersion: 2 },
    });
  });

  it('refuses other shapes with FND_EVENTS_INVALID_EVENT', () => {
    for (const body of [null, undefined, 'text', 3, { events: 'x' }, { events: [], extra: true }]) {
      expect(thrown(() => parseAppendBody(body, CID))).toMatchObject({ code: 'FND_EVENTS_INVALID_EVENT' });
    }
  });
});
