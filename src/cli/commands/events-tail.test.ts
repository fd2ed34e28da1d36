import { describe, expect, it } from 'vitest';
import { formatEventLine } from '../events-format.js';
import { runTail, tailPath } from './events-tail.js';
import type { StoredEvent } from '../../events/model/types.js';

const io = { out: () => undefined, err: () => undefined, env: {} };

describe('foundation events tail: flags', () => {
  it('builds the query string of GET /api/events/stream', () => {
    expect(tailPath({})).toBe('/api/events/stream');
    const path = tailPath({
      types: 'order.*,user.created',
      stream: 'order-1',
      'correlation-id': 'c-1',
      where: '[{"path":"data.total","op":"gt","value":10}]',
      from: 'start',
    });
    expect(Object.fromEntries(new URL(path, 'http://x').searchParams)).toEqual({
      types: 'order.*,user.created',
      stream: 'order-1',
      correlationId: 'c-1',
      where: '[{"path":"data.total","op":"gt","value":10}]',
      from: 'start',
    });
    expect(tailPath({ from: '42' })).toBe('/api/events/stream?from=42');
  });

  it('refuses bad flags with FND_CLI_INVALID_ARGUMENT before connecting', async () => {
    for (const args of [
      ['--where', '{"not":"an array"}'],
      ['--where', 'nope'],
      ['--from', ''],
      ['--retry-for', 'forever'],
      ['--idle-timeout', '0'],
      ['--url', 'ftp://x'],
      ['--bogus'],
      ['positional'],
    ]) {
      await expect(runTail(args, io), args.join(' ')).rejects.toMatchObject({
        code: 'FND_CLI_INVALID_ARGUMENT',
      });
    }
  });

  it('prints one line per event', () => {
    const event = {
      id: '0190',
      type: 'order.paid',
      stream: 'order-1',
      streamVersion: 2,
      position: 12,
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      correlationId: 'corr-1',
    } as unknown as StoredEvent;
    expect(formatEventLine(event)).toBe('12  2026-01-02T03:04:05.000Z  order.paid  order-1@2  corr-1');
    expect(formatEventLine({ ...event, stream: null, correlationId: null })).toBe(
      '12  2026-01-02T03:04:05.000Z  order.paid  -  -',
    );
  });
});
