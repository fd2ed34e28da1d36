/**
 * Gap-free live delivery on PostgreSQL.
 *
 * - A transaction held open with a LOW position (a raw client inserting an event the way the store does, with
 *   the store's notification) while later appends commit: no subscriber gets anything past the held
 *   position until it commits; then every subscriber (some filtered) has every event exactly once, in the
 *   same commit order, the late one included. Tailing by position would have delivered 4…8 and skipped 3.
 * - Two EventStore instances (two pools, like two processes): one subscribes, the other appends; delivery
 *   comes from LISTEN/NOTIFY (the subscriber's clock is a FakeClock that is never advanced unless a read was
 *   held back by another session's transaction, so no timer can drive it).
 * - The LISTEN connection is cut (TCP proxy) and restored: events appended meanwhile are delivered, once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import { compileMatcher } from '../../src/events/model/query-memory.js';
import type { EventInput, StoredEvent } from '../../src/events/model/types.js';
import { eventsChannel } from '../../src/events/stores/postgres-listener.js';
import type { Subscription, SubscriptionFilter } from '../../src/events/subscriptions/types.js';
import { onTelemetry } from '../../src/kernel/telemetry.js';
import { Storage } from '../../src/storage/index.js';
import { FakeClock } from '../../src/testing/index.js';
import {
  createTestSchema,
  describePg,
  pgTestUrl,
  schemaClient,
  type TestSchema,
} from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const T = 60_000;

interface Opened {
  readonly storage: Storage;
  readonly store: EventStore;
}

async function open(url: string, clock?: FakeClock): Promise<Opened> {
  const storage = new Storage(url);
  await storage.open();
  const store = createEventStore(storage, clock === undefined ? {} : { clock });
  await store.start();
  return { storage, store };
}

/** Collects a subscription's events in the background; `until(n)` resolves once it has `n`. */
function collect(subscription: Subscription): {
  readonly events: StoredEvent[];
  until(n: number): Promise<StoredEvent[]>;
} {
  const events: StoredEvent[] = [];
  const waiting: { n: number; resolve: (events: StoredEvent[]) => void }[] = [];
  void (async () => {
    for await (const event of subscription) {
      events.push(event);
      for (const w of [...waiting]) {
        if (events.length >= w.n) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(events);
        }
      }
    }
  })();
  return {
    events,
    until(n) {
      if (events.length >= n) return Promise.resolve(events);
      return new Promise((resolve) => waiting.push({ n, resolve }));
    },
  };
}

/** Resolves once every name in `names` reported `events:subscription_held` (after this call). */
function allHeld(names: readonly string[]): Promise<void> {
  const left = new Set(names);
  return new Promise((resolve) => {
    const off = onTelemetry('events:subscription_held', (message) => {
      left.delete(String(message.metadata.name));
      if (left.size === 0) {
        off();
        resolve();
      }
    });
  });
}

const positions = (events: readonly StoredEvent[]): number[] => events.map((e) => e.position);

describePg('PostgreSQL subscriptions are gap-free and pushed', () => {
  let schema: TestSchema;
  const opened: Opened[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
  });

  afterAll(async () => {
    for (const { store, storage } of opened) {
      await store.stop();
      await storage.close();
    }
    await schema.drop();
  });

  describe('a transaction that commits late with a lower position', () => {
    it(
      'holds every subscriber back until it commits, then everyone sees everything once, in commit order',
      { timeout: T },
      async () => {
        const a = await open(schema.url);
        opened.push(a);
        const store = a.store;
        const initial = await store.append([
          { type: 'gap.even', data: { n: 0 } },
          { type: 'gap.odd', data: { n: 1 } },
        ]);
        const filters: Record<string, SubscriptionFilter> = {
          all: {},
          odd: { types: ['gap.odd'] },
          big: { where: [{ path: 'data.n', op: 'gte', value: 3 }] },
          held: { types: ['gap.held'] },
        };
        const subs = Object.entries(filters).map(([name, filter]) => ({
          name,
          filter,
          got: collect(store.subscribe(filter, { from: 'start', name, batchSize: 2, bufferSize: 4 })),
        }));
        const fromEnd = collect(store.subscribe({}, { name: 'from-end' }));
        await subs[0]!.got.until(2);

        // The held transaction: insert a row as the store does (tx defaults to its transaction id) and notify.
        const raw = await schemaClient(schema.schema);
        try {
          await raw.query('BEGIN');
          const inserted = await raw.query<{ position: string }>(
            `INSERT INTO foundation_events (id, type, stream, stream_version, time, monotonic, data, metadata, node)
           VALUES ($1, 'gap.held', NULL, NULL, $2, 0, '{"n": 2}', '{}', 'raw') RETURNING position`,
            [randomUUID(), Date.now()],
          );
          const heldPosition = Number(inserted.rows[0]?.position);
          await raw.query("SELECT pg_notify($1, '')", [eventsChannel(schema.schema)]);

          // Later appends commit while it is open: higher positions, committed first.
          const held = allHeld(['all', 'odd', 'big', 'from-end']);
          const later: StoredEvent[] = [];
          later.push(...(await store.append({ type: 'gap.odd', data: { n: 3 } })).events);
          later.push(
            ...(
              await store.append([
                { type: 'gap.even', data: { n: 4 } },
                { type: 'gap.odd', data: { n: 5 } },
              ])
            ).events,
          );
          later.push(...(await store.append({ type: 'gap.even', data: { n: 6 } })).events);
          later.push(...(await store.append({ type: 'gap.odd', data: { n: 7 } })).events);
          expect(Math.min(...positions(later))).toBeGreaterThan(heldPosition);
          // Every subscriber that has committed events to read has read and been held back.
          await held;
          for (const s of subs) {
            expect(
              s.got.events.every((e) => e.position < heldPosition),
              s.name,
            ).toBe(true);
          }
          expect(fromEnd.events).toEqual([]);
          await raw.query('COMMIT');

          const log = await store.readAll();
          expect(log).toHaveLength(8);
          const heldEvent = log.find((e) => e.position === heldPosition) as StoredEvent;
          // Commit order: the held transaction started writing before the later ones, so its id is lower.
          const commitOrder = [...initial.events, heldEvent, ...later];
          for (const s of subs) {
            const want = commitOrder.filter(compileMatcher(s.filter));
            const got = await s.got.until(want.length);
            expect(positions(got), s.name).toEqual(positions(want));
            expect(
              got.map((e) => e.id),
              s.name,
            ).toEqual(want.map((e) => e.id));
          }
          const tail = await fromEnd.until(6);
          expect(positions(tail)).toEqual(positions([heldEvent, ...later]));
          // Nothing more arrives: one more append is the next and only next event of everyone.
          const last = await store.append({ type: 'gap.odd', data: { n: 8 } });
          const all = await subs[0]!.got.until(9);
          expect(positions(all)).toEqual([...positions(commitOrder), last.position]);
          expect(new Set(all.map((e) => e.id)).size).toBe(9);
        } finally {
          await raw.end();
        }
      },
    );
  });

  describe('across processes', () => {
    it(
      'a subscriber of one instance gets the appends of another through LISTEN/NOTIFY',
      { timeout: T },
      async () => {
        const clock = new FakeClock();
        const subscriber = await open(schema.url, clock);
        const appender = await open(schema.url);
        opened.push(subscriber, appender);
        // A read held back by some other session's transaction re-polls on the clock: advance it then only.
        const off = onTelemetry('events:subscription_held', (message) => {
          if (message.metadata.name === 'remote')
            queueMicrotask(() => {
              clock.advance(1000);
            });
        });
        try {
          const got = collect(subscriber.store.subscribe({ types: ['remote.*'] }, { name: 'remote' }));
          const appended: StoredEvent[] = [];
          for (let i = 0; i < 5; i++) {
            const input: EventInput = { type: i % 2 === 0 ? 'remote.a' : 'remote.b', data: { i } };
            appended.push(...(await appender.store.append(input)).events);
            // Each one arrives before the next is appended: pushed, one at a time.
            expect(positions(await got.until(i + 1)).at(-1)).toBe(appended[i]?.position);
          }
          expect(positions(got.events)).toEqual(positions(appended));
        } finally {
          off();
        }
      },
    );

    it(
      'a cut LISTEN connection is reopened and nothing committed meanwhile is missed',
      { timeout: T },
      async () => {
        const target = new URL(pgTestUrl());
        const proxy = await startTcpProxy({
          host: target.hostname,
          port: Number(target.port === '' ? 5432 : target.port),
        });
        try {
          const viaProxy = new URL(schema.url);
          viaProxy.hostname = '127.0.0.1';
          viaProxy.port = String(proxy.port);
          const subscriber = await open(viaProxy.toString());
          const appender = await open(schema.url);
          opened.push(subscriber, appender);
          const got = collect(subscriber.store.subscribe({ types: ['cut.*'] }, { name: 'cut' }));
          const connected = (): Promise<void> =>
            new Promise((resolve) => {
              const off = onTelemetry('events:listen_connected', () => {
                off();
                resolve();
              });
            });
          const first = await appender.store.append({ type: 'cut.before' });
          await got.until(1);
          await proxy.cut();
          const during: StoredEvent[] = [];
          for (let i = 0; i < 3; i++)
            during.push(...(await appender.store.append({ type: 'cut.during', data: { i } })).events);
          const reconnected = connected();
          await proxy.restore();
          await reconnected;
          const afterCut = await got.until(4);
          expect(positions(afterCut)).toEqual(positions([...first.events, ...during]));
          const after = await appender.store.append({ type: 'cut.after' });
          const all = await got.until(5);
          expect(positions(all)).toEqual(positions([...first.events, ...during, ...after.events]));
          expect(new Set(all.map((e) => e.id)).size).toBe(5);
        } finally {
          await proxy.close();
        }
      },
    );
  });
});
