/**
 * Live subscriptions (issue 4, section Performance): delivery latency from an append to a live subscriber,
 * and the catch-up read rate of a subscription over a large log. `npm run bench -- events-live`.
 *
 * - `deliver 1 event to a live subscriber`: one operation appends one event to a new stream and resolves
 *   when a subscriber attached before the case (`from: 'end'`) has received it. On SQLite the baseline is
 *   the same append with no subscriber, so the difference is what live delivery adds. On PostgreSQL the
 *   peer is emmett's message batch puller (the polling loop of its consumers: 50 ms while busy, backing off
 *   to 1 s when idle), measured in the same way. The notes give each side's p50 / p99 / max latency over
 *   every operation of the case (append call to delivery, ms).
 * - `catch up N events through a subscription`: one operation subscribes `from: 'start'` to a log of N
 *   events (the kept store of the `events-query` suite: 1M events, `--quick` 10k) and reads until it has
 *   seen the last one; the baseline pages through the same log with `readAll` (keyset by position, pages of
 *   the subscription's batch size). ns/op is per whole catch-up; the notes give events/s. The kept log is
 *   loaded when missing (a few minutes for 1M events).
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '../../src/events/index.js';
import { openEmmettLive, type EmmettLive } from '../events/emmett-consumer.js';
import { ORDER_CREATED, orderData, streamName, type OrderData } from '../events/inputs.js';
import { openKeptStore } from '../events/kept-store.js';
import { openOursPg, openOursSqlite, type Ours } from '../events/ours.js';
import { pgUnavailable } from '../events/pg-env.js';
import { asyncCase, asyncImpl, defineSuite, type AsyncBenchCase } from '../suite.js';

/** Precomputed payloads, cycled over. */
const PAYLOADS: readonly OrderData[] = Array.from({ length: 1024 }, (_, i) => orderData(i));
const payload = (i: number): OrderData => PAYLOADS[i % PAYLOADS.length]!;

/** Latency samples (ms) per implementation, filled by the operations and read by the notes. */
interface Samples {
  readonly byImpl: Map<string, number[]>;
  dir?: string;
}

function record(samples: Samples, impl: string, ms: number): void {
  let list = samples.byImpl.get(impl);
  if (list === undefined) {
    list = [];
    samples.byImpl.set(impl, list);
  }
  list.push(ms);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latencyNotes(samples: Samples): string {
  const lines = ['latency, append call to delivery (ms):'];
  for (const [impl, list] of samples.byImpl) {
    const sorted = [...list].sort((a, b) => a - b);
    lines.push(
      `  ${impl.padEnd(22)} n=${String(sorted.length).padStart(5)}  p50=${percentile(sorted, 50).toFixed(3)}  ` +
        `p99=${percentile(sorted, 99).toFixed(3)}  max=${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(3)}`,
    );
  }
  return lines.join('\n');
}

/** Our store with one live subscriber that resolves the waiter of each delivered event's stream. */
interface LiveOurs {
  readonly ours: Ours;
  readonly waiting: Map<string, () => void>;
  readonly samples: Samples;
  readonly impl: string;
  close(): Promise<void>;
}

async function attachSubscriber(ours: Ours, samples: Samples, impl: string): Promise<LiveOurs> {
  const waiting = new Map<string, () => void>();
  const subscription = ours.events.subscribe(
    {},
    { from: 'end', name: 'bench-live' },
    (event: StoredEvent) => {
      const stream = event.stream;
      if (stream === null) return;
      waiting.get(stream)?.();
      waiting.delete(stream);
    },
  );
  subscription.done.catch(() => undefined);
  return {
    ours,
    waiting,
    samples,
    impl,
    async close() {
      await subscription.close();
      await ours.close();
    },
  };
}

/** Appends one event to a new stream and waits for the subscriber to see it. */
async function deliverOurs(live: LiveOurs, i: number): Promise<void> {
  const stream = streamName('live', i);
  const started = performance.now();
  const seen = new Promise<void>((resolve) => live.waiting.set(stream, resolve));
  await live.ours.events.append({ type: ORDER_CREATED, stream, data: payload(i) });
  await seen;
  record(live.samples, live.impl, performance.now() - started);
}

function sqliteDeliveryCase(): AsyncBenchCase {
  return asyncCase<Samples>({
    name: 'deliver 1 event to a live subscriber, SQLite',
    setup: async () => ({ byImpl: new Map(), dir: await mkdtemp(join(tmpdir(), 'bench-live-')) }),
    teardown: async (samples) => {
      if (samples.dir !== undefined) await rm(samples.dir, { recursive: true, force: true });
    },
    notes: latencyNotes,
    impls: [
      asyncImpl<LiveOurs, Samples>({
        impl: 'ours',
        role: 'ours',
        setup: async (samples) =>
          attachSubscriber(await openOursSqlite(join(samples.dir!, 'live.db')), samples, 'ours'),
        fn: deliverOurs,
        teardown: (live) => live.close(),
      }),
      asyncImpl<{ ours: Ours; samples: Samples }, Samples>({
        impl: 'append-only',
        role: 'baseline',
        setup: async (samples) => ({ ours: await openOursSqlite(join(samples.dir!, 'plain.db')), samples }),
        fn: async ({ ours, samples }, i) => {
          const started = performance.now();
          await ours.events.append({ type: ORDER_CREATED, stream: streamName('plain', i), data: payload(i) });
          record(samples, 'append-only', performance.now() - started);
        },
        teardown: ({ ours }) => ours.close(),
      }),
    ],
  });
}

function pgDeliveryCase(withPeer: boolean): AsyncBenchCase {
  const impls = [
    asyncImpl<LiveOurs, Samples>({
      impl: 'ours',
      role: 'ours',
      setup: async (samples) => attachSubscriber(await openOursPg(4), samples, 'ours'),
      fn: deliverOurs,
      teardown: (live) => live.close(),
    }),
  ];
  if (withPeer) {
    impls.push(
      asyncImpl<{ emmett: EmmettLive; samples: Samples }, Samples>({
        impl: 'emmett-postgresql',
        role: 'peer',
        setup: async (samples) => ({ emmett: await openEmmettLive(), samples }),
        fn: async ({ emmett, samples }, i) => {
          const started = performance.now();
          await emmett.deliver(streamName('emmett', i), payload(i));
          record(samples, 'emmett-postgresql', performance.now() - started);
        },
        teardown: ({ emmett }) => emmett.close(),
      }),
    );
  }
  impls.push(
    asyncImpl<{ ours: Ours; samples: Samples }, Samples>({
      impl: 'append-only',
      role: 'baseline',
      setup: async (samples) => ({ ours: await openOursPg(4), samples }),
      fn: async ({ ours, samples }, i) => {
        const started = performance.now();
        await ours.events.append({ type: ORDER_CREATED, stream: streamName('plain', i), data: payload(i) });
        record(samples, 'append-only', performance.now() - started);
      },
      teardown: ({ ours }) => ours.close(),
    }),
  );
  return asyncCase<Samples>({
    name: 'deliver 1 event to a live subscriber, PostgreSQL',
    unavailable: pgUnavailable,
    setup: () => ({ byImpl: new Map() }),
    notes: latencyNotes,
    impls,
  });
}

/** The kept store of the `events-query` suite, loaded when missing, plus per-impl catch-up timings. */
interface CatchUp {
  readonly ours: Ours;
  readonly n: number;
  readonly last: number;
  readonly rates: Map<string, number[]>;
}

async function openCatchUp(kind: 'sqlite' | 'postgres', n: number): Promise<CatchUp> {
  const ours = await openKeptStore(kind, n, 'events-live');
  const newest = await ours.events.query({ order: 'desc', limit: 1 });
  return { ours, n, last: newest.events[0]?.position ?? 0, rates: new Map() };
}

const CATCH_UP_BATCH = 1000;

function catchUpCase(kind: 'sqlite' | 'postgres', n: number): AsyncBenchCase {
  const store = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const size = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  const timed = (c: CatchUp, impl: string, run: () => Promise<number>) => async () => {
    const started = performance.now();
    const seen = await run();
    const seconds = (performance.now() - started) / 1000;
    let list = c.rates.get(impl);
    if (list === undefined) c.rates.set(impl, (list = []));
    list.push(seen / seconds);
    return seen;
  };
  return asyncCase<CatchUp>({
    name: `catch up ${size} events through a subscription, ${store}`,
    ...(kind === 'postgres' ? { unavailable: pgUnavailable } : {}),
    setup: () => openCatchUp(kind, n),
    teardown: (c) => c.ours.close(),
    notes: (c) =>
      [...c.rates]
        .map(([impl, rates]) => {
          const sorted = [...rates].sort((a, b) => a - b);
          return `${impl}: median ${Math.round(percentile(sorted, 50)).toLocaleString('en-US')} events/s over ${sorted.length} catch-ups of ${c.n.toLocaleString('en-US')}`;
        })
        .join('\n'),
    impls: [
      asyncImpl<CatchUp, CatchUp>({
        impl: 'ours',
        role: 'ours',
        setup: (c) => c,
        fn: (c) =>
          timed(c, 'ours (subscribe)', async () => {
            let seen = 0;
            const subscription = c.ours.events.subscribe(
              {},
              { from: 'start', batchSize: CATCH_UP_BATCH, bufferSize: 4 * CATCH_UP_BATCH },
            );
            for await (const event of subscription) {
              seen++;
              if (event.position >= c.last) break;
            }
            return seen;
          })(),
      }),
      asyncImpl<CatchUp, CatchUp>({
        impl: 'readAll-pages',
        role: 'baseline',
        setup: (c) => c,
        fn: (c) =>
          timed(c, 'readAll pages', async () => {
            let seen = 0;
            let after = 0;
            for (;;) {
              const page = await c.ours.events.readAll({ afterPosition: after, limit: CATCH_UP_BATCH });
              seen += page.length;
              const last = page[page.length - 1];
              if (last === undefined || last.position >= c.last) return seen;
              after = last.position;
            }
          })(),
      }),
    ],
  });
}

export default defineSuite(({ quick }) => {
  const n = quick ? 10_000 : 1_000_000;
  return {
    name: 'events-live',
    cases: [
      sqliteDeliveryCase(),
      // Emmett's idle polling backs off to a second per poll: too slow for the smoke run.
      pgDeliveryCase(!quick),
      catchUpCase('sqlite', n),
      catchUpCase('postgres', n),
    ],
  };
});
