import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { encodeCursor } from './cursor.js';
import { DEFAULT_BUCKET_MS, validateAggregate, validateQuery } from './query-validate.js';
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from './types.js';

function failure(fn: () => unknown): FoundationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a FoundationError');
}

describe('validateQuery', () => {
  it('fills in order and limit', () => {
    expect(validateQuery({})).toEqual({ order: 'asc', limit: DEFAULT_QUERY_LIMIT });
    expect(validateQuery(undefined)).toEqual({ order: 'asc', limit: DEFAULT_QUERY_LIMIT });
  });

  it('keeps a full valid query', () => {
    const cursor = encodeCursor({ position: 10, order: 'desc' });
    const input = {
      types: ['order.*', 'user.created', '*'],
      stream: 'order-1',
      correlationId: 'corr-1',
      from: 1000,
      to: 2000,
      where: [
        { path: 'data.total', op: 'gte', value: 10 },
        { path: 'data.items.0.sku', op: 'eq', value: 'a' },
        { path: 'metadata.tags', op: 'contains', value: 'x' },
        { path: 'data.status', op: 'in', value: ['new', null, 1, true] },
        { path: 'data.gone', op: 'exists', value: false },
        { path: 'data.x-y_Z', op: 'ne', value: null },
      ],
      order: 'desc',
      limit: MAX_QUERY_LIMIT,
      cursor,
    };
    expect(validateQuery(input)).toEqual(input);
  });

  it('converts conveniences: a single type, ISO dates and decimal strings', () => {
    expect(
      validateQuery({ types: 'order.*', from: '2024-01-01T00:00:00Z', to: '2024-01-02', limit: '5' }),
    ).toEqual({
      types: ['order.*'],
      from: Date.parse('2024-01-01T00:00:00Z'),
      to: Date.parse('2024-01-02'),
      order: 'asc',
      limit: 5,
    });
    expect(validateQuery({ from: '1000' }).from).toBe(1000);
    expect(validateQuery({ from: new Date(5000), to: new Date(6000) })).toMatchObject({
      from: 5000,
      to: 6000,
    });
    expect(validateQuery({ where: [{ path: 'data.a', op: 'exists' }] }).where).toEqual([
      { path: 'data.a', op: 'exists', value: true },
    ]);
  });

  it.each<[string, unknown]>([
    ['query', 'types=order'],
    ['query', []],
    ['unknown', { unknown: 1 }],
    ['types', { types: [] }],
    ['types', { types: Array.from({ length: 21 }, () => 'a') }],
    ['types[0]', { types: ['Order'] }],
    ['types[0]', { types: ['order.'] }],
    ['types[1]', { types: ['a', 'order*'] }],
    ['types[0]', { types: ['*.created'] }],
    ['types[0]', { types: [5] }],
    ['stream', { stream: '' }],
    ['stream', { stream: 'a\nb' }],
    ['correlationId', { correlationId: 'a b' }],
    ['from', { from: -1 }],
    ['from', { from: 1.5 }],
    ['from', { from: 'yesterday' }],
    ['from', { from: new Date(Number.NaN) }],
    ['from', { from: '2024-13-45' }],
    ['to', { to: Number.POSITIVE_INFINITY }],
    ['to', { from: 10, to: 10 }],
    ['where', { where: {} }],
    ['where', { where: Array.from({ length: 21 }, () => ({ path: 'data.a', op: 'exists' })) }],
    ['where[0]', { where: ['data.a'] }],
    ['where[0].x', { where: [{ path: 'data.a', op: 'eq', value: 1, x: 1 }] }],
    ['where[0].path', { where: [{ path: 'data', op: 'exists' }] }],
    ['where[0].path', { where: [{ path: 'other.a', op: 'exists' }] }],
    ['where[0].path', { where: [{ path: 'data.a b', op: 'exists' }] }],
    ['where[0].path', { where: [{ path: 'data..a', op: 'exists' }] }],
    ['where[0].path', { where: [{ path: 'data.01', op: 'exists' }] }],
    ['where[0].path', { where: [{ path: `data${'.a'.repeat(17)}`, op: 'exists' }] }],
    ['where[0].op', { where: [{ path: 'data.a', op: 'like', value: 'x' }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'eq' }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'eq', value: {} }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'eq', value: Number.NaN }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'eq', value: 'x'.repeat(1001) }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'eq', value: 'a\u0000' }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'gt', value: true }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'lte', value: null }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'in', value: [] }] }],
    ['where[0].value', { where: [{ path: 'data.a', op: 'in', value: 1 }] }],
    ['where[0].value[1]', { where: [{ path: 'data.a', op: 'in', value: [1, [2]] }] }],
    [
      'where[0].value',
      { where: [{ path: 'data.a', op: 'in', value: Array.from({ length: 101 }, () => 1) }] },
    ],
    ['where[0].value', { where: [{ path: 'data.a', op: 'exists', value: 'yes' }] }],
    ['order', { order: 'up' }],
    ['limit', { limit: 0 }],
    ['limit', { limit: MAX_QUERY_LIMIT + 1 }],
    ['limit', { limit: 1.5 }],
    ['limit', { limit: 'ten' }],
  ])('rejects %s: %j', (field, input) => {
    const error = failure(() => validateQuery(input));
    expect(error.code).toBe('FND_EVENTS_INVALID_QUERY');
    expect(error.context).toMatchObject({ field });
  });

  it('rejects bad cursors and cursors of the other order with FND_EVENTS_INVALID_CURSOR', () => {
    expect(failure(() => validateQuery({ cursor: 'garbage!' })).code).toBe('FND_EVENTS_INVALID_CURSOR');
    const desc = encodeCursor({ position: 3, order: 'desc' });
    expect(failure(() => validateQuery({ cursor: desc })).code).toBe('FND_EVENTS_INVALID_CURSOR');
    expect(validateQuery({ cursor: desc, order: 'desc' }).cursor).toBe(desc);
  });
});

describe('validateAggregate', () => {
  it('accepts type and time groupings with defaults', () => {
    expect(validateAggregate({ groupBy: 'type' })).toEqual({ groupBy: 'type' });
    expect(validateAggregate({ groupBy: 'time' })).toEqual({ groupBy: 'time', bucketMs: DEFAULT_BUCKET_MS });
    expect(
      validateAggregate({
        groupBy: 'time',
        bucketMs: 3_600_000,
        filter: { types: 'order.*', from: 0, to: 86_400_000 },
      }),
    ).toEqual({
      groupBy: 'time',
      bucketMs: 3_600_000,
      filter: { types: ['order.*'], from: 0, to: 86_400_000 },
    });
  });

  it.each<[string, unknown]>([
    ['aggregate', null],
    ['groupBy', {}],
    ['groupBy', { groupBy: 'stream' }],
    ['x', { groupBy: 'type', x: 1 }],
    ['bucketMs', { groupBy: 'type', bucketMs: 1000 }],
    ['bucketMs', { groupBy: 'time', bucketMs: 999 }],
    ['bucketMs', { groupBy: 'time', bucketMs: 1000.5 }],
    ['bucketMs', { groupBy: 'time', bucketMs: 1000, filter: { from: 0, to: 10_000_001 } }],
    ['filter', { groupBy: 'type', filter: [] }],
    ['filter.limit', { groupBy: 'type', filter: { limit: 5 } }],
    ['filter.order', { groupBy: 'type', filter: { order: 'asc' } }],
    ['types[0]', { groupBy: 'type', filter: { types: ['BAD'] } }],
  ])('rejects %s: %j', (field, input) => {
    const error = failure(() => validateAggregate(input));
    expect(error.code).toBe('FND_EVENTS_INVALID_QUERY');
    expect(error.context).toMatchObject({ field });
  });
});
