import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/index.js';
import { eventStreamFromParams, parseStreamFrom } from './events-stream-params.js';

describe('GET /api/events/stream parameters', () => {
  it('turns the query string into a subscription filter and start point', () => {
    expect(eventStreamFromParams({}, undefined, 'c')).toEqual({ filter: {}, from: 'end' });
    expect(
      eventStreamFromParams(
        {
          types: 'order.*, user.created',
          stream: 'order-1',
          correlationId: 'corr',
          where: '[{"path":"data.total","op":"gt","value":10}]',
          from: 'start',
        },
        undefined,
        'c',
      ),
    ).toEqual({
      filter: {
        types: ['order.*', 'user.created'],
        stream: 'order-1',
        correlationId: 'corr',
        where: [{ path: 'data.total', op: 'gt', value: 10 }],
      },
      from: 'start',
    });
    expect(eventStreamFromParams({ from: '42' }, undefined, 'c').from).toBe(42);
    expect(eventStreamFromParams({ from: '123.45' }, undefined, 'c').from).toBe('123.45');
  });

  it('Last-Event-ID wins over from and is always a checkpoint string', () => {
    expect(eventStreamFromParams({ from: 'start' }, '17', 'c').from).toBe('17');
    expect(eventStreamFromParams({}, '900.12', 'c').from).toBe('900.12');
  });

  it('refuses bad filters as FND_EVENTS_INVALID_QUERY and bad start points as FND_EVENTS_INVALID_SUBSCRIPTION', () => {
    for (const raw of [
      { bogus: '1' },
      { limit: '5' },
      { types: ['a', 'b'] },
      { where: '{' },
      { types: '' },
    ]) {
      expect(
        thrown(() => eventStreamFromParams(raw, undefined, 'corr-1')),
        JSON.stringify(raw),
      ).toMatchObject({
        code: 'FND_EVENTS_INVALID_QUERY',
      });
    }
    for (const value of ['', 'a b', 'x'.repeat(201), 'tab\there', 'nul\u0000']) {
      expect(thrown(() => parseStreamFrom(value, 'corr-1', 'from'))).toMatchObject({
        code: 'FND_EVENTS_INVALID_SUBSCRIPTION',
        context: { parameter: 'from' },
      });
    }
    expect(thrown(() => eventStreamFromParams({}, 'a b', 'corr-1'))).toMatchObject({
      code: 'FND_EVENTS_INVALID_SUBSCRIPTION',
      context: { parameter: 'Last-Event-ID' },
    });
  });
});
