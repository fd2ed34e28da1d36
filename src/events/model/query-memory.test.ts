import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsArb, queryArb } from '../../../test/helpers/event-query-cases.js';
import { compareCodePoints, matchesQuery, runAggregate, runQuery } from './query-memory.js';
import { validateAggregate, validateQuery } from './query-validate.js';
import type { JsonValue, StoredEvent } from './types.js';

function ev(position: number, data: JsonValue, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: `e${position}`,
    type: 'order.created',
    stream: null,
    streamVersion: null,
    position,
    time: 1_000_000 + position * 1000,
    monotonic: position,
    correlationId: null,
    causationId: null,
    parentId: null,
    data,
    metadata: {},
    node: 'n',
    ...extra,
  };
}

const matches = (data: JsonValue, predicate: Record<string, unknown>): boolean =>
  matchesQuery(ev(1, data), validateQuery({ where: [predicate] }));

describe('predicate semantics (the reference)', () => {
  it.each<[string, JsonValue, Record<string, unknown>, boolean]>([
    ['eq number', { a: 1 }, { path: 'data.a', op: 'eq', value: 1 }, true],
    ['eq number vs string', { a: '1' }, { path: 'data.a', op: 'eq', value: 1 }, false],
    ['eq true vs 1', { a: 1 }, { path: 'data.a', op: 'eq', value: true }, false],
    ['eq null', { a: null }, { path: 'data.a', op: 'eq', value: null }, true],
    ['eq null vs missing', {}, { path: 'data.a', op: 'eq', value: null }, false],
    ['eq on object', { a: { b: 1 } }, { path: 'data.a', op: 'eq', value: 1 }, false],
    ['ne missing', {}, { path: 'data.a', op: 'ne', value: 1 }, true],
    ['ne other type', { a: '1' }, { path: 'data.a', op: 'ne', value: 1 }, true],
    ['ne same', { a: 1 }, { path: 'data.a', op: 'ne', value: 1 }, false],
    ['gt numbers', { a: 2 }, { path: 'data.a', op: 'gt', value: 1.5 }, true],
    ['gt mixed types', { a: '2' }, { path: 'data.a', op: 'gt', value: 1 }, false],
    ['gte equal', { a: 2 }, { path: 'data.a', op: 'gte', value: 2 }, true],
    ['lt strings', { a: 'abc' }, { path: 'data.a', op: 'lt', value: 'abd' }, true],
    ['lte missing', {}, { path: 'data.a', op: 'lte', value: 5 }, false],
    ['string order by code point', { a: '😀' }, { path: 'data.a', op: 'gt', value: '\uffff' }, true],
    ['in', { a: 'x' }, { path: 'data.a', op: 'in', value: [1, 'x'] }, true],
    ['in null', { a: null }, { path: 'data.a', op: 'in', value: [null] }, true],
    ['in none', { a: 'y' }, { path: 'data.a', op: 'in', value: [1, 'x'] }, false],
    ['contains substring', { s: 'hello' }, { path: 'data.s', op: 'contains', value: 'ell' }, true],
    ['contains is case-sensitive', { s: 'hello' }, { path: 'data.s', op: 'contains', value: 'ELL' }, false],
    ['contains element', { t: ['a', 1] }, { path: 'data.t', op: 'contains', value: 1 }, true],
    ['contains no partial element', { t: ['abc'] }, { path: 'data.t', op: 'contains', value: 'b' }, false],
    ['contains number in string', { s: '123' }, { path: 'data.s', op: 'contains', value: 2 }, false],
    ['contains on object', { o: { a: 1 } }, { path: 'data.o', op: 'contains', value: 'a' }, false],
    ['exists null', { a: null }, { path: 'data.a', op: 'exists', value: true }, true],
    ['exists false', { b: 1 }, { path: 'data.a', op: 'exists', value: false }, true],
    ['array index', { items: [{ sku: 'x' }] }, { path: 'data.items.0.sku', op: 'eq', value: 'x' }, true],
    ['index out of range', { items: [] }, { path: 'data.items.0', op: 'exists' }, false],
    ['numeric segment on an object', { o: { 0: 'zero' } }, { path: 'data.o.0', op: 'exists' }, false],
    ['key on an array', { a: [1] }, { path: 'data.a.length', op: 'exists' }, false],
    ['path through a scalar', { a: 'str' }, { path: 'data.a.b', op: 'exists' }, false],
    ['inherited key', {}, { path: 'data.constructor', op: 'exists' }, false],
    ['top-level array', [7], { path: 'data.0', op: 'eq', value: 7 }, true],
  ])('%s', (_name, data, predicate, expected) => {
    expect(matches(data, predicate)).toBe(expected);
  });

  it('filters on type patterns, stream, correlation id and time range', () => {
    const e = ev(1, {}, { type: 'order.paid', stream: 's1', correlationId: 'c1', time: 5000 });
    const m = (q: Record<string, unknown>) => matchesQuery(e, validateQuery(q));
    expect(m({ types: ['order.*'] })).toBe(true);
    expect(m({ types: ['order'] })).toBe(false);
    expect(m({ types: ['orde.*', 'order.paid.*'] })).toBe(false);
    expect(m({ types: ['*'] })).toBe(true);
    expect(m({ stream: 's1', correlationId: 'c1' })).toBe(true);
    expect(m({ stream: 's2' })).toBe(false);
    expect(m({ from: 5000, to: 5001 })).toBe(true);
    expect(m({ to: 5000 })).toBe(false);
  });
});

describe('runQuery', () => {
  const events = [3, 1, 7, 4, 9].map((p) => ev(p, { p }));

  it('orders by position and pages with a cursor', () => {
    const first = runQuery(events, validateQuery({ limit: 2 }));
    expect(first.events.map((e) => e.position)).toEqual([1, 3]);
    const second = runQuery(events, validateQuery({ limit: 2, cursor: first.nextCursor }));
    expect(second.events.map((e) => e.position)).toEqual([4, 7]);
    const third = runQuery(events, validateQuery({ limit: 2, cursor: second.nextCursor }));
    expect(third).toEqual({ events: [events[4]], nextCursor: undefined });
    const desc = runQuery(events, validateQuery({ limit: 3, order: 'desc' }));
    expect(desc.events.map((e) => e.position)).toEqual([9, 7, 4]);
    const descNext = runQuery(events, validateQuery({ limit: 3, order: 'desc', cursor: desc.nextCursor }));
    expect(descNext.events.map((e) => e.position)).toEqual([3, 1]);
  });

  it('property: following cursors visits every match once, in order', () => {
    fc.assert(
      fc.property(eventsArb, queryArb, (all, query) => {
        const everything = runQuery(all, { ...query, limit: 1_000_000 }).events.map((e) => e.id);
        const seen: string[] = [];
        let q = query;
        for (let i = 0; i < 100; i++) {
          const page = runQuery(all, q);
          expect(page.events.length).toBeLessThanOrEqual(query.limit ?? 100);
          seen.push(...page.events.map((e) => e.id));
          if (page.nextCursor === undefined) break;
          q = { ...query, cursor: page.nextCursor };
        }
        expect(seen).toEqual(everything);
        const positions = runQuery(all, { ...query, limit: 1_000_000 }).events.map((e) => e.position);
        const sorted = [...positions].sort((a, b) => (query.order === 'desc' ? b - a : a - b));
        expect(positions).toEqual(sorted);
      }),
    );
  });
});

describe('runAggregate', () => {
  it('counts by type and by time bucket, keys ascending', () => {
    const events = [
      ev(1, {}, { type: 'b', time: 59_999 }),
      ev(2, {}, { type: 'a', time: 60_000 }),
      ev(3, {}, { type: 'b', time: 125_000 }),
      ev(4, {}, { type: 'c.x', time: 60_001 }),
    ];
    expect(runAggregate(events, validateAggregate({ groupBy: 'type' }))).toEqual([
      { key: 'a', count: 1 },
      { key: 'b', count: 2 },
      { key: 'c.x', count: 1 },
    ]);
    expect(runAggregate(events, validateAggregate({ groupBy: 'time', bucketMs: 60_000 }))).toEqual([
      { key: 0, count: 1 },
      { key: 60_000, count: 2 },
      { key: 120_000, count: 1 },
    ]);
    expect(runAggregate(events, validateAggregate({ groupBy: 'type', filter: { types: ['b'] } }))).toEqual([
      { key: 'b', count: 2 },
    ]);
  });
});

describe('compareCodePoints', () => {
  it('property: agrees with UTF-8 byte order', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(
          Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
        );
      }),
    );
  });
});
