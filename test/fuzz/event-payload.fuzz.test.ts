/**
 * Fuzz: event payloads. Random JSON-ish values (and values that are not JSON at all: undefined, NaN,
 * functions, class instances, `__proto__` keys, huge strings) go into `append` on the memory and SQLite
 * stores. Each append is either stored exactly — what the store returns and reads back is what was given —
 * or refused with a catalog code, and then nothing of the batch was written.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { AppendOptions, EventInput, StoredEvent } from '../../src/events/model/types.js';
import { Storage } from '../../src/storage/index.js';
import { fuzz, hasCatalogCode } from './fuzz.js';

const MAX_EVENT_BYTES = 2048;

const validType = fc
  .array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 3 })
  .map((segments) => segments.join('.'));

/** Mostly-plausible values of a field, with hostile ones mixed in. */
function field<T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 24, arbitrary: plausible },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  );
}

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.constant(() => 1),
  fc.constant(new Date(0)),
  fc.constant(new Map([['a', 1]])),
  fc.constant(Symbol('s')),
  fc.bigInt(),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true}}') as unknown),
  fc.string({ minLength: MAX_EVENT_BYTES, maxLength: MAX_EVENT_BYTES * 2 }),
);

const data: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), hostileValue, { maxKeys: 2 }) },
);

const eventInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record(
      {
        type: field(validType),
        stream: field(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/)),
        data,
        metadata: field(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }))),
        id: field(fc.uuid({ version: 7 })),
        correlationId: field(fc.oneof(fc.uuid(), fc.string({ maxLength: 20 }))),
        causationId: field(fc.oneof(fc.uuid(), fc.string({ maxLength: 20 }))),
        parentId: field(fc.uuid()),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

const appendCall = fc.record({
  input: fc.oneof(
    { weight: 3, arbitrary: eventInput },
    { weight: 2, arbitrary: fc.array(eventInput, { minLength: 0, maxLength: 4 }) },
  ),
  options: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    fc.record({
      expectedVersion: fc.oneof(fc.constantFrom('any', 'no_stream', 'stream_exists'), fc.integer()),
    }),
    fc.anything({ maxDepth: 1 }),
  ),
});

/** Events after `position`, in order. */
async function eventsAfter(store: EventStore, position: number): Promise<StoredEvent[]> {
  return store.readAll({ afterPosition: position, limit: 10_000 });
}

/** A value as JSON would hold it (what "stored exactly" means for a JSON store). */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

const stores = [
  { name: 'memory', url: 'memory:' },
  { name: 'sqlite', url: 'sqlite::memory:' },
] as const;

describe.each(stores)('fuzz: event payloads on the $name store', ({ url }) => {
  let storage: Storage;
  let store: EventStore;
  /** Position of the last event in the store (only this test appends). */
  let head = 0;

  beforeAll(async () => {
    storage = new Storage(url);
    await storage.open();
    store = createEventStore(storage, { maxEventBytes: MAX_EVENT_BYTES, node: 'fuzz' });
    await store.start();
  });
  afterAll(async () => {
    await store.stop();
    await storage.close();
  });

  it('fuzz: event payloads — append stores exactly what it was given or refuses all of it with a catalog code', async (context) => {
    const outcomes = { stored: 0, refused: 0 };
    await fuzz(
      context,
      fc.asyncProperty(appendCall, async ({ input, options }) => {
        const before = head;
        let result: Awaited<ReturnType<EventStore['append']>> | undefined;
        let failure: unknown;
        try {
          result = await store.append(
            input as EventInput | EventInput[],
            options as AppendOptions | undefined,
          );
        } catch (error) {
          failure = error;
        }
        const written = await eventsAfter(store, before);
        head = written.at(-1)?.position ?? head;
        if (result === undefined) {
          outcomes.refused += 1;
          expect(hasCatalogCode(failure), `not a catalog error: ${String(failure)}`).toBe(true);
          expect(written).toEqual([]);
          return;
        }
        outcomes.stored += 1;
        const inputs = (Array.isArray(input) ? input : [input]) as Record<string, unknown>[];
        expect(result.events).toHaveLength(inputs.length);
        expect(written).toEqual(result.idempotent ? [] : result.events);
        for (const [i, event] of result.events.entries()) {
          const given = inputs[i]!;
          expect(event.type).toBe(given.type);
          expect(event.stream).toBe(given.stream ?? null);
          expect(event.data).toEqual(given.data === undefined ? {} : asJson(given.data));
          expect(event.metadata).toEqual(given.metadata === undefined ? {} : asJson(given.metadata));
          if (given.id !== undefined) expect(event.id).toBe(given.id);
          expect(await store.get(event.id)).toEqual(event);
        }
      }),
    );
    // The generators reach both outcomes.
    expect(outcomes.stored).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
