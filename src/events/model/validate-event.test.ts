import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { createEventIdGenerator } from './ids.js';
import { MAX_JSON_DEPTH } from './json-check.js';
import type { EventInput } from './types.js';
import { isEventType, isStreamName, prepareEvents, type PrepareContext } from './validate-event.js';

function ctx(overrides: Partial<PrepareContext> = {}): PrepareContext {
  let n = 0;
  return {
    now: 1_700_000_000_000,
    monotonic: 42.5,
    node: 'node-a',
    maxEventBytes: 1024,
    newId: () => `gen-${++n}`,
    ...overrides,
  };
}

function failure(fn: () => unknown): FoundationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a FoundationError');
}

const prepare = (inputs: readonly unknown[], c: PrepareContext = ctx()) =>
  prepareEvents(inputs as readonly EventInput[], c);

describe('prepareEvents', () => {
  it('hands back -0 as 0, like every store gives it back (JSON has no -0); the input is not touched', () => {
    const data = { x: -0, list: [1, -0], nested: { y: -0 } };
    const metadata = { z: -0 };
    const [e] = prepare([{ type: 'a.b', data, metadata }]);
    expect(e?.dataJson).toBe('{"x":0,"list":[1,0],"nested":{"y":0}}');
    expect(Object.is((e?.data as { x: number }).x, 0)).toBe(true);
    expect(e?.data).toEqual({ x: 0, list: [1, 0], nested: { y: 0 } });
    expect(Object.is((e?.metadata as { z: number }).z, 0)).toBe(true);
    expect(Object.is(data.x, -0)).toBe(true);
    // Canonical data is handed back as given (no copy).
    const plain = { x: 0 };
    expect(prepare([{ type: 'a.b', data: plain }])[0]?.data).toBe(plain);
  });

  it('completes an event: generated id, time, monotonic, node, defaults, JSON text', () => {
    const [e] = prepare([{ type: 'order.created', stream: 'order-1', data: { total: 12.5, items: ['a'] } }]);
    expect(e).toEqual({
      id: 'gen-1',
      type: 'order.created',
      stream: 'order-1',
      time: 1_700_000_000_000,
      monotonic: 42.5,
      correlationId: null,
      causationId: null,
      parentId: null,
      data: { total: 12.5, items: ['a'] },
      metadata: {},
      dataJson: '{"total":12.5,"items":["a"]}',
      metadataJson: '{}',
      node: 'node-a',
      correlationIdFromContext: false,
      causationIdFromContext: false,
    });
  });

  it('defaults data to {} and stream to null; keeps caller ids', () => {
    const [e] = prepare([
      {
        id: 'my-id',
        type: 'a',
        correlationId: 'corr',
        causationId: 'cause',
        parentId: 'parent',
        metadata: { u: 1 },
      },
    ]);
    expect(e).toMatchObject({
      id: 'my-id',
      stream: null,
      data: {},
      dataJson: '{}',
      metadataJson: '{"u":1}',
      correlationId: 'corr',
      causationId: 'cause',
      parentId: 'parent',
    });
  });

  it('takes correlation and causation from the context unless given, and says so', () => {
    const c = ctx({ correlationId: 'ctx-corr', causationId: 'ctx-op' });
    const [a, b] = prepare([{ type: 'a' }, { type: 'b', correlationId: 'own', causationId: 'own-cause' }], c);
    expect(a).toMatchObject({
      correlationId: 'ctx-corr',
      causationId: 'ctx-op',
      correlationIdFromContext: true,
      causationIdFromContext: true,
    });
    expect(b).toMatchObject({
      correlationId: 'own',
      causationId: 'own-cause',
      correlationIdFromContext: false,
      causationIdFromContext: false,
    });
  });

  it('accepts any JSON value as data', () => {
    const values = [
      's',
      0,
      -1.5,
      true,
      false,
      null,
      [],
      [1, [2, { a: null }]],
      Object.create(null) as object,
    ];
    const events = prepare(values.map((data) => ({ type: 'a', data })));
    expect(events.map((e) => e.dataJson)).toEqual(values.map((v) => JSON.stringify(v)));
  });

  it('drops undefined object properties like JSON.stringify', () => {
    const [e] = prepare([{ type: 'a', data: { a: 1, b: undefined } }]);
    expect(e?.dataJson).toBe('{"a":1}');
  });

  it.each([['order.created'], ['a'], ['a1.b-2.c_3'], ['order.2nd'], ['x'.repeat(200)]])(
    'accepts type %s',
    (type) => {
      expect(isEventType(type)).toBe(true);
      expect(prepare([{ type }])[0]?.type).toBe(type);
    },
  );

  it.each([
    [''],
    ['Order'],
    ['1order'],
    ['order.'],
    ['.order'],
    ['order..x'],
    ['order created'],
    ['x'.repeat(201)],
    [42],
    [undefined],
  ])('rejects type %s with FND_EVENTS_INVALID_EVENT', (type) => {
    const error = failure(() => prepare([{ type: 'ok' }, { type }]));
    expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
    expect(error.context).toMatchObject({ index: 1, field: 'type' });
  });

  it('validates streams: 1–200 characters, no control characters; null means none', () => {
    expect(isStreamName('order-42')).toBe(true);
    expect(isStreamName('s'.repeat(200))).toBe(true);
    expect(isStreamName('ünïcode / spaces ok')).toBe(true);
    expect(prepare([{ type: 'a', stream: null }])[0]?.stream).toBeNull();
    for (const bad of ['', 's'.repeat(201), 'a\nb', 'a\u0000', 'a\u007f', 'a\u0085', 5]) {
      const error = failure(() => prepare([{ type: 'a', stream: bad }]));
      expect(error.code, JSON.stringify(bad)).toBe('FND_EVENTS_INVALID_EVENT');
      expect(error.context).toMatchObject({ index: 0, field: 'stream' });
    }
  });

  it('validates ids, correlation, causation and parent ids', () => {
    for (const field of ['id', 'correlationId', 'causationId', 'parentId']) {
      for (const bad of ['', 'a b', 'x'.repeat(129), 7]) {
        const error = failure(() => prepare([{ type: 'a', [field]: bad }]));
        expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
        expect(error.context).toMatchObject({ index: 0, field });
      }
    }
  });

  it('rejects duplicate ids within a batch, generated ones never collide', () => {
    const error = failure(() => prepare([{ type: 'a', id: 'x' }, { type: 'b' }, { type: 'c', id: 'x' }]));
    expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
    expect(error.context).toMatchObject({ index: 2, field: 'id' });
    const newId = createEventIdGenerator();
    const batch = prepare(
      Array.from({ length: 50 }, () => ({ type: 'a' })),
      ctx({ newId }),
    );
    expect(new Set(batch.map((e) => e.id)).size).toBe(50);
  });

  it('rejects inputs that are not objects, and unknown fields', () => {
    for (const bad of [null, 'order.created', 5, [], undefined]) {
      const error = failure(() => prepare([{ type: 'a' }, bad]));
      expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
      expect(error.context).toMatchObject({ index: 1, field: 'event' });
    }
    const error = failure(() => prepare([{ type: 'a', stram: 'oops' }]));
    expect(error.context).toMatchObject({ index: 0, field: 'stram' });
  });

  it('turns a throwing getter on the input into FND_EVENTS_INVALID_EVENT', () => {
    const input = {
      get type(): string {
        throw new Error('no type for you');
      },
    };
    const error = failure(() => prepare([{ type: 'a' }, input]));
    expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
    expect(error.context).toMatchObject({ index: 1, field: 'event' });
    expect((error.cause as Error).message).toBe('no type for you');
  });

  it('rejects metadata that is not an object', () => {
    for (const bad of ['m', 1, [], true]) {
      const error = failure(() => prepare([{ type: 'a', metadata: bad }]));
      expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
      expect(error.context).toMatchObject({ index: 0, field: 'metadata' });
    }
  });

  class Money {
    readonly amount = 1;
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push({ back: cyclicArray });
  let deep: unknown = 1;
  for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = [deep];
  const holeAt1: unknown[] = [1];
  holeAt1[2] = 3;
  const throwing = {
    get boom(): never {
      throw new Error('getter failed');
    },
  };

  it.each<[string, unknown, string]>([
    ['function', { f: () => 1 }, 'data.f'],
    ['symbol', { s: Symbol('x') }, 'data.s'],
    ['bigint', { n: 10n }, 'data.n'],
    ['undefined in an array', { list: [1, undefined] }, 'data.list[1]'],
    ['array hole', { list: holeAt1 }, 'data.list[1]'],
    ['NaN', { x: { y: NaN } }, 'data.x.y'],
    ['Infinity', [Infinity], 'data[0]'],
    ['-Infinity', -Infinity, 'data'],
    ['cycle', cyclic, 'data.self'],
    ['cycle through an array', cyclicArray, 'data[1].back'],
    ['Date', { at: new Date(0) }, 'data.at'],
    ['Map', new Map(), 'data'],
    ['Set', { s: new Set([1]) }, 'data.s'],
    ['class instance', { m: new Money() }, 'data.m'],
    ['Buffer', { b: Buffer.from('x') }, 'data.b'],
    ['boxed string', { s: new String('x') }, 'data.s'],
    ['too deep', deep, `data${'[0]'.repeat(MAX_JSON_DEPTH)}`],
    ['U+0000 in a string', { s: 'a\u0000b' }, 'data.s'],
    ['lone surrogate', { s: '\ud800x' }, 'data.s'],
    ['U+0000 in a key', { 'a\u0000': 1 }, 'data["a\\u0000"]'],
    ['throwing getter', throwing, 'data.boom'],
    ['odd key', { 'a b': { c: () => 0 } }, 'data["a b"].c'],
  ])('rejects %s with FND_EVENTS_NOT_JSON and the path', (_name, data, path) => {
    const error = failure(() => prepare([{ type: 'ok' }, { type: 'ok' }, { type: 'a', data }]));
    expect(error.code).toBe('FND_EVENTS_NOT_JSON');
    expect(error.context).toMatchObject({ index: 2, field: 'data', path });
  });

  it('checks metadata for JSON too', () => {
    const error = failure(() => prepare([{ type: 'a', metadata: { when: new Date(0) } }]));
    expect(error.code).toBe('FND_EVENTS_NOT_JSON');
    expect(error.context).toMatchObject({ index: 0, field: 'metadata', path: 'metadata.when' });
  });

  it('accepts nesting up to the depth limit and shared (non-cyclic) references', () => {
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    const shared = { x: 1 };
    expect(prepare([{ type: 'a', data: ok as never }])).toHaveLength(1);
    expect(prepare([{ type: 'a', data: { a: shared, b: [shared, shared] } }])[0]?.dataJson).toBe(
      '{"a":{"x":1},"b":[{"x":1},{"x":1}]}',
    );
  });

  it('limits UTF-8 bytes of data + metadata', () => {
    // {"s":"…"} is 8 bytes of frame; é is 2 bytes in UTF-8.
    const c = ctx({ maxEventBytes: 100 });
    expect(prepare([{ type: 'a', data: { s: 'x'.repeat(90) } }], c)).toHaveLength(1); // 98 + '{}' = 100
    const error = failure(() => prepare([{ type: 'a', data: { s: 'x'.repeat(91) } }], c));
    expect(error.code).toBe('FND_EVENTS_TOO_LARGE');
    expect(error.context).toEqual({ index: 0, bytes: 101, limit: 100 });
    const multibyte = failure(() => prepare([{ type: 'a' }, { type: 'a', data: { s: 'é'.repeat(46) } }], c));
    expect(multibyte.context).toEqual({ index: 1, bytes: 102, limit: 100 });
    const meta = failure(() => prepare([{ type: 'a', metadata: { m: 'y'.repeat(95) } }], c));
    expect(meta.code).toBe('FND_EVENTS_TOO_LARGE');
  });

  it('prepares nothing when any event is bad (throws before returning)', () => {
    const ids: string[] = [];
    const c = ctx({
      newId: () => {
        const id = `id-${ids.length}`;
        ids.push(id);
        return id;
      },
    });
    expect(() => prepare([{ type: 'a' }, { type: 'b', data: { f: () => 0 } }], c)).toThrow(FoundationError);
  });

  it('property: any JSON value is accepted and dataJson is JSON.stringify of it', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        (data, metadata) => {
          const [e] = prepare([{ type: 'a', data, metadata }], ctx({ maxEventBytes: 10_000_000 }));
          expect(e?.dataJson).toBe(JSON.stringify(data));
          expect(JSON.parse(e?.metadataJson ?? '')).toEqual(JSON.parse(JSON.stringify(metadata)));
        },
      ),
    );
  });
});
