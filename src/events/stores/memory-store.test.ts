import { describe, expect, it } from 'vitest';
import { prepareEvents } from '../model/validate-event.js';
import { MemoryEventStore } from './memory-store.js';

describe('MemoryEventStore', () => {
  it('keeps its own frozen copy of data and metadata', async () => {
    const data = { items: [{ sku: 'a' }] };
    const metadata = { source: 'web' };
    const events = prepareEvents([{ id: 'e1', type: 'a.b', data, metadata }], {
      now: 1,
      monotonic: 1,
      node: 'n',
      maxEventBytes: 1000,
      newId: () => 'unused',
    });
    const store = new MemoryEventStore();
    await store.append([{ events, expectedVersion: 'any', stream: null }]);
    data.items[0]!.sku = 'changed';
    metadata.source = 'changed';
    const stored = await store.get('e1');
    expect(stored?.data).toEqual({ items: [{ sku: 'a' }] });
    expect(stored?.metadata).toEqual({ source: 'web' });
    expect(Object.isFrozen(stored)).toBe(true);
    expect(() => {
      ((stored?.data as { items: { sku: string }[] }).items[0] as { sku: string }).sku = 'x';
    }).toThrow(TypeError);
  });
});
