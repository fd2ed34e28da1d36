import { describe, expect, it } from 'vitest';
import { TypedEvents } from './typed-events.js';

interface Events extends Record<string, unknown> {
  started: { name: string };
  stopped: { name: string; code: number };
}

describe('TypedEvents', () => {
  it('delivers payloads to listeners of the event, in order of registration', () => {
    const events = new TypedEvents<Events>();
    const seen: string[] = [];
    events.on('started', (p) => seen.push(`a:${p.name}`));
    events.on('started', (p) => seen.push(`b:${p.name}`));
    events.on('stopped', (p) => seen.push(`stopped:${p.code}`));
    events.emit('started', { name: 'db' });
    expect(seen).toEqual(['a:db', 'b:db']);
    expect(events.has('stopped')).toBe(true);
  });

  it('isolates a throwing listener and reports it', () => {
    const reported: Array<[unknown, keyof Events]> = [];
    const events = new TypedEvents<Events>((error, event) => reported.push([error, event]));
    const seen: string[] = [];
    const bug = new Error('listener bug');
    events.on('started', () => {
      throw bug;
    });
    events.on('started', (p) => seen.push(p.name));
    events.emit('started', { name: 'x' });
    expect(seen).toEqual(['x']);
    expect(reported).toEqual([[bug, 'started']]);
  });

  it('removes a listener with the returned function, and a listener that removes itself mid-emit', () => {
    const events = new TypedEvents<Events>();
    const seen: string[] = [];
    const off = events.on('started', () => {
      seen.push('once');
      off();
    });
    events.on('started', () => seen.push('always'));
    events.emit('started', { name: '1' });
    events.emit('started', { name: '2' });
    expect(seen).toEqual(['once', 'always', 'always']);
    off();
    events.clear();
    expect(events.has('started')).toBe(false);
  });
});
