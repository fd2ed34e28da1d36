import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-reader.js';

describe('SseParser', () => {
  it('parses messages split anywhere, with ids, event names, multi-line data, comments and CRLF', () => {
    const text =
      'retry: 2000\n\n: heartbeat\n\nid: 7\nevent: event\ndata: {"a":1}\n\n' +
      'data: line one\r\ndata: line two\r\n\r\nid: 8\nevent: problem\ndata: {}\n\n';
    for (const size of [1, 2, 5, text.length]) {
      const parser = new SseParser();
      const messages = [];
      for (let i = 0; i < text.length; i += size) messages.push(...parser.push(text.slice(i, i + size)));
      expect(messages).toEqual([
        { id: '7', event: 'event', data: '{"a":1}' },
        { id: undefined, event: 'message', data: 'line one\nline two' },
        { id: '8', event: 'problem', data: '{}' },
      ]);
    }
  });

  it('keeps an incomplete message until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\nevent: event\ndata: x\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '1', event: 'event', data: 'x' }]);
  });
});
