import { describe, expect, it } from 'vitest';
import { thrown } from '../../testing/index.js';
import { formatEvents } from '../events-format.js';
import { appendBody, eventsCommand, queryPath } from './events.js';
import type { StoredEvent } from '../../events/model/types.js';

const io = { out: () => undefined, err: () => undefined, env: {} };

describe('foundation events: flags', () => {
  it('builds the query string of GET /api/events', () => {
    expect(queryPath({})).toBe('/api/events');
    const path = queryPath({
      types: 'order.*,user.created',
      stream: 'order-1',
      'correlation-id': 'c-1',
      order: 'desc',
      limit: '20',
      where: '[{"path":"data.total","op":"gt","value":10}]',
    });
    const params = new URL(path, 'http://x').searchParams;
    expect(Object.fromEntries(params)).toEqual({
      types: 'order.*,user.created',
      stream: 'order-1',
      correlationId: 'c-1',
      order: 'desc',
      limit: '20',
      where: '[{"path":"data.total","op":"gt","value":10}]',
    });
  });

  it('builds the append body, with an envelope only for an expected version', () => {
    expect(appendBody({ type: 'a.b', data: '{"n":1}', metadata: '{"m":true}', stream: 's' })).toEqual({
      type: 'a.b',
      stream: 's',
      data: { n: 1 },
      metadata: { m: true },
    });
    expect(appendBody({ type: 'a.b', stream: 's', 'expected-version': 'no_stream' })).toEqual({
      events: [{ type: 'a.b', stream: 's' }],
      expectedVersion: 'no_stream',
    });
    expect(appendBody({ type: 'a.b', stream: 's', 'expected-version': '4' })).toMatchObject({
      expectedVersion: 4,
    });
  });

  it('bad flags are FND_CLI_INVALID_ARGUMENT', async () => {
    for (const flags of [{ limit: '0' }, { limit: 'x' }, { order: 'up' }, { where: '{}' }, { where: '[' }]) {
      expect(thrown(() => queryPath(flags))).toMatchObject({ code: 'FND_CLI_INVALID_ARGUMENT' });
    }
    for (const flags of [
      {},
      { type: 'a.b', data: '{' },
      { type: 'a.b', metadata: '[]' },
      { type: 'a.b', 'expected-version': '-1' },
      { type: ' ' },
    ]) {
      expect(thrown(() => appendBody(flags))).toMatchObject({ code: 'FND_CLI_INVALID_ARGUMENT' });
    }
    await expect(eventsCommand.run(['remove'], io)).rejects.toMatchObject({
      code: 'FND_CLI_INVALID_ARGUMENT',
    });
    await expect(eventsCommand.run([], io)).rejects.toMatchObject({ code: 'FND_CLI_INVALID_ARGUMENT' });
  });

  it('formats events as an aligned table', () => {
    const event = (position: number, stream: string | null): StoredEvent => ({
      id: `id-${position}`,
      type: 'order.created',
      stream,
      streamVersion: stream === null ? null : position,
      position,
      time: Date.UTC(2025, 0, 31, 10),
      monotonic: 1,
      correlationId: position === 1 ? 'c-1' : null,
      causationId: null,
      parentId: null,
      data: {},
      metadata: {},
      node: 'n',
    });
    expect(formatEvents([event(1, 'order-1'), event(12, null)])).toEqual([
      'POSITION  TIME                      TYPE           STREAM     CORRELATION',
      '1         2025-01-31T10:00:00.000Z  order.created  order-1@1  c-1',
      '12        2025-01-31T10:00:00.000Z  order.created  -          -',
    ]);
    expect(formatEvents([])).toEqual(['No events match.']);
  });
});
