/**
 * The pure parts of projections: definition validation, routing and the batch fold (deletes, restarts from
 * `initial`, non-JSON states and bad keys refused with FND_EVENTS_PROJECTION_FAILED, no aliasing), and the
 * argument checks of reads.
 */
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import type { JsonValue, StoredEvent } from '../../src/events/model/types.js';
import { foldBatch, routeEvents } from '../../src/events/projections/fold.js';
import { MemoryProjectionStore } from '../../src/events/projections/memory-projection-store.js';
import { Projections } from '../../src/events/projections/projections.js';
import { validateDefinition } from '../../src/events/projections/validate-definition.js';
import { EventStore } from '../../src/events/event-store.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';

function event(position: number, type: string, stream: string | null, data: JsonValue = {}): StoredEvent {
  return {
    id: `e${position}`,
    type,
    stream,
    streamVersion: null,
    position,
    time: 0,
    monotonic: 0,
    correlationId: null,
    causationId: null,
    parentId: null,
    data,
    metadata: {},
    node: 'n',
  };
}

function failureOf(run: () => unknown): FoundationError {
  try {
    run();
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

const counter = validateDefinition({
  name: 'counter',
  key: (e: StoredEvent) => e.stream ?? undefined,
  initial: () => ({ n: 0 }),
  evolve: (s: JsonValue, e: StoredEvent) => (e.type === 'end' ? null : { n: (s as { n: number }).n + 1 }),
});

describe('projection definitions', () => {
  it('fills in mode async and an empty filter; keeps a valid filter', () => {
    expect(counter.mode).toBe('async');
    expect(counter.filter).toEqual({});
    const filtered = validateDefinition({
      ...counter,
      mode: 'inline',
      filter: { types: 'order.*', stream: 's' },
    });
    expect(filtered.filter).toEqual({ types: ['order.*'], stream: 's' });
    expect(filtered.mode).toBe('inline');
  });

  it.each([
    ['not an object', 42, 'definition'],
    ['an array', [], 'definition'],
    ['an unknown field', { ...counter, extra: 1 }, 'extra'],
    ['a bad name', { ...counter, name: 'a b' }, 'name'],
    ['a missing key', { ...counter, key: undefined }, 'key'],
    ['a bad mode', { ...counter, mode: 'later' }, 'mode'],
    ['a filter with a time range', { ...counter, filter: { to: 5 } }, 'filter.to'],
    ['a bad type pattern', { ...counter, filter: { types: ['a**'] } }, 'filter'],
    ['a bad predicate', { ...counter, filter: { where: [{ path: 'nope', op: 'eq', value: 1 }] } }, 'filter'],
  ])('refuses %s with FND_EVENTS_INVALID_POLICY', (_label, input, field) => {
    const error = failureOf(() => validateDefinition(input));
    expect(error.code).toBe('FND_EVENTS_INVALID_POLICY');
    expect(error.context.field).toBe(field);
  });
});

describe('the batch fold', () => {
  it('folds per key, deletes on null and starts again from initial', () => {
    const events = [
      event(1, 'x', 'a'),
      event(2, 'x', 'b'),
      event(3, 'x', 'a'),
      event(4, 'end', 'b'),
      event(5, 'x', null),
      event(6, 'end', 'a'),
      event(7, 'x', 'a'),
    ];
    const routed = routeEvents(counter, events);
    expect(routed.keys).toEqual(['a', 'b']);
    const changes = foldBatch(counter, routed, new Map([['a', { n: 10 }]]));
    expect(changes).toEqual([
      { key: 'a', state: { n: 1 }, json: '{"n":1}', position: 7 },
      { key: 'b', state: undefined, json: null, position: 4 },
    ]);
  });

  it('reports the event and step of a throwing or non-JSON user function', () => {
    const throwing = validateDefinition({
      ...counter,
      evolve: () => {
        throw new Error('nope');
      },
    });
    const error = failureOf(() =>
      foldBatch(throwing, routeEvents(throwing, [event(9, 'x', 'a')]), new Map()),
    );
    expect(error.code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect(error.context).toMatchObject({
      projection: 'counter',
      eventId: 'e9',
      position: 9,
      step: 'evolve',
    });
    const nonJson = validateDefinition({ ...counter, initial: () => ({ at: new Date(0) }) });
    expect(
      failureOf(() => foldBatch(nonJson, routeEvents(nonJson, [event(1, 'x', 'a')]), new Map())).context,
    ).toMatchObject({
      step: 'initial',
    });
    const badKey = validateDefinition({ ...counter, key: () => 42 });
    expect(failureOf(() => routeEvents(badKey, [event(1, 'x', 'a')])).context).toMatchObject({ step: 'key' });
  });

  it('hands evolve copies: mutating the state in evolve cannot reach the stored rows', async () => {
    const store = new MemoryProjectionStore();
    await store.ensure('m', 'inline', 0);
    const mutating = validateDefinition({
      name: 'm',
      key: () => 'k',
      initial: () => ({ list: [] as number[] }),
      evolve: (s: JsonValue, e: StoredEvent) => {
        (s as { list: number[] }).list.push(e.position);
        if (e.position === 3) throw new Error('late failure');
        return s;
      },
    });
    store.writeSync('m', foldBatch(mutating, routeEvents(mutating, [event(1, 'x', 'a')]), new Map()), 0);
    expect(() =>
      foldBatch(
        mutating,
        routeEvents(mutating, [event(2, 'x', 'a'), event(3, 'x', 'a')]),
        store.loadSync('m', ['k']),
      ),
    ).toThrow(FoundationError);
    expect((await store.get('m', 'k'))?.state).toEqual({ list: [1] });
  });
});

describe('projection reads', () => {
  it('refuses bad names, keys and list options with a catalog code', async () => {
    const projections = new Projections(new EventStore(new MemoryEventStore()), new MemoryProjectionStore());
    await projections.start();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => (e as FoundationError).code,
      );
    expect(await code(projections.get('bad name', 'k'))).toBe('FND_EVENTS_INVALID_POLICY');
    expect(await code(projections.get('ok', ''))).toBe('FND_DATA_INVALID_INPUT');
    expect(await code(projections.list('ok', { limit: 0 }))).toBe('FND_DATA_INVALID_INPUT');
    expect(await code(projections.list('ok', { limit: 1001 }))).toBe('FND_DATA_INVALID_INPUT');
    expect(await code(projections.rebuild('missing'))).toBe('FND_EVENTS_INVALID_POLICY');
    expect(await projections.list('ok')).toEqual([]);
    expect(await projections.status('ok')).toBeUndefined();
    await projections.stop();
  });
});

describe('async runner and store failures', () => {
  it('retries a batch whose commit failed (store unavailable) from the stored checkpoint, applying each event once', async () => {
    const events = new EventStore(new MemoryEventStore());
    await events.start();
    const inner = new MemoryProjectionStore();
    let failures = 2;
    const flaky: typeof inner = Object.create(inner) as typeof inner;
    flaky.commitBatch = (batch) => {
      if (failures > 0) {
        failures--;
        return Promise.reject(new FoundationError('FND_STORAGE_UNAVAILABLE', { message: 'down' }));
      }
      return inner.commitBatch(batch);
    };
    for (const method of [
      'open',
      'ensure',
      'record',
      'records',
      'get',
      'list',
      'reset',
      'fail',
      'resume',
    ] as const) {
      (flaky as unknown as Record<string, unknown>)[method] = (
        inner[method] as (...a: unknown[]) => unknown
      ).bind(inner);
    }
    const projections = new Projections(events, flaky, { retryMs: 1, batchSize: 2 });
    await projections.register({
      name: 'flaky',
      key: (e) => e.stream ?? undefined,
      initial: (): number => 0,
      // A retried batch is folded again from the stored rows: each row still counts each event once.
      evolve: (n) => n + 1,
    });
    await projections.start();
    let last = 0;
    for (let i = 0; i < 10; i++)
      last = (await events.append({ type: 't', stream: `s-${i % 2}`, data: {} })).position;
    await projections.waitFor('flaky', last);
    expect(failures).toBe(0);
    expect((await projections.list('flaky')).map((r) => [r.key, r.state])).toEqual([
      ['s-0', 5],
      ['s-1', 5],
    ]);
    await projections.stop();
    await events.stop();
  });
});
