/**
 * Two processes on one PostgreSQL event store: two storages (two pools) appending to the same streams at
 * once never produce duplicate or missing stream versions, and exact expected versions let exactly one
 * writer win.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { AppendRequest } from '../../src/events/model/port.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

const STREAMS = ['c-0', 'c-1', 'c-2', 'c-3', 'c-4'];

async function readWholeStream(open: OpenStore, stream: string): Promise<StoredEvent[]> {
  return open.store.readStream(stream, { from: 1, direction: 'forward', limit: 10_000 });
}

describePg('PostgresEventStore: two stores on one schema', () => {
  let schema: TestSchema;
  let a: OpenStore;
  let b: OpenStore;

  beforeAll(async () => {
    schema = await createTestSchema();
    // Both open (and migrate) at once, as two processes starting together would.
    [a, b] = await Promise.all([openPgStore(schema.url), openPgStore(schema.url)]);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await schema.drop();
  });

  it('2 × 100 concurrent appends to 5 shared streams: versions 1..n per stream, no gap, no duplicate', async () => {
    // Store a: 100 single-request groups; store b: 20 groups of 5 requests (the group-commit shape).
    const singles = Array.from({ length: 100 }, (_, i) =>
      a.store.append([appendRequest([preparedEvent(STREAMS[i % 5] ?? 'c-0', i, 'a')])]),
    );
    const groups = Array.from({ length: 20 }, (_, g) => {
      const requests: AppendRequest[] = Array.from({ length: 5 }, (_, k) =>
        appendRequest([preparedEvent(STREAMS[(g + k) % 5] ?? 'c-0', g * 5 + k, 'b')]),
      );
      return b.store.append(requests);
    });
    const outcomes = (await Promise.all([...singles, ...groups])).flat();
    expect(outcomes).toHaveLength(200);
    const acknowledged = outcomes.flatMap((o) => storedEvents(o));

    let total = 0;
    for (const stream of STREAMS) {
      const events = await readWholeStream(a, stream);
      expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
      expect(await b.store.streamVersion(stream)).toBe(events.length);
      total += events.length;
    }
    expect(total).toBe(200);

    const all = await b.store.readAll({ afterPosition: 0, limit: 10_000 });
    expect(all).toHaveLength(200);
    expect(new Set(all.map((e) => e.id)).size).toBe(200);
    expect(new Set(all.map((e) => e.position)).size).toBe(200);
    // What each caller was told is what is stored.
    const byId = new Map(all.map((e) => [e.id, e]));
    for (const event of acknowledged) {
      expect(byId.get(event.id)).toMatchObject({
        position: event.position,
        stream: event.stream,
        streamVersion: event.streamVersion,
      });
    }
  });

  it('new streams appended by both stores with expected version no_stream: exactly one wins each', async () => {
    const streams = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    const attempts = streams.flatMap((stream) => [
      a.store.append([
        appendRequest([preparedEvent(stream, 1, 'a'), preparedEvent(stream, 2, 'a')], 'no_stream'),
      ]),
      b.store.append([appendRequest([preparedEvent(stream, 1, 'b')], 'no_stream')]),
    ]);
    const outcomes = (await Promise.all(attempts)).flat();
    for (const [i, stream] of streams.entries()) {
      const pair = [outcomes[2 * i], outcomes[2 * i + 1]];
      const won = pair.filter((o) => o?.ok === true);
      const lost = pair.filter((o) => o?.ok === false);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const error = lost[0]?.ok === false ? lost[0].error : undefined;
      expect(error?.code).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(error?.context).toMatchObject({ stream, expected: 'no_stream' });
      const events = await readWholeStream(b, stream);
      const winner = storedEvents(won[0]);
      expect(events.map((e) => e.id)).toEqual(winner.map((e) => e.id));
      expect(events.map((e) => e.streamVersion)).toEqual(winner.map((_, k) => k + 1));
    }
  });

  it('optimistic writers with exact expected versions: conflicts are reported, never duplicates', async () => {
    const stream = 'optimistic';
    let written = 0;
    const writer = async (open: OpenStore, name: string): Promise<void> => {
      for (let done = 0; done < 10;) {
        const version = await open.store.streamVersion(stream);
        const [outcome] = await open.store.append([
          appendRequest([preparedEvent(stream, done, name)], version),
        ]);
        if (outcome?.ok === true) {
          expect(outcome.events[0]?.streamVersion).toBe(version + 1);
          done++;
          written++;
        } else {
          expect(outcome?.ok === false && outcome.error.code).toBe('FND_EVENTS_VERSION_CONFLICT');
          expect(outcome?.ok === false && outcome.error.context.actual).toBeGreaterThan(version);
        }
      }
    };
    await Promise.all([writer(a, 'a1'), writer(a, 'a2'), writer(b, 'b1'), writer(b, 'b2')]);
    const events = await readWholeStream(a, stream);
    expect(written).toBe(40);
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    expect(events).toHaveLength(40);
  });

  it('the same new event appended by both stores at once is stored once, the loser answered idempotently', async () => {
    for (let round = 0; round < 5; round++) {
      const event = preparedEvent(`same-${round}`, round);
      const outcomes = (
        await Promise.all([
          a.store.append([appendRequest([event])]),
          b.store.append([appendRequest([event])]),
        ])
      ).flat();
      const answers = outcomes.map((o) => (o.ok ? o.idempotent : isFoundationError(o.error) && o.error.code));
      expect(answers.sort()).toEqual([false, true]);
      const events = await readWholeStream(a, `same-${round}`);
      expect(events.map((e) => e.id)).toEqual([event.id]);
    }
  });
});

describePg('EventStore services over two storages on one schema (group commit)', () => {
  let schema: TestSchema;
  let opened: OpenStore[];
  let services: EventStore[];

  beforeAll(async () => {
    schema = await createTestSchema();
    opened = await Promise.all([openPgStore(schema.url), openPgStore(schema.url)]);
    services = opened.map((o) => createEventStore(o.storage));
    await Promise.all(services.map((s) => s.start()));
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    for (const o of opened) await o.close();
    await schema.drop();
  });

  it('2 × 100 concurrent single-event appends to 5 shared streams: gap-free versions, 200 events', async () => {
    const results = await Promise.all(
      services.flatMap((service, s) =>
        Array.from({ length: 100 }, (_, i) =>
          service.append({ type: 'svc.appended', stream: STREAMS[i % 5] ?? 'c-0', data: { s, i } }),
        ),
      ),
    );
    expect(results.every((r) => r.events.length === 1 && !r.idempotent)).toBe(true);
    let total = 0;
    for (const stream of STREAMS) {
      const events = await services[0]!.readStream(stream, { limit: 1000 });
      expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
      total += events.length;
    }
    expect(total).toBe(200);
    const all = await services[1]!.readAll({ limit: 1000 });
    expect(all).toHaveLength(200);
    const told = new Map(results.map((r) => [r.events[0]!.id, r.events[0]!]));
    for (const event of all) expect(told.get(event.id)?.streamVersion).toBe(event.streamVersion);
  });

  it('exact expected versions through both services: conflicts are reported, never duplicates', async () => {
    const stream = 'svc-optimistic';
    const attempts = await Promise.allSettled(
      services.flatMap((service) =>
        Array.from({ length: 20 }, (_, i) =>
          service.append({ type: 'svc.appended', stream, data: { i } }, { expectedVersion: i }),
        ),
      ),
    );
    const events = await services[0]!.readStream(stream, { limit: 1000 });
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    const fulfilled = attempts.filter((a) => a.status === 'fulfilled');
    expect(fulfilled).toHaveLength(events.length);
    // Each expected version n is granted to at most one caller.
    expect(events.length).toBeLessThanOrEqual(20);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') {
        expect(isFoundationError(attempt.reason) && attempt.reason.code).toBe('FND_EVENTS_VERSION_CONFLICT');
      }
    }
    expect(attempts.filter((a) => a.status === 'rejected').length).toBeGreaterThanOrEqual(20);
  });
});
