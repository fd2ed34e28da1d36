import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PreparedEvent } from './port.js';
import { jsonEqual, sameContent } from './same-content.js';
import type { StoredEvent } from './types.js';

const stored: StoredEvent = {
  id: 'x',
  type: 'order.created',
  stream: 'order-1',
  streamVersion: 1,
  position: 10,
  time: 1000,
  monotonic: 1,
  correlationId: 'corr',
  causationId: 'cause',
  parentId: null,
  data: { a: 1, b: [1, { c: 'd' }] },
  metadata: { m: true },
  node: 'n1',
};

function prepared(overrides: Partial<PreparedEvent> = {}): PreparedEvent {
  const data = overrides.data ?? { b: [1, { c: 'd' }], a: 1 };
  const metadata = overrides.metadata ?? { m: true };
  return {
    id: 'x',
    type: 'order.created',
    stream: 'order-1',
    time: 99_999,
    monotonic: 5,
    correlationId: 'corr',
    causationId: 'cause',
    parentId: null,
    node: 'other-node',
    dataJson: JSON.stringify(data),
    metadataJson: JSON.stringify(metadata),
    ...overrides,
    data,
    metadata,
  };
}

describe('sameContent', () => {
  it('ignores key order, id, time, node and positions', () => {
    expect(sameContent(stored, prepared())).toBe(true);
  });

  it.each<[string, Partial<PreparedEvent>]>([
    ['type', { type: 'order.paid' }],
    ['stream', { stream: 'order-2' }],
    ['no stream', { stream: null }],
    ['parent', { parentId: 'p' }],
    ['correlation', { correlationId: 'other' }],
    ['causation', { causationId: null }],
    ['data value', { data: { a: 2, b: [1, { c: 'd' }] } }],
    ['data type', { data: { a: '1', b: [1, { c: 'd' }] } }],
    ['array order', { data: { a: 1, b: [{ c: 'd' }, 1] } }],
    ['extra key', { data: { a: 1, b: [1, { c: 'd' }], z: null } }],
    ['metadata', { metadata: { m: false } }],
  ])('differs on %s', (_name, overrides) => {
    expect(sameContent(stored, prepared(overrides))).toBe(false);
  });

  it('ignores correlation and causation ids that came from the context', () => {
    expect(
      sameContent(
        stored,
        prepared({
          correlationId: 'new-ctx',
          causationId: 'new-op',
          correlationIdFromContext: true,
          causationIdFromContext: true,
        }),
      ),
    ).toBe(true);
    expect(sameContent(stored, prepared({ correlationId: 'new-ctx', correlationIdFromContext: false }))).toBe(
      false,
    );
  });
});

describe('jsonEqual', () => {
  it('treats undefined properties as absent and -0 as 0', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(jsonEqual([-0], [0])).toBe(true);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual({ a: undefined }, { b: undefined })).toBe(true);
    expect(jsonEqual({ a: 1 }, { b: 1 })).toBe(false);
  });

  it('property: equal to its JSON round trip with keys shuffled; unequal to a changed value', () => {
    const shuffleKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shuffleKeys);
      if (typeof v === 'object' && v !== null) {
        return Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, shuffleKeys(x)]),
        );
      }
      return v;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonEqual(v, shuffleKeys(JSON.parse(JSON.stringify(v))))).toBe(true);
        expect(jsonEqual(v, [v])).toBe(false);
        expect(jsonEqual({ k: v }, { k: v, extra: 1 })).toBe(false);
      }),
    );
  });
});
